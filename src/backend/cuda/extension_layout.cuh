#pragma once
// The boundary extension of DESIGN.md §2 in the padded FFT array, shared by host
// code (tables built once per engine) and device code (kernels), so that both
// follow one definition. It reproduces src/backend/cpu/boundary.hpp exactly:
// volume index j in [-m, n + m) of an axis (m = psf / 2) lives at position
// j mod P of the FFT array; the volume at [0, n), the high margin at [n, n + m),
// the low margin at [P - m, P), zeros between. Plain C++17 (device code is built
// as C++17): host-only declarations live in extension_layout.hpp.

#include <cstdint>

#include "h5decon/rl_options.hpp"

#if defined(__CUDACC__)
#define H5DECON_HOST_DEVICE __host__ __device__
#else
#define H5DECON_HOST_DEVICE
#endif

namespace h5decon::cuda {

/// Extents (z, y, x) in device code, where Shape3 (C++20) is not available.
struct Dims {
  std::int64_t z = 0, y = 0, x = 0;
};

/// a mod n in [0, n) for any sign of a (n > 0).
H5DECON_HOST_DEVICE inline std::int64_t positive_mod(std::int64_t a, std::int64_t n) {
  const std::int64_t r = a % n;
  return r < 0 ? r + n : r;
}

/// Source index in [0, n) of extended index j under `b`, or -1 where the
/// extension is zero (the CPU backend's boundary_source, term for term).
H5DECON_HOST_DEVICE inline std::int64_t boundary_source(Boundary b, std::int64_t j,
                                                        std::int64_t n) {
  if (j >= 0 && j < n) return j;
  switch (b) {
    case Boundary::zero:
    case Boundary::bertero:  // its data term sees zeros outside (rl_domain.hpp)
      return -1;
    case Boundary::periodic:
      return positive_mod(j, n);
    case Boundary::neumann:
      return j < 0 ? 0 : n - 1;
    case Boundary::reflect: {
      const std::int64_t k = positive_mod(j, 2 * n);  // period of the mirrored signal
      return k < n ? k : 2 * n - 1 - k;
    }
  }
  return -1;
}

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
