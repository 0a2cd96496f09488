// Progress lines and the terminal bar of a block run.
#include "dist/progress.hpp"

#include <iomanip>
#include <sstream>

namespace h5decon::dist {

Progress::Progress(std::int64_t total_blocks, std::int64_t total_voxels, double interval_s,
                   bool terminal, std::ostream& os)
    : total_blocks_(total_blocks),
      total_voxels_(total_voxels),
      interval_s_(interval_s),
      terminal_(terminal),
      os_(os) {}

std::string Progress::line(std::int64_t blocks, std::int64_t total_blocks, std::int64_t voxels,
                           std::int64_t total_voxels, double seconds) {
  std::ostringstream os;
  const double fraction = total_voxels > 0 ? double(voxels) / double(total_voxels) : 1.0;
  const double rate = seconds > 0 ? double(voxels) / seconds : 0.0;
  os << blocks << "/" << total_blocks << " blocks (" << std::fixed << std::setprecision(0)
     << 100.0 * fraction << "%), " << std::setprecision(2) << rate / 1e6 << " Mvoxel/s";
  if (blocks < total_blocks) {
    if (rate > 0)
      os << ", ETA " << std::setprecision(0) << double(total_voxels - voxels) / rate << " s";
    else
      os << ", ETA unknown";
  } else {
    os << ", " << std::setprecision(1) << seconds << " s";
  }
  return os.str();
}

void Progress::update(std::int64_t blocks, std::int64_t voxels) {
  blocks_ = blocks;
  voxels_ = voxels;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  // The bar follows every change (at most 5 redraws a second); lines are periodic.
  const bool due = terminal_ ? blocks_ != printed_blocks_ && since >= 0.2 : since >= interval_s_;
  if (!due) return;
  last_ = now;
  print();
}

void Progress::print() {
  const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  const std::string text = line(blocks_, total_blocks_, voxels_, total_voxels_, seconds);
  printed_blocks_ = blocks_;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled =
        total_blocks_ > 0 ? static_cast<int>(kWidth * blocks_ / total_blocks_) : kWidth;
    os_ << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
        << std::string(static_cast<std::size_t>(kWidth - filled), '.') << "] " << text << "   "
        << std::flush;
  } else {
    os_ << "progress: " << text << std::endl;
  }
}

void Progress::abandon() {
  if (terminal_ && printed_blocks_ >= 0) os_ << std::endl;
}

void Progress::finish() {
  if (printed_blocks_ != blocks_) print();
  if (terminal_) os_ << std::endl;
}

}  // namespace h5decon::dist
