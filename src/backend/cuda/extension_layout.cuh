#pragma once
// The boundary extension of docs/design.md §2 in the padded FFT array, shared by host
// code (tables built once per engine) and device code (kernels), so that both
// follow one definition (h5decon/detail/boundary_index.hpp, the CPU's too):
// volume index j in [-m, n + m) of an axis (m = psf / 2) lives at position
// j mod P of the FFT array; the volume at [0, n), the high margin at [n, n + m),
// the low margin at [P - m, P), zeros between. Plain C++17 (device code is built
// as C++17): host-only declarations live in extension_layout.hpp.

#include <cstdint>

#include "h5decon/detail/boundary_index.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::cuda {

/// Extents (z, y, x) in device code, where Shape3 (C++20) is not available.
struct Dims {
  std::int64_t z = 0, y = 0, x = 0;
};

// One definition of the extension for the host and the kernels.
using ::h5decon::boundary_source;
using ::h5decon::positive_mod;

/// What the row kernels need to know about the volume inside the FFT array.
struct RowGeometry {
  std::int64_t nz = 0, ny = 0, nx = 0;  ///< volume extent
  std::int64_t py = 0, px = 0;          ///< FFT array extents of y and x (px: row pitch)
  std::int64_t mx = 0;                  ///< x margin, psf.x / 2
  Boundary boundary = Boundary::zero;

  /// Offset in the FFT array of volume row (z, y).
  H5DECON_HOST_DEVICE std::int64_t row_offset(std::int64_t z, std::int64_t y) const {
    return (z * py + y) * px;
  }
};

/// The estimate's domain (the volume; for bertero, the volume extended by
/// `margin` on each side) and the observed volume at `margin` inside it.
struct DomainMap {
  Dims volume, margin, domain;
};

/// One whole-row copy of the extension: the row at `dst` (outside the volume in
/// z or y) repeats the completed volume row at `src` (offsets in the FFT array).
struct RowCopy {
  std::int64_t dst, src;
};

}  // namespace h5decon::cuda
