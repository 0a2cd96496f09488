#pragma once
// The boundary extension of docs/design.md §2 on one axis: where extended index j of
// a volume of n voxels takes its value from. One definition for every backend:
// the CPU engine and exact mode build their tables from it on the host, the
// CUDA engine on the host and in its kernels. Plain C++17 (device code is built
// as C++17).

#include <cstdint>
#include <vector>

#include "h5decon/detail/host_device.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon {

/// a mod n in [0, n) for any sign of a (n > 0).
H5DECON_HOST_DEVICE inline std::int64_t positive_mod(std::int64_t a, std::int64_t n) {
  const std::int64_t r = a % n;
  return r < 0 ? r + n : r;
}

/// Source index in [0, n) of extended index j under `b`, or -1 where the
/// extension is zero.
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

/// One extended index of an axis in an FFT array of P positions.
struct AxisEntry {
  std::int64_t position;  ///< j mod P: where it lives in the FFT array
  std::int64_t source;    ///< boundary_source(): in the volume, -1 for zero
  bool margin;            ///< outside the volume
};

/// Every extended index j in [-m, n + m) of one axis, in order (host only).
inline std::vector<AxisEntry> axis_entries(Boundary b, std::int64_t n, std::int64_t m,
                                           std::int64_t p) {
  std::vector<AxisEntry> out;
  out.reserve(static_cast<std::size_t>(n + 2 * m));
  for (std::int64_t j = -m; j < n + m; ++j)
    out.push_back({positive_mod(j, p), boundary_source(b, j, n), j < 0 || j >= n});
  return out;
}

}  // namespace h5decon
