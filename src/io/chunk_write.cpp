// Whole-chunk writes of a box with plain pwrite calls (see chunk_write.hpp).
#include "io/chunk_write.hpp"

#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace h5decon::io::detail {

std::optional<std::vector<ChunkPiece>> chunk_pieces(const Shape3& volume, const Shape3& chunk,
                                                    const Shape3& offset, const Shape3& count) {
  Shape3 chunks;  // chunks of the box per axis
  for (int a = 0; a < 3; ++a) {
    if (chunk[a] <= 0 || count[a] <= 0 || offset[a] < 0 || offset[a] % chunk[a] != 0)
      return std::nullopt;
    const std::int64_t end = offset[a] + count[a];
    if (end > volume[a] || (end % chunk[a] != 0 && end != volume[a])) return std::nullopt;
    chunks[a] = (count[a] + chunk[a] - 1) / chunk[a];
  }
  std::vector<ChunkPiece> pieces;
  pieces.reserve(static_cast<std::size_t>(chunks.size()));
  for (std::int64_t i = 0; i < chunks.z; ++i)
    for (std::int64_t j = 0; j < chunks.y; ++j)
      for (std::int64_t k = 0; k < chunks.x; ++k) {
        ChunkPiece p;
        p.box_offset = {i * chunk.z, j * chunk.y, k * chunk.x};
        for (int a = 0; a < 3; ++a)
          p.count[a] = std::min(chunk[a], count[a] - p.box_offset[a]);
        pieces.push_back(p);
      }
  return pieces;
}

namespace {

// Writes the iovecs from `offset` on, IOV_MAX at a time, resuming after short writes.
int pwritev_all(int fd, std::vector<iovec>& v, std::int64_t offset) {
  std::size_t first = 0;
  while (first < v.size()) {
    const int n = static_cast<int>(std::min<std::size_t>(v.size() - first, IOV_MAX));
    const ssize_t done = ::pwritev(fd, v.data() + first, n, static_cast<off_t>(offset));
    if (done < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (done == 0) return ENOSPC;
    offset += done;
    for (auto left = static_cast<std::size_t>(done); left > 0;) {  // skip what was written
      iovec& head = v[first];
      if (left >= head.iov_len) {
        left -= head.iov_len;
        ++first;
      } else {
        head.iov_base = static_cast<char*>(head.iov_base) + left;
        head.iov_len -= left;
        left = 0;
      }
    }
  }
  return 0;
}

// Adds [p, p + bytes) to `v`, merged with the last segment when it continues it.
void append(std::vector<iovec>& v, const void* p, std::size_t bytes) {
  if (bytes == 0) return;
  if (!v.empty() && static_cast<const char*>(v.back().iov_base) + v.back().iov_len == p) {
    v.back().iov_len += bytes;
    return;
  }
  v.push_back({const_cast<void*>(p), bytes});  // pwritev reads through it only
}

}  // namespace

int pwrite_pieces(int fd, const ChunkWrite& w, std::span<const float> data) {
  const Shape3& box = w.box;
  const Shape3& chunk = w.chunk;
  // Padding of rows and planes cut by the volume's end: zeros from one plane's
  // worth, made only for a box that has such chunks, so that nothing is copied.
  std::vector<float> zeros;
  for (const ChunkPiece& p : w.pieces)
    if (p.count.y < chunk.y || p.count.x < chunk.x)
      zeros.resize(static_cast<std::size_t>(chunk.x * chunk.y));
  std::vector<iovec> v;
  for (const ChunkPiece& p : w.pieces) {
    const float* first =
        data.data() + (p.box_offset.z * box.y + p.box_offset.y) * box.x + p.box_offset.x;
    // The piece's planes in the chunk's layout, row by row; the chunk's planes
    // past the volume's end stay unwritten.
    v.clear();
    for (std::int64_t z = 0; z < p.count.z; ++z) {
      for (std::int64_t y = 0; y < p.count.y; ++y) {
        append(v, first + (z * box.y + y) * box.x, std::size_t(p.count.x) * sizeof(float));
        append(v, zeros.data(), std::size_t(chunk.x - p.count.x) * sizeof(float));
      }
      append(v, zeros.data(), std::size_t((chunk.y - p.count.y) * chunk.x) * sizeof(float));
    }
    if (const int e = pwritev_all(fd, v, p.file_offset)) return e;
  }
  return 0;
}

}  // namespace h5decon::io::detail
