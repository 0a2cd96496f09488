#pragma once
// The messages between the block server (rank 0) and the workers (every
// computing rank, rank 0's compute thread included), and the MPI helpers they
// travel with: nonblocking request sets, block data in pieces of bounded size,
// and failures that cross ranks without losing their type.
//
// Conversation of one worker (each arrow one message):
//   worker -> server  REQUEST                      (asks for its next block)
//   server -> worker  REPLY{block id} + DATA pieces (the region, in the input's sample type)
//                  or REPLY{stop}                   (no more work, or the run failed)
//   worker -> server  DONE{block, voxels, negatives} after writing, ERROR{block, cause} on failure,
//                     STOP when asked to stop (SIGTERM): the server starts no further block,
//                     BYE after the stop reply: the server ends when every worker said BYE.
//   server -> worker  ABORT, unasked, when another rank failed: the worker polls
//                     for it between iterations; the stop reply says whether one was
//                     sent, so the worker always receives it before leaving.
// A worker sends its next REQUEST when it starts computing a block, so its next
// block arrives while it computes (one block ahead). The receives for the reply
// and the data are posted together with the request.

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "h5decon/decomposition.hpp"

namespace h5decon::dist {

/// Message tags (on the runtime's own duplicate communicator).
enum Tag : int { kTagReport = 101, kTagReply = 102, kTagData = 103, kTagAbort = 104 };

/// Worker -> server.
struct Report {
  enum Kind : std::int64_t { kRequest = 1, kDone = 2, kError = 3, kBye = 4, kStop = 5 };
  std::int64_t kind = kRequest;
  std::int64_t block = -1;
  std::int64_t voxels = 0;       ///< done: interior voxels written
  std::int64_t negatives = 0;    ///< done: negative input values set to 0 in the block
  std::int64_t error_class = 0;  ///< error: see classify()
  char text[2048] = {};          ///< error: the cause, NUL-terminated
};

/// Server -> worker: the answer to a request.
struct Reply {
  enum Kind : std::int64_t { kBlock = 1, kStop = 2 };
  std::int64_t kind = kStop;
  std::int64_t block = -1;
  std::int64_t abort_sent = 0;  ///< stop: an ABORT was sent to this worker earlier
};

/// Server -> worker, unasked: stop computing, the run failed elsewhere.
struct Abort {
  std::int64_t failed_rank = -1;
  std::int64_t block = -1;
};

/// A failure as it travels to rank 0.
struct Failure {
  int rank = -1;
  std::int64_t block = -1;  ///< -1: not tied to a block
  int error_class = 0;      ///< see classify()
  std::string message;      ///< cause, with the block described in front
};

/// The h5decon error type of an exception as a number (1 InputError, 2 IoError,
/// 3 BackendError, 0 anything else) and its message.
int classify(std::exception_ptr error);
std::string message_of(std::exception_ptr error);

/// Throws the failure as its original error type, "rank R: <message>".
[[noreturn]] void throw_failure(const Failure& failure);

/// "block 4 (c=1 t=1, grid index 0,1,2 of 1x3x3)", as used in every message.
std::string describe_block(const DecompositionPlan& plan, const Block& block);

/// How a region of up to `max_bytes` bytes is cut into messages of at most
/// `max_message_bytes`: always the same number of pieces, so receives can be
/// posted before the block (and so its size) is known; trailing pieces may be empty.
class PieceLayout {
 public:
  PieceLayout(std::int64_t max_bytes, std::int64_t max_message_bytes);
  std::int64_t pieces() const { return pieces_; }
  std::int64_t piece_bytes() const { return piece_bytes_; }
  /// Bytes of piece `i` of a region of `bytes` bytes.
  int count(std::int64_t i, std::int64_t bytes) const;

 private:
  std::int64_t piece_bytes_ = 1, pieces_ = 1;
};

/// Nonblocking requests owned together. Destruction cancels and completes any
/// still outstanding (local, never collective).
class Requests {
 public:
  Requests() = default;
  ~Requests();
  Requests(const Requests&) = delete;
  Requests& operator=(const Requests&) = delete;
  Requests(Requests&& other) noexcept : r_(std::move(other.r_)) { other.r_.clear(); }
  Requests& operator=(Requests&& other) = delete;

  void add(MPI_Request request) { r_.push_back(request); }
  /// True when every request completed (they are then released).
  bool test();
  /// Waits for every request, sleeping briefly between tests (no busy spin).
  void wait();
  /// Cancels the unfinished requests and completes all.
  void cancel();

 private:
  std::vector<MPI_Request> r_;
};

/// Posts the receives of one region's pieces from rank 0 into `buffer`.
void post_piece_receives(MPI_Comm comm, const PieceLayout& layout, std::span<std::byte> buffer,
                         Requests& requests);
/// Sends `data` to `dest` as layout.pieces() messages.
void send_pieces(MPI_Comm comm, const PieceLayout& layout, std::span<const std::byte> data,
                 int dest, Requests& requests);

/// Sends a report to rank 0 (blocking; small).
void send_report(MPI_Comm comm, const Report& report);

/// Lets other threads and processes run while polling.
void sleep_briefly();

}  // namespace h5decon::dist
