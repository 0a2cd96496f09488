#pragma once
// What a rank does with one block once its region is in memory: deconvolve it
// with a cached engine, crop the interior, write it (independent I/O, under
// the process's HDF5 lock) and call the completion hook.

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "dist/engine_cache.hpp"
#include "h5decon/dist/block_runtime.hpp"

namespace h5decon::dist {

class BlockProcessor {
 public:
  /// `h5_lock` serialises every HDF5 call of this process (HDF5 is not thread-safe).
  BlockProcessor(const DecompositionPlan& plan, EngineCache& engines, io::OutputDataset& output,
                 std::mutex& h5_lock, BlockWrittenHook hook, bool no_compute = false);

  /// Deconvolves `region` (block.region_count voxels, C order), writes the
  /// interior and calls the hook. `poll` runs after every iteration (it may
  /// throw to stop the block). Throws the cause on failure.
  void process(const Block& block, std::span<const float> region, const IterationObserver& poll);

  const RankWork& work() const { return work_; }
  RankWork& work() { return work_; }

 private:
  void crop_interior(const Block& block);

  const DecompositionPlan& plan_;
  EngineCache& engines_;
  io::OutputDataset& output_;
  std::mutex& h5_lock_;
  BlockWrittenHook hook_;
  bool no_compute_ = false;       ///< write the observed data (BlockRunOptions::no_compute)
  std::int64_t fail_block_ = -1;  ///< kFailBlockEnv, for tests
  std::vector<float> result_, interior_;
  RankWork work_;
};

}  // namespace h5decon::dist
