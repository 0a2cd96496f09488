#pragma once
// The distributed block runtime (docs/design.md §4): rank 0 serves the blocks of a
// decomposition plan to every computing rank (itself included), each rank
// deconvolves its blocks and writes their interiors to the output.
//
// Error contract of every collective call here: it never hangs; a failure on
// any rank ends the call on every rank; the failure is thrown on rank 0 (naming
// rank, block and cause) and possibly on the rank where it happened, while the
// other ranks return normally. Callers agree on the outcome (agree_on) before
// their next collective call.

#include <mpi.h>

#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::dist {

/// Default largest MPI message; bigger blocks travel in pieces (MPI counts are ints).
inline constexpr std::int64_t kDefaultMaxMessageBytes = std::int64_t{1} << 30;

/// Environment variable that lowers the largest message (tests of the split path).
inline constexpr const char* kMaxMessageEnv = "H5DECON_MAX_MESSAGE_BYTES";

/// Environment variable naming a block id whose computation fails (tests of error handling).
inline constexpr const char* kFailBlockEnv = "H5DECON_TEST_FAIL_BLOCK";

/// `fraction` of this node's physical memory shared among the ranks on the node
/// (MPI_COMM_TYPE_SHARED); the smallest value over all ranks of `comm`, so every
/// rank plans with the same budget. Collective.
std::int64_t auto_memory_budget(MPI_Comm comm, double fraction = 0.5);

/// Called on the rank that wrote a block, right after its interior was written
/// (outside the process's HDF5 lock: it must not call HDF5): the place for a
/// completion record.
using BlockWrittenHook = std::function<void(const Block& block)>;

/// Called on rank 0 (from its serving thread) once the rank that wrote block
/// `id` reported it written, i.e. after its write call returned there: the place
/// for a journal of finished blocks. A throw fails the run like a block failure.
using BlockDoneHook = std::function<void(std::int64_t id)>;

/// Called on the rank computing `block` after each of its RL iterations: the
/// place for an iteration log. Setting it keeps the CUDA engine off its
/// overlapped path, which reports no iterations. A throw fails the block.
using IterationHook = std::function<void(const Block& block, const IterationReport& report)>;

/// Settings of one block run; identical on every rank.
struct BlockRunOptions {
  RlOptions rl;
  std::string backend = "cpu";  ///< make_backend() kind, already resolved ("cpu")
  BackendOptions backend_options;
  /// Blocks to compute, served in this order; empty: every block of the plan.
  std::vector<std::int64_t> blocks;
  double progress_interval_s = 10;  ///< plain progress lines when stdout is not a terminal
  /// Largest MPI message; 0: kMaxMessageEnv from rank 0's environment, else the default.
  std::int64_t max_message_bytes = 0;
  BlockWrittenHook on_block_written;
  BlockDoneHook on_block_done;
  /// Polled by every rank between blocks (and by rank 0's server as it serves):
  /// once true anywhere, no further block is started; the blocks in progress are
  /// finished and written, and run() returns with BlockRunSummary::stopped.
  std::function<bool()> stop_requested;
  IterationHook on_iteration;
  /// Diagnostic: skip the deconvolution and write each interior of the observed
  /// data, to measure serving and writing alone.
  bool no_compute = false;
  /// --read direct: each rank reads its blocks' regions itself through parallel
  /// HDF5 and rank 0 only schedules; false: rank 0 reads and sends them (served).
  bool direct_reads = false;
  /// --read chunks: rank 0 assembles the regions from whole chunks it holds
  /// (ChunkCache), reading each chunk from the file once while it is held.
  bool chunk_reads = false;
  /// --background auto: the background of each (c, t) volume, estimated once from
  /// the whole volume and given to every block of it; empty: the options' value.
  std::map<io::VolumeIndex, float> backgrounds;
};

