#pragma once
// The boundary extension of docs/design.md §2, laid out for circular FFTs.
//
// A volume of extent n on an axis is extended by m = psf/2 voxels on both sides
// according to the boundary mode. Inside an FFT array of extent P >= n + 2m the
// volume's index j in [-m, n + m) is stored at position j mod P: the volume
// itself at [0, n), the low margin at the end [P - m, P), the high margin at
// [n, n + m). Positions between stay zero. A circular convolution of that array
// with the PSF rolled so that its centre voxel (index psf/2) sits at the origin
// equals, on [0, n), the convolution of the extended volume: the result does
// not depend on P. The adjoint (correlation, used with the mirrored PSF) needs
// the same margins.
//
// Rows of the FFT arrays are padded to a multiple of 64 bytes (row_stride() >= P_x)
// so that every row and plane starts with the same SIMD alignment: the split
// transform (split_fft.hpp) runs plans made for one row or plane on all others.
// Margin planes (in z) are never stored: each is a copy of a volume plane, and
// plane_sources() says which; x and y margins are filled plane by plane.

#include <cstdint>
#include <vector>

#include "h5decon/detail/boundary_index.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::cpu {

/// A half-open interval [begin, end) of positions on one axis.
struct IndexRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};
/// Disjoint, increasing intervals.
using Ranges = std::vector<IndexRange>;

/// Source index in [0, n) of extended index j, or -1 where the extension is zero.
using ::h5decon::boundary_source;

/// Where every margin voxel of an extended volume comes from, in an FFT array.
/// The row stride of FFT arrays of x extent `fft_x`: a multiple of 16 floats (64 bytes).
std::int64_t padded_row(std::int64_t fft_x);

class ExtensionLayout {
 public:
  ExtensionLayout(Shape3 volume, Shape3 psf, Shape3 fft, Boundary boundary);

  /// Offset of the first voxel of volume row (z, y) in the FFT array.
  std::int64_t row_offset(std::int64_t z, std::int64_t y) const {
    return (z * fft_.y + y) * row_stride_;
  }
  /// Floats between consecutive rows of the FFT array (P_x padded for alignment).
  std::int64_t row_stride() const { return row_stride_; }
  /// Floats an FFT array of this layout holds.
  std::int64_t array_size() const { return fft_.z * fft_.y * row_stride_; }
  /// Floats of one z-plane of an FFT array.
  std::int64_t plane_size() const { return fft_.y * row_stride_; }
  /// Rows of a plane (y positions) that the extended volume may make non-zero.
  const Ranges& live_rows() const { return live_rows_; }
  /// For each z position of the FFT array, the volume plane it holds a copy of,
  /// or -1 where it is zero: margin planes need not be stored or transformed.
  const std::vector<std::int64_t>& plane_sources() const { return plane_sources_; }
  /// Fills the x margins of one row (given its first voxel) from the row's own values.
  void complete_row(float* row) const {
    for (const auto& [dst, src] : x_margin_) row[dst] = row[src];
  }
  /// Fills the margin rows of one plane (rows outside the volume in y) from its
  /// completed volume rows.
  void complete_plane(float* plane) const;

  Shape3 volume() const { return volume_; }
  Shape3 fft() const { return fft_; }

 private:
  struct Copy {
    std::int64_t dst, src;
  };
  Shape3 volume_, fft_;
  std::int64_t row_stride_;
  Ranges live_rows_;
  std::vector<std::int64_t> plane_sources_;
  std::vector<Copy> x_margin_;     // within a row: position <- position
  std::vector<Copy> margin_rows_;  // within a plane, whole rows: offset <- offset
};

}  // namespace h5decon::cpu
