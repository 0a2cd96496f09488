// Whole-chunk writes of a box with plain pwrite calls (see chunk_write.hpp).
#include "io/chunk_write.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace h5decon::io::detail {
namespace {

// pwrite until every byte is written; 0 or an errno.
int pwrite_all(int fd, const void* data, std::size_t bytes, std::int64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd, p, bytes, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;
    p += n;
    bytes -= static_cast<std::size_t>(n);
    offset += n;
  }
  return 0;
}

}  // namespace

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

int pwrite_pieces(int fd, const ChunkWrite& w, std::span<const float> data) {
  const Shape3& box = w.box;
  const Shape3& chunk = w.chunk;
  std::vector<float> staged;  // allocated only for pieces that are not runs of planes
  for (const ChunkPiece& p : w.pieces) {
    const float* first = data.data() + (p.box_offset.z * box.y + p.box_offset.y) * box.x +
                         p.box_offset.x;
    // The piece's planes are whole in the chunk and contiguous in the box: one
    // write of its planes; the chunk's planes past the volume's end stay unwritten.
    if (p.count.y == chunk.y && p.count.x == chunk.x && box.y == chunk.y && box.x == chunk.x) {
      const auto bytes = static_cast<std::size_t>(p.count.size()) * sizeof(float);
      if (const int e = pwrite_all(fd, first, bytes, p.file_offset)) return e;
      continue;
    }
    staged.assign(static_cast<std::size_t>(p.count.z * chunk.y * chunk.x), 0.0f);
    for (std::int64_t z = 0; z < p.count.z; ++z)
      for (std::int64_t y = 0; y < p.count.y; ++y)
        std::memcpy(staged.data() + (z * chunk.y + y) * chunk.x, first + (z * box.y + y) * box.x,
                    static_cast<std::size_t>(p.count.x) * sizeof(float));
    if (const int e = pwrite_all(fd, staged.data(), staged.size() * sizeof(float), p.file_offset))
      return e;
  }
  return 0;
}

}  // namespace h5decon::io::detail