/// What one rank did, for the report on rank 0.
struct RankWork {
  std::int64_t blocks = 0;
  double compute_s = 0;  ///< deconvolution, engine set-up included
  double write_s = 0;    ///< writing interiors (HDF5 lock waits included)
  double wait_s = 0;     ///< waiting for the next block: time lost to I/O or scheduling
};

/// Outcome of a run, complete on rank 0 (other ranks: their own entry only).
struct BlockRunSummary {
  std::int64_t blocks = 0, voxels = 0;  ///< blocks and interior voxels written
  double seconds = 0;
  bool rank0_computes = true;  ///< false without MPI_THREAD_MULTIPLE on more than one rank
  std::int64_t max_message_bytes = 0;
  std::int64_t bytes_served = 0;  ///< regions (halos included) rank 0 read and handed out
  double read_seconds = 0;        ///< rank 0's time inside the input's region reads
  std::size_t read_ahead = 0;     ///< regions rank 0 kept read ahead of the requests (0: read on request)
  int rank0_cpus = 0;             ///< CPUs rank 0 may run on (its affinity mask; 0: unknown)
  std::int64_t file_bytes = 0;    ///< bytes rank 0 read from the file for them (whole chunks)
  std::int64_t chunk_cache_bytes = 0;  ///< rank 0's ChunkCache (--read chunks, unchunked inputs)
  bool direct_reads = false;      ///< --read direct: each rank read its own regions
  std::int64_t volume_bytes = 0;  ///< the stored bytes of the volumes run (amplification's base)
  std::string sample_type;        ///< the type they travelled in, e.g. "uint16"
  /// Rank 0: a stop was requested (BlockRunOptions::stop_requested) before every
  /// block was served; the rank that asked first (-1: none).
  bool stopped = false;
  int stop_rank = -1;
  std::vector<RankWork> ranks;
  /// One line per rank and a total line.
  std::string str() const;
};

/// The runtime of one `run`: backend, engines and the serving protocol.
class BlockRuntime {
 public:
  /// Local (no communication): makes this rank's backend; throws when that fails.
  /// `psfs` holds one prepared PSF per channel; `plan` must be the same on every rank.
  BlockRuntime(MPI_Comm comm, const DecompositionPlan& plan, std::vector<Psf> psfs,
               BlockRunOptions options);
  ~BlockRuntime();
  BlockRuntime(const BlockRuntime&) = delete;
  BlockRuntime& operator=(const BlockRuntime&) = delete;

  /// This rank's backend, e.g. "cpu (fftw3f, 2 threads)".
  std::string backend_name() const;

  /// Collective. Rank 0 plans every FFT shape the blocks need and shares its FFTW
  /// wisdom, so that every rank uses the same plans and a block gives the same
  /// bits on any rank and any rank count. Only rank 0 reads and writes the
  /// wisdom file. Returns the number of FFT shapes planned (0 on one rank, where
  /// the backend plans as it goes). Throws on rank 0 when planning failed there.
  std::size_t share_fft_plans();

  /// Collective. Serves, deconvolves and writes every block. Rank 0 reads `input`
  /// (other ranks never touch it); every rank writes to `output` (independent
  /// I/O); finish() is left to the caller. See the error contract above.
  BlockRunSummary run(const io::InputDataset& input, io::OutputDataset& output);

  /// Local. Prepares another run() with the same plan, PSFs, backend and RL
  /// options (a batch's next input, `run --inputs`): `options` replaces the
  /// per-run settings (blocks, hooks, backgrounds, reads); the engines made so far
  /// (OTFs, buffers, FFT plans) are kept and reused.
  void next_run(BlockRunOptions options);
  /// Engines made by this runtime so far, over all its runs (this rank).
  std::int64_t engines_made() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Each rank's `text`, gathered on rank 0 as "all 4 ranks: X" when they agree,
/// else "rank 0: X; rank 1: Y; ..." (empty on other ranks). Collective.
std::string describe_per_rank(MPI_Comm comm, const std::string& text);

}  // namespace h5decon::dist
