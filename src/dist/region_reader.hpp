#pragma once
// Rank 0's read-ahead (docs/design.md §4): a thread that reads the regions of
// the blocks to serve, in serving order, up to `depth` regions ahead of the
// server, so that a worker's request finds its region already in memory and the
// server thread keeps the sends in flight moving while the next region is read.
// Regions are assembled from whole chunks held in a ChunkCache; only the file
// reads take the lock rank 0's threads share for HDF5. Buffers come back
// through recycle() once their sends completed, so a region is not allocated
// (and zero-filled) again per block; at most ReadAhead::kept + 1 of them exist
// (ready, being read or still being sent): the reader waits for one to come
// back rather than make another, which keeps rank 0's memory within its plan.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dist/chunk_cache.hpp"
#include "h5decon/dist/memory_fit.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::dist {

class RegionReader {
 public:
  /// One block's region in the input's sample type, or the error reading it.
  struct Region {
    std::int64_t block = -1;
    std::vector<std::byte> data;
    std::exception_ptr error;
  };

  /// Starts reading blocks[0], blocks[1], ... at once, `sizes.depth` (>= 1) ahead,
  /// with at most `sizes.kept` + 1 region buffers; `chunk_bytes`: the chunk cache's
  /// capacity (chunk_cache_bytes(); 0: regions read directly).
  RegionReader(const DecompositionPlan& plan, const std::vector<std::int64_t>& blocks,
               const io::InputDataset& input, std::mutex& h5_lock, ReadAhead sizes,
               std::int64_t chunk_bytes);
  /// Stops the thread after the read under way, if any (stop()).
  ~RegionReader() { stop(); }
  /// Waits for the read under way, if any, and ends the thread; idempotent.
  void stop();
  RegionReader(const RegionReader&) = delete;
  RegionReader& operator=(const RegionReader&) = delete;

  /// The next region in order once it has been read; nullopt while it is being
  /// read. After an error region, nothing more is read.
  std::optional<Region> try_take();
  /// A buffer whose sends completed, for the next regions.
  void recycle(std::vector<std::byte> buffer);
  /// Seconds spent inside the input's reads (valid once the reader is destroyed
  /// or idle).
  double read_seconds() const;
  /// Bytes read from the file (whole chunks); valid once the reader is stopped.
  std::int64_t file_bytes() const;
  std::size_t depth() const { return depth_; }

 private:
  void loop();

  const DecompositionPlan& plan_;
  const std::vector<std::int64_t>& blocks_;
  std::mutex& h5_lock_;
  const std::size_t depth_;
  const std::size_t kept_;  // region buffers beside the one being read (ReadAhead::kept)
  ChunkCache chunks_;  // the reader thread's only
  mutable std::mutex mutex_;
  std::condition_variable space_;  // the reader waits for room in ready_
  std::deque<Region> ready_;
  std::vector<std::vector<std::byte>> free_;
  std::size_t buffers_ = 0;  // region buffers made so far (at most kept_ + 1)
  std::size_t next_ = 0;  // the next of blocks_ to read
  bool stopping_ = false;
  double read_seconds_ = 0;
  std::thread thread_;  // last: starts once the rest is constructed
};

/// Reads the region of block `region.block` into `region.data` (its buffer
/// reused) through `chunks`, or records the error in `region.error`. Returns the
/// seconds spent in HDF5 reads. Rank 0's one way to read a region, threaded or not.
double read_region(const DecompositionPlan& plan, ChunkCache& chunks, std::mutex& h5_lock,
                   RegionReader::Region& region);

}  // namespace h5decon::dist
