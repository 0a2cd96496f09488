#pragma once
// The server side of the block protocol (see protocol.hpp), run by rank 0
// (in its own thread when rank 0 also computes): hands out blocks in order to
// whichever worker asks (dynamic scheduling), sends each region without
// blocking (read ahead by a RegionReader thread, or in this thread where MPI
// allows no other thread to read), counts completions for the progress report,
// and turns the first failure into an abort of every worker.

#include <mpi.h>

#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include "dist/block_processor.hpp"
#include "dist/progress.hpp"
#include "dist/protocol.hpp"
#include "dist/region_reader.hpp"
#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::dist {

/// How rank 0 gets the regions it serves.
struct ServerReads {
  bool direct = false;         ///< --read direct: block ids only, the workers read
  ReadAhead read_ahead{0, 0};  ///< a reader thread's regions (depth 0: read on request)
  std::int64_t chunk_cache_bytes = 0;  ///< the reader's ChunkCache (0: regions read directly)
};

class BlockServer {
 public:
  /// `workers`: the ranks that will ask for blocks. `h5_lock` serialises HDF5
  /// calls with rank 0's compute thread. A reader thread (reads.read_ahead.depth > 0)
  /// needs MPI_THREAD_MULTIPLE: it calls MPI-IO.
  BlockServer(MPI_Comm comm, const DecompositionPlan& plan, const std::vector<std::int64_t>& blocks,
              const PieceLayout& layout, const io::InputDataset& input, std::mutex& h5_lock,
              const std::vector<int>& workers, Progress& progress, BlockDoneHook on_done = {},
              std::function<bool()> stop_requested = {}, ServerReads reads = {});
  /// Serves until every worker has left. Never throws: failures are recorded.
  void run() noexcept;
  /// The first failure of the run, on any rank.
  const std::optional<Failure>& failure() const { return failure_; }
  /// The rank that asked first to stop before every block was served; -1: none.
  int stop_rank() const { return stop_rank_; }
  std::int64_t blocks_done() const { return done_blocks_; }
  std::int64_t voxels_done() const { return done_voxels_; }
  /// Bytes of regions read and sent.
  std::int64_t bytes_served() const { return bytes_served_; }
  double read_seconds() const { return read_seconds_; }
  /// Regions the reader thread kept ready (0: read on request).
  std::size_t read_ahead() const { return reads_.read_ahead.depth; }
  /// Bytes read from the file for the regions (ChunkCache::bytes_read()).
  std::int64_t file_bytes() const { return file_bytes_ > 0 ? file_bytes_ : chunks_.bytes_read(); }

 private:
  struct WorkerState {
    bool stopped = false;  ///< sent the stop reply
    bool gone = false;     ///< said bye
    bool abort_sent = false;
  };
  /// A reply in flight, with the data it sends.
  struct Outgoing {
    Reply reply;
    std::vector<std::byte> data;  // the region in the input's sample type
    Requests requests;
  };

  bool poll_report();
  void handle(const Report& report, int source);
  void record_done(std::int64_t block);
  bool dispatch();
  bool serve(int worker);
  std::optional<RegionReader::Region> read_next();
  void stop(int worker);
  void fail(Failure failure, int reporter);
  bool reap_sends();
  WorkerState& state(int rank);

  MPI_Comm comm_;
  const DecompositionPlan& plan_;
  const std::vector<std::int64_t>& blocks_;
  const PieceLayout& layout_;
  const io::InputDataset& input_;
  std::mutex& h5_lock_;
  std::vector<int> workers_;
  std::vector<WorkerState> states_;
  Progress& progress_;
  BlockDoneHook on_done_;
  std::size_t next_ = 0;
  std::int64_t done_blocks_ = 0, done_voxels_ = 0, bytes_served_ = 0;
  double read_seconds_ = 0;  // inside read_samples()
  ServerReads reads_;
  ChunkCache chunks_;            // regions read in this thread (no reader thread)
  std::int64_t file_bytes_ = 0;  // the reader thread's, once it stopped
  RegionReader* reader_ = nullptr;  // while run() runs with read-ahead
  std::deque<int> waiting_;          // workers whose request awaits its region
  NegativesWarning negatives_;
  std::size_t gone_ = 0;
  std::optional<Failure> failure_;
  std::function<bool()> stop_requested_;  // rank 0's own request
  int stop_rank_ = -1;
  std::list<Outgoing> outgoing_;
  std::list<std::pair<Abort, Requests>> aborts_;
};

}  // namespace h5decon::dist
