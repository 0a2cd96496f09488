#pragma once
// Whole chunks of the input held in memory, least recently used out, from which
// rank 0 assembles regions (docs/design.md §4). HDF5 reads a chunk whole for any
// voxel of it; neighbouring regions overlap by two halos, so without this every
// region reads again each chunk it touches (12.5x the volume's bytes for
// 64x256x256 blocks in 32x256x256 chunks; 1.0x with them held: --read chunks).
// An unchunked input is read in bands of whole rows, one contiguous read each,
// instead of one read per row of a region. Only the file reads take the HDF5
// lock; the assembly does not.

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "h5decon/decomposition.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::dist {

/// Bytes of read units (read_unit()) rank 0 holds (docs/design.md §4): those one
/// row of regions along x touches plus one region's, so that both the next region
/// and the next row find theirs, within a quarter of the plan's budget when it has
/// one; 0 when that quarter cannot hold one region's (regions are then read
/// directly).
std::int64_t chunk_cache_bytes(const DecompositionPlan& plan, const Shape3& unit,
                               std::int64_t sample_bytes);

/// Most chunks a box of `count` voxels touches, wherever it lies in `volume`.
std::int64_t chunks_touched(const Shape3& count, const Shape3& chunk, const Shape3& volume);

/// The box ChunkCache reads whole: the stored chunk (clipped to the volume), or
/// for an unchunked volume a band of whole rows (1 x n x X, about 4 MiB), which is
/// contiguous in the file: one read where a region's rows would be one each.
Shape3 read_unit(const std::optional<Shape3>& chunk, const Shape3& volume,
                 std::int64_t sample_bytes);

class ChunkCache {
 public:
  /// `capacity_bytes`: memory for chunk buffers; 0 reads every box directly.
  ChunkCache(const io::InputDataset& input, std::int64_t capacity_bytes);
  ~ChunkCache();
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  /// Reads the box [offset, offset + count) of volume (c, t) in the input's sample
  /// type into `out`: from held read units, reading the missing ones under
  /// `h5_lock`; directly (under the lock) when the box's units do not fit the
  /// capacity. Returns the seconds spent in HDF5 reads.
  double read(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
              std::span<std::byte> out, std::mutex& h5_lock);

  /// Bytes per sample of the input's sample type (what read() delivers).
  std::size_t sample_bytes() const { return sample_bytes_; }

  /// Bytes read from the file: whole stored chunks (directly read boxes count the
  /// chunks they touch, which HDF5 reads whole), or the boxes of an unchunked input.
  std::int64_t bytes_read() const { return bytes_read_; }

 private:
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
  struct Entry {
    Key key;
    Shape3 origin, extent;  // the chunk's box, clipped to the volume
    std::vector<std::byte> data;
  };

  struct Unit {
    Shape3 shape;                 // read_unit() of the volume
    std::int64_t file_bytes = 0;  // what reading one costs: a stored chunk whole, or the band
    bool stored_chunks = false;   // HDF5 reads whole chunks for direct reads too
    Shape3 stored;                // the stored chunk, unclipped (stored_chunks)
  };
  const Unit& unit_of(std::int64_t c, std::int64_t t, std::mutex& h5_lock);
  double load(std::int64_t c, std::int64_t t, const Shape3& index, const Unit& unit,
              std::mutex& h5_lock);
  void copy_out(const Entry& e, const Shape3& offset, const Shape3& count,
                std::span<std::byte> out) const;

  const io::InputDataset& input_;
  const std::int64_t capacity_;
  const std::size_t sample_bytes_;
  std::map<std::pair<std::int64_t, std::int64_t>, Unit> units_;  // per volume
  std::list<Entry> lru_;  // front: most recently used
  std::map<Key, std::list<Entry>::iterator> index_;
  std::int64_t held_ = 0;
  std::int64_t bytes_read_ = 0;
  int fd_ = -1;  // the input's data file, read-only: whole chunks by pread (-1: HDF5 only)
};

}  // namespace h5decon::dist
