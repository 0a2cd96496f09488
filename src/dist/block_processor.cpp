// Deconvolution, interior crop and write of one block.
#include "dist/block_processor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
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

void NegativesWarning::add(const Block& b, std::int64_t negatives) {
  if (given_ || negatives <= 0) return;
  given_ = true;
  std::cerr << "h5decon: warning: " << negatives_warning(input_name_, b.c, b.t, negatives)
            << std::endl;
}

BlockProcessor::BlockProcessor(const DecompositionPlan& plan, const io::InputDataset& input,
                               EngineCache& engines, io::OutputDataset& output,
                               std::mutex& h5_lock, BlockWrittenHook hook, bool no_compute,
                               IterationHook on_iteration)
    : plan_(plan),
      input_name_(input.description()),
      engines_(engines),
      output_(output),
      h5_lock_(h5_lock),
      hook_(std::move(hook)),
      no_compute_(no_compute),
      on_iteration_(std::move(on_iteration)),
      fail_block_(fail_block_from_env()) {}

std::int64_t BlockProcessor::process(const Block& b, SampleView region,
                                     const IterationObserver& poll) {
  H5DECON_REQUIRE(region.size() == b.region_count.size(), Error, "region of ", region.size(),
                  " voxels, expected ", b.region_count.size());
  const auto start = Clock::now();
  observed_.resize(static_cast<std::size_t>(region.size()));
  const SampleCheck check = convert_samples(region, observed_);
  refuse_nonfinite_values(b, check);
  const IterationObserver observer = [&](const IterationReport& report) {
    if (report.iteration == 1) fail_if_injected(b);
    if (on_iteration_) on_iteration_(b, report);
    if (poll) poll(report);
  };
  if (no_compute_) {
    observed_.swap(result_);  // the converted samples are the result: no copy
  } else {
    result_.resize(observed_.size());
    engine_for(b).deconvolve(observed_, result_, observer);
  }
  crop_interior(b);
  work_.compute_s += seconds_since(start);
  write_interior(b);
  return check.negatives;
}

void BlockProcessor::refuse_nonfinite_values(const Block& b, const SampleCheck& check) const {
  refuse_nonfinite(check, input_name_, b.c, b.t, b.region_offset, b.region_count);
}

void BlockProcessor::write_interior(const Block& b) {
  const auto start = Clock::now();
  // An interior of whole stored chunks (the planner's rule) is written by pwrite
  // at offsets read when the output was opened: no HDF5 call, so it neither waits
  // for rank 0's region reads under the HDF5 lock nor holds them up. Any other
  // box goes through HDF5, under the lock.
  if (const auto placed = output_.place_chunks(b.c, b.t, b.interior_offset, b.interior_count)) {
    output_.write_chunks(*placed, interior_);
  } else {
    std::lock_guard lock(h5_lock_);
    output_.write_box(b.c, b.t, b.interior_offset, b.interior_count, interior_);
  }
  if (hook_) hook_(b);
  work_.write_s += seconds_since(start);
  ++work_.blocks;
}

// Out of memory making an engine: the cached engines of other shapes hold
// memory; give it all back and try once more.
RlEngine& BlockProcessor::engine_for(const Block& b) {
  RlEngine* engine = nullptr;
  try {
    engine = &engines_.get(b.c, b.region_count, b.fft);
  } catch (const OutOfMemoryError&) {
    if (engines_.size() == 0) throw;
    engines_.clear();
    engine = &engines_.get(b.c, b.region_count, b.fft);
  }
  if (!backgrounds_.empty()) {
    const auto it = backgrounds_.find(io::VolumeIndex{b.c, b.t});
    H5DECON_REQUIRE(it != backgrounds_.end(), Error, "block ", b.id, ": no background for (c=",
                    b.c, ", t=", b.t, ")");
    engine->set_background(it->second);
  }
  return *engine;
}

void BlockProcessor::fail_if_injected(const Block& b) const {
  if (b.id == fail_block_)
    throw IoError(
        detail::concat("failure injected for testing (", kFailBlockEnv, "=", fail_block_, ")"));
}

bool BlockProcessor::overlaps(const Block& b) {
  return !no_compute_ && !on_iteration_ && engine_for(b).overlaps();
}

void BlockProcessor::submit(const Block& b, SampleView region) {
  H5DECON_REQUIRE(region.size() == b.region_count.size(), Error, "region of ", region.size(),
                  " voxels, expected ", b.region_count.size());
  const auto start = Clock::now();
  fail_if_injected(b);
  Pending p{b, {}, nullptr};
  if (!spare_results_.empty()) {
    p.result = std::move(spare_results_.back());
    spare_results_.pop_back();
  }
  p.result.resize(static_cast<std::size_t>(region.size()));
  p.ticket = engine_for(b).deconvolve_samples_async(region, p.result);
  pending_.push_back(std::move(p));
  work_.compute_s += seconds_since(start);
}

std::int64_t BlockProcessor::finish(const std::function<void()>& poll) {
  H5DECON_REQUIRE(!pending_.empty(), Error, "BlockProcessor::finish: no block was started");
  const auto start = Clock::now();
  pending_.front().ticket->wait(poll);
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  const SampleCheck check = p.ticket->input_check();
  refuse_nonfinite_values(p.block, check);
  std::swap(result_, p.result);  // crop_interior reads result_
  crop_interior(p.block);
  std::swap(result_, p.result);
  spare_results_.push_back(std::move(p.result));
  work_.compute_s += seconds_since(start);
  write_interior(p.block);
  return check.negatives;
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
