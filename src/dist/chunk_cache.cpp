// Rank 0's cache of whole input chunks.
#include "dist/chunk_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "h5decon/error.hpp"
#include "h5decon/samples.hpp"

namespace h5decon::dist {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Reads `out` whole from `offset`; false on any error or short file (the caller
// then reads through HDF5, which names the problem).
bool pread_all(int fd, std::span<std::byte> out, std::int64_t offset) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::int64_t chunks_touched(const Shape3& count, const Shape3& chunk, const Shape3& volume) {
  std::int64_t n = 1;
  for (int a = 0; a < 3; ++a)
    n *= count[a] <= 0 ? 0
                       : std::min((count[a] - 1) / chunk[a] + 2, (volume[a] + chunk[a] - 1) / chunk[a]);
  return n;
}

Shape3 read_unit(const std::optional<Shape3>& chunk, const Shape3& volume,
                 std::int64_t sample_bytes) {
  Shape3 unit;
  if (chunk) {
    unit = *chunk;
  } else {
    constexpr std::int64_t kBandBytes = std::int64_t{4} << 20;
    const std::int64_t row = std::max<std::int64_t>(1, volume.x * sample_bytes);
    unit = {1, std::max<std::int64_t>(1, kBandBytes / row), volume.x};
  }
  for (int a = 0; a < 3; ++a)
    unit[a] = std::clamp<std::int64_t>(unit[a], 1, std::max<std::int64_t>(volume[a], 1));
  return unit;
}

std::int64_t chunk_cache_bytes(const DecompositionPlan& plan, const Shape3& unit,
                               std::int64_t sample_bytes) {
  const Shape3 volume = plan.dataset.volume;
  const std::int64_t unit_bytes = unit.size() * sample_bytes;
  const std::int64_t region = chunks_touched(plan.max_region, unit, volume);
  Shape3 row = plan.max_region;
  row.x = volume.x;
  const std::int64_t wanted = (chunks_touched(row, unit, volume) + region) * unit_bytes;
  if (plan.memory_budget_bytes <= 0) return wanted;
  const std::int64_t quarter = plan.memory_budget_bytes / 4;
  if (quarter < region * unit_bytes) return 0;
  return std::min(wanted, quarter);
}

ChunkCache::ChunkCache(const io::InputDataset& input, std::int64_t capacity_bytes)
    : input_(input),
      capacity_(capacity_bytes),
      sample_bytes_(static_cast<std::size_t>(h5decon::sample_bytes(input.sample_type()))),
      fd_(capacity_bytes > 0 ? ::open(input.data_file().c_str(), O_RDONLY | O_CLOEXEC) : -1) {}

ChunkCache::~ChunkCache() {
  if (fd_ >= 0) ::close(fd_);
}

const ChunkCache::Unit& ChunkCache::unit_of(std::int64_t c, std::int64_t t, std::mutex& h5_lock) {
  const auto key = std::make_pair(c, t);
  if (const auto it = units_.find(key); it != units_.end()) return it->second;
  std::optional<Shape3> chunk;
  {
    std::lock_guard lock(h5_lock);
    chunk = input_.chunk_shape(c, t);
  }
  Unit unit;
  unit.shape = read_unit(chunk, input_.shape().volume, std::int64_t(sample_bytes_));
  unit.stored_chunks = chunk.has_value();
  if (chunk) unit.stored = *chunk;
  unit.file_bytes = (chunk ? chunk->size() : unit.shape.size()) * std::int64_t(sample_bytes_);
  return units_[key] = unit;
}

double ChunkCache::read(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
                        std::span<std::byte> out, std::mutex& h5_lock) {
  H5DECON_REQUIRE(out.size() == static_cast<std::size_t>(count.size()) * sample_bytes_, Error,
                  "chunk cache: a buffer of ", out.size(), " bytes for a box of ", count.str());
  const Unit& unit = unit_of(c, t, h5_lock);
  const Shape3& chunk = unit.shape;
  Shape3 first, last;  // units the box touches
  for (int a = 0; a < 3; ++a) {
    first[a] = offset[a] / chunk[a];
    last[a] = (offset[a] + count[a] - 1) / chunk[a];
  }
  if (count.size() == 0 || chunks_touched(count, chunk, input_.shape().volume) * chunk.size() *
                                   std::int64_t(sample_bytes_) >
                               capacity_) {
    std::lock_guard lock(h5_lock);
    const auto start = std::chrono::steady_clock::now();
    input_.read_samples(c, t, offset, count, out);
    // HDF5 reads every chunk the box touches whole (its cache holds four).
    bytes_read_ += unit.stored_chunks && count.size() > 0
                       ? (last.z - first.z + 1) * (last.y - first.y + 1) * (last.x - first.x + 1) *
                             unit.file_bytes
                       : static_cast<std::int64_t>(out.size());
    return seconds_since(start);
  }
  // Held chunks of this box first become the most recent, so that loading the
  // missing ones evicts only chunks of other boxes (the capacity holds a box's).
  std::vector<Shape3> missing;
  for (std::int64_t z = first.z; z <= last.z; ++z)
    for (std::int64_t y = first.y; y <= last.y; ++y)
      for (std::int64_t x = first.x; x <= last.x; ++x) {
        const auto it = index_.find(Key{c, t, z, y, x});
        if (it == index_.end())
          missing.push_back({z, y, x});
        else
          lru_.splice(lru_.begin(), lru_, it->second);
      }
  double seconds = 0;
  for (const Shape3& index : missing) seconds += load(c, t, index, unit, h5_lock);
  for (std::int64_t z = first.z; z <= last.z; ++z)
    for (std::int64_t y = first.y; y <= last.y; ++y)
      for (std::int64_t x = first.x; x <= last.x; ++x)
        copy_out(*index_.at(Key{c, t, z, y, x}), offset, count, out);
  return seconds;
}

// Reads chunk `index` of volume (c, t) into the front of the list, evicting the
// least recently used chunks beyond the capacity (their buffers reused).
double ChunkCache::load(std::int64_t c, std::int64_t t, const Shape3& index, const Unit& unit,
                        std::mutex& h5_lock) {
  const Shape3& chunk = unit.shape;
  const Shape3 volume = input_.shape().volume;
  Entry e;
  e.key = Key{c, t, index.z, index.y, index.x};
  for (int a = 0; a < 3; ++a) {
    e.origin[a] = index[a] * chunk[a];
    e.extent[a] = std::min(chunk[a], volume[a] - e.origin[a]);
  }
  const auto bytes = static_cast<std::size_t>(e.extent.size()) * sample_bytes_;
  while (!lru_.empty() && held_ + std::int64_t(bytes) > capacity_) {
    Entry& old = lru_.back();
    held_ -= static_cast<std::int64_t>(old.data.size());
    index_.erase(old.key);
    if (e.data.capacity() < old.data.capacity()) e.data = std::move(old.data);
    lru_.pop_back();
  }
  e.data.resize(bytes);
  // A whole stored chunk whose bytes are the samples is read with one pread at
  // its offset, outside the HDF5 lock and without HDF5's copy; any other unit
  // (a chunk cut by the volume's end, filtered, another type) through HDF5.
  std::optional<std::int64_t> offset;
  if (fd_ >= 0 && unit.stored_chunks && e.extent == unit.stored) {
    std::lock_guard lock(h5_lock);
    offset = input_.chunk_offset(c, t, e.origin);
  }
  const auto start = std::chrono::steady_clock::now();
  if (!offset || !pread_all(fd_, e.data, *offset)) {
    std::lock_guard lock(h5_lock);
    input_.read_samples(c, t, e.origin, e.extent, e.data);
  }
  const double seconds = seconds_since(start);
  bytes_read_ += unit.stored_chunks ? unit.file_bytes : std::int64_t(bytes);
  held_ += static_cast<std::int64_t>(bytes);
  lru_.push_front(std::move(e));
  index_[lru_.front().key] = lru_.begin();
  return seconds;
}

// The part of held chunk `e` inside the box [offset, offset + count), row by row.
void ChunkCache::copy_out(const Entry& e, const Shape3& offset, const Shape3& count,
                          std::span<std::byte> out) const {
  Shape3 lo, hi;
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::max(offset[a], e.origin[a]);
    hi[a] = std::min(offset[a] + count[a], e.origin[a] + e.extent[a]);
  }
  const std::size_t row = static_cast<std::size_t>(hi.x - lo.x) * sample_bytes_;
  for (std::int64_t z = lo.z; z < hi.z; ++z)
    for (std::int64_t y = lo.y; y < hi.y; ++y) {
      const std::int64_t from =
          ((z - e.origin.z) * e.extent.y + (y - e.origin.y)) * e.extent.x + (lo.x - e.origin.x);
      const std::int64_t to = ((z - offset.z) * count.y + (y - offset.y)) * count.x + (lo.x - offset.x);
      std::memcpy(out.data() + static_cast<std::size_t>(to) * sample_bytes_,
                  e.data.data() + static_cast<std::size_t>(from) * sample_bytes_, row);
    }
}

}  // namespace h5decon::dist
