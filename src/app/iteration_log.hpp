#pragma once
// `run --log-iterations K`: what the RL iterations of each block (or, in exact
// mode, each volume) did. Every K-th iteration gives a line, and each block one
// when it ends, on the rank that computed it; the end of the run one line on
// rank 0 for all blocks (iterations run, how many met --stop-rel-change, last
// relative change). K = 1 traces every iteration of a one-block volume; a K
// above the iteration count leaves one line per block.

#include <mpi.h>

#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>

#include "h5decon/backend.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::app {

/// Which block or volume a report is about; block < 0: a whole volume (exact mode).
struct IterationSource {
  std::int64_t block = -1, c = 0, t = 0;
  std::string str() const;  ///< "block 3 (c 0, t 1)" or "volume (c 0, t 1)"
};

/// The line of one iteration: "block 3 (c 0, t 1) iteration 5/20: relative change
/// 1.234e-02[, alpha 0.712]" (alpha only with --accel).
std::string iteration_line(const IterationSource& s, const IterationReport& r, const RlOptions& rl);

/// The line of a block's last iteration: "block 3 (c 0, t 1): 12 iterations, last
/// relative change 9.8e-04[, below --stop-rel-change 0.001]".
std::string block_line(const IterationSource& s, const IterationReport& r, const RlOptions& rl);

/// Records the iteration reports of one rank's blocks and prints as configured.
class IterationLog {
 public:
  /// `every` (>= 1): print every `every`-th iteration. `records`: false on ranks
  /// whose reports another rank records already (exact mode: all but rank 0).
  /// `terminal`: `out` is a terminal that may show rank 0's progress bar, which
  /// each line first erases (the bar is redrawn at its next update).
  IterationLog(int every, const RlOptions& rl, std::ostream& out, bool records = true,
               bool terminal = false);

  /// Takes one report (thread-safe).
  void record(const IterationSource& s, const IterationReport& r);

  /// Collective over `comm`: on rank 0 the line about every recorded block,
  /// "iterations: 6 blocks, 7 to 20 (mean 11.5); 5 below --stop-rel-change 0.001;
  /// last relative change 8.1e-04 to 1.2e-03"; "" on other ranks or when no
  /// block was recorded.
  std::string summary(MPI_Comm comm) const;

 private:
  int every_;
  RlOptions rl_;
  std::ostream& out_;
  bool records_;
  const char* line_start_;  ///< "" or the erasure of a progress bar
  bool volumes_ = false;    ///< the sources were whole volumes (exact mode)
  mutable std::mutex mutex_;
  // Over the finished blocks of this rank.
  std::int64_t blocks_ = 0, iterations_ = 0, met_ = 0;
  int min_iterations_ = 0, max_iterations_ = 0;
  double min_change_ = 0, max_change_ = 0;
};

}  // namespace h5decon::app
