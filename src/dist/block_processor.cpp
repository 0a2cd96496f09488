// Deconvolution, interior crop and write of one block.
#include "dist/block_processor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int64_t fail_block_from_env() {
  const char* env = std::getenv(kFailBlockEnv);
  if (!env || !*env) return -1;
  try {
    return std::stoll(env);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

BlockProcessor::BlockProcessor(const DecompositionPlan& plan, EngineCache& engines,
                               io::OutputDataset& output, std::mutex& h5_lock,
                               BlockWrittenHook hook, bool no_compute)
    : plan_(plan),
      engines_(engines),
      output_(output),
      h5_lock_(h5_lock),
      hook_(std::move(hook)),
      no_compute_(no_compute),
      fail_block_(fail_block_from_env()) {}

void BlockProcessor::process(const Block& b, std::span<const float> region,
                             const IterationObserver& poll) {
  H5DECON_REQUIRE(static_cast<std::int64_t>(region.size()) == b.region_count.size(), Error,
                  "region of ", region.size(), " voxels, expected ", b.region_count.size());
  auto start = Clock::now();
  result_.resize(region.size());
  const IterationObserver observer = [&](const IterationReport& report) {
    if (b.id == fail_block_ && report.iteration == 1)
      throw IoError(
          detail::concat("failure injected for testing (", kFailBlockEnv, "=", fail_block_, ")"));
    if (poll) poll(report);
  };
  if (no_compute_) {
    std::copy(region.begin(), region.end(), result_.begin());
  } else {
    engines_.get(b.c, b.region_count, b.fft).deconvolve(region, result_, observer);
  }
  crop_interior(b);
  work_.compute_s += seconds_since(start);
  start = Clock::now();
  {
    std::lock_guard lock(h5_lock_);
    output_.write_box(b.c, b.t, b.interior_offset, b.interior_count, interior_);
    if (hook_) hook_(b);
  }
  work_.write_s += seconds_since(start);
  ++work_.blocks;
}

void BlockProcessor::crop_interior(const Block& b) {
  const Shape3& r = b.region_count;
  const Shape3& n = b.interior_count;
  Shape3 from;  // interior origin inside the region
  for (int a = 0; a < 3; ++a) from[a] = b.interior_offset[a] - b.region_offset[a];
  interior_.resize(static_cast<std::size_t>(n.size()));
  float* out = interior_.data();
  for (std::int64_t z = 0; z < n.z; ++z)
    for (std::int64_t y = 0; y < n.y; ++y, out += n.x) {
      const float* row = result_.data() + ((z + from.z) * r.y + (y + from.y)) * r.x + from.x;
      std::copy(row, row + n.x, out);
    }
}

}  // namespace h5decon::dist
