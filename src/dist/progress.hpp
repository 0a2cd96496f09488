#pragma once
// Progress of a block run on rank 0: blocks done/total, voxels per second and
// ETA, as a bar redrawn in place on a terminal or a plain line every few
// seconds in a batch log.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace h5decon::dist {

class Progress {
 public:
  /// `interval_s`: seconds between plain lines; `terminal`: redraw a bar with '\r'.
  Progress(std::int64_t total_blocks, std::int64_t total_voxels, double interval_s, bool terminal,
           std::ostream& os);
  /// Records the counts and prints when it is time to.
  void update(std::int64_t blocks, std::int64_t voxels);
  /// Prints the final state (and ends the bar's line).
  void finish();
  /// Ends the bar's line without a final report (the run failed).
  void abandon();

  /// The text of one report, e.g. "12/48 blocks (25%), 3.2 Mvoxel/s, ETA 14 s".
  static std::string line(std::int64_t blocks, std::int64_t total_blocks, std::int64_t voxels,
                          std::int64_t total_voxels, double seconds);

 private:
  using Clock = std::chrono::steady_clock;
  void print();

  std::int64_t total_blocks_, total_voxels_, blocks_ = 0, voxels_ = 0, printed_blocks_ = -1;
  double interval_s_;
  bool terminal_;
  std::ostream& os_;
  Clock::time_point start_ = Clock::now(), last_ = Clock::now();
};

}  // namespace h5decon::dist
