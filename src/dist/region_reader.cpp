// Rank 0's read-ahead thread.
#include "dist/region_reader.hpp"

#include <algorithm>


namespace h5decon::dist {

RegionReader::RegionReader(const DecompositionPlan& plan, const std::vector<std::int64_t>& blocks,
                           const io::InputDataset& input, std::mutex& h5_lock, ReadAhead sizes,
                           std::int64_t chunk_bytes)
    : plan_(plan),
      blocks_(blocks),
      h5_lock_(h5_lock),
      depth_(std::max<std::size_t>(1, sizes.depth)),
      kept_(sizes.kept),
      chunks_(input, chunk_bytes),
      thread_([this] { loop(); }) {}

void RegionReader::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RegionReader::loop() {
  for (;;) {
    Region region;
    {
      std::unique_lock lock(mutex_);
      // Room in ready_, and a free buffer or room for one more: at most kept_ + 1
      // region buffers exist, whether ready, being read or still being sent.
      space_.wait(lock, [this] {
        return stopping_ || (ready_.size() < depth_ && (!free_.empty() || buffers_ <= kept_));
      });
      if (stopping_ || next_ >= blocks_.size()) return;
      region.block = blocks_[next_++];
      if (!free_.empty()) {
        region.data = std::move(free_.back());
        free_.pop_back();
      } else {
        ++buffers_;
      }
    }
    const double seconds = read_region(plan_, chunks_, h5_lock_, region);
    std::lock_guard lock(mutex_);
    read_seconds_ += seconds;
    const bool failed = static_cast<bool>(region.error);
    ready_.push_back(std::move(region));
    if (failed) return;  // the server fails the run on it
  }
}

double read_region(const DecompositionPlan& plan, ChunkCache& chunks, std::mutex& h5_lock,
                   RegionReader::Region& region) {
  try {
    const Block block = block_at(plan, region.block);
    region.data.resize(static_cast<std::size_t>(block.region_count.size()) * chunks.sample_bytes());
    return chunks.read(block.c, block.t, block.region_offset, block.region_count, region.data,
                       h5_lock);
  } catch (...) {
    region.error = std::current_exception();
    return 0;
  }
}

std::optional<RegionReader::Region> RegionReader::try_take() {
  std::optional<Region> region;
  {
    std::lock_guard lock(mutex_);
    if (ready_.empty()) return std::nullopt;
    region = std::move(ready_.front());
    ready_.pop_front();
  }
  space_.notify_one();
  return region;
}

void RegionReader::recycle(std::vector<std::byte> buffer) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(buffer));
  }
  space_.notify_all();
}

std::int64_t RegionReader::file_bytes() const { return chunks_.bytes_read(); }

double RegionReader::read_seconds() const {
  std::lock_guard lock(mutex_);
  return read_seconds_;
}

}  // namespace h5decon::dist
