#pragma once
// The worker side of the block protocol (see protocol.hpp): asks rank 0 for
// blocks one ahead, computes them with a BlockProcessor, reports completion or
// failure, obeys an abort, and leaves only when the server said stop.

#include <mpi.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <span>
#include <vector>

#include "dist/block_processor.hpp"
#include "dist/protocol.hpp"

namespace h5decon::dist {

class BlockWorker {
 public:
  /// Blocks arrive in `type`, the input's sample type.
  /// With `read_region`, the server sends block ids only and the worker reads each
  /// region itself (--read direct).
  BlockWorker(MPI_Comm comm, const DecompositionPlan& plan, const PieceLayout& layout,
              SampleType type, BlockProcessor& processor,
              std::function<bool()> stop_requested = {},
              std::function<void(const Block&, std::span<std::byte>)> read_region = {});
  /// Runs until the server says stop. Block failures are reported to rank 0,
  /// not thrown; anything escaping would leave the server waiting, so nothing does.
  void run() noexcept;

 private:
  /// Where the answer to the outstanding request lands.
  struct Slot {
    Reply reply;
    std::vector<std::byte> data;  // the region in the input's sample type
    Requests header, pieces;
  };
  struct Aborted {};

  void request();
  Reply wait_reply();
  bool compute(const Block& block);
  bool finish_started(std::size_t keep);
  /// DONE for a written block, with the negative input values it had set to 0.
  void report_done(const Block& block, std::int64_t negatives);
  void report_failure(std::int64_t block, std::exception_ptr error);
  /// STOP: this rank was asked to stop; the server starts no further block.
  void report_stop();
  void poll_abort();
  void drain(Reply reply);
  void leave(const Reply& stop);

  MPI_Comm comm_;
  const DecompositionPlan& plan_;
  const PieceLayout& layout_;
  SampleType type_;
  BlockProcessor& processor_;
  Slot next_;
  std::vector<std::byte> current_;
  bool abort_received_ = false;
  std::function<bool()> stop_requested_;
  std::function<void(const Block&, std::span<std::byte>)> read_region_;
  std::exception_ptr read_failure_;  // the last direct read's, thrown as its block's failure
};

}  // namespace h5decon::dist
