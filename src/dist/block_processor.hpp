#pragma once
// What a rank does with one block once its region is in memory (in the input's
// sample type): convert and check it, deconvolve it with a cached engine, crop
// the interior, write it (whole stored chunks by pwrite outside the process's
// HDF5 lock, any other box by independent HDF5 I/O under it) and
// call the completion hook.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "dist/engine_cache.hpp"
#include "h5decon/dist/block_runtime.hpp"

namespace h5decon::dist {

/// Rank 0's warning about negative input values (set to 0): given once per
/// run, for the first block that had any.
class NegativesWarning {
 public:
  explicit NegativesWarning(std::string input_name) : input_name_(std::move(input_name)) {}
  void add(const Block& block, std::int64_t negatives);

 private:
  std::string input_name_;
  bool given_ = false;
};

class BlockProcessor {
 public:
  /// `h5_lock` serialises every HDF5 call of this process (HDF5 is not thread-safe).
  /// `input` names the data in messages about its values.
  BlockProcessor(const DecompositionPlan& plan, const io::InputDataset& input,
                 EngineCache& engines, io::OutputDataset& output, std::mutex& h5_lock,
                 BlockWrittenHook hook, bool no_compute = false,
                 IterationHook on_iteration = {});

  /// Converts `region` (block.region_count voxels, C order) to float32 (NaN/Inf
  /// refused naming the voxel, negatives set to 0), deconvolves it, writes the
  /// interior and calls the hook. `poll` runs after every iteration (it may
  /// throw to stop the block). Returns the number of negative values set to 0
  /// (rank 0 warns once per run). Throws the cause on failure.
  std::int64_t process(const Block& block, SampleView region, const IterationObserver& poll);

  // The overlapped path (RlEngine::overlaps(), the CUDA engine): submit() starts a
  // block and returns; finish() completes the oldest started block. The worker
  // keeps one block started while it finishes the one before, so a block's
  // upload and the previous one's download run while the GPU computes.

  /// True when `block` goes through submit()/finish() (its engine overlaps).
  bool overlaps(const Block& block);
  /// Starts `block`; the engine converts `region` where it computes. `region`
  /// may be reused when this returns. Throws the cause.
  void submit(const Block& block, SampleView region);
  /// Blocks started and not finished.
  std::size_t pending() const { return pending_.size(); }
  /// The oldest started block.
  const Block& oldest() const { return pending_.front().block; }
  /// Waits for the oldest started block (running `poll` meanwhile, which may
  /// throw), writes its interior and calls the hook. Returns as process() does.
  /// Throws the cause.
  std::int64_t finish(const std::function<void()>& poll);
  /// Forgets every started block without writing it (after a failure).
  void abandon() { pending_.clear(); }

  /// --background auto: every block of volume (c, t) is deconvolved with
  /// backgrounds.at({c, t}) (the whole volume's estimate); empty: the options'.
  void set_volume_backgrounds(std::map<io::VolumeIndex, float> backgrounds) {
    backgrounds_ = std::move(backgrounds);
  }

  const RankWork& work() const { return work_; }
  RankWork& work() { return work_; }

 private:
  struct Pending {
    Block block;
    std::vector<float> result;
    std::unique_ptr<RlTicket> ticket;
  };
  RlEngine& engine_for(const Block& block);
  std::map<io::VolumeIndex, float> backgrounds_;
  void fail_if_injected(const Block& block) const;
  void refuse_nonfinite_values(const Block& block, const SampleCheck& check) const;
  void crop_interior(const Block& block);
  void write_interior(const Block& block);

  const DecompositionPlan& plan_;
  std::string input_name_;  ///< "input 'a.h5:/data'"
  EngineCache& engines_;
  io::OutputDataset& output_;
  std::mutex& h5_lock_;
  BlockWrittenHook hook_;
  bool no_compute_ = false;       ///< write the observed data (BlockRunOptions::no_compute)
  IterationHook on_iteration_;    ///< BlockRunOptions::on_iteration
  std::int64_t fail_block_ = -1;  ///< kFailBlockEnv, for tests
  std::vector<float> observed_, result_, interior_;
  std::deque<Pending> pending_;
  std::vector<std::vector<float>> spare_results_;
  RankWork work_;
};

}  // namespace h5decon::dist
