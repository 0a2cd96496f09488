#pragma once
// Biggs-Andrews extrapolation along log u (Acceleration::biggs_log), one definition
// for every engine (rl/voxel.hpp's predict(); the CUDA kernels compile it as device
// code): x (x / x_prev)^alpha with a polynomial log2 / exp2 that vectorises without
// fast-math, so the prediction pass stays memory bound, and whose exponent is
// clamped alike everywhere.

#include <cstdint>
#include <cstring>
#if __cplusplus >= 202002L
#include <bit>
#endif

#include "h5decon/detail/host_device.hpp"

namespace h5decon {

namespace detail {
// The bits of a float and back: std::bit_cast in C++20 host code, the intrinsics
// on the device (CUDA code is C++17), memcpy otherwise.
H5DECON_HOST_DEVICE inline std::uint32_t float_bits(float v) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(v);
#elif __cplusplus >= 202002L
  return std::bit_cast<std::uint32_t>(v);
#else
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
#endif
}
H5DECON_HOST_DEVICE inline float bits_float(std::uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(b);
#elif __cplusplus >= 202002L
  return std::bit_cast<float>(b);
#else
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
#endif
}
// Bitwise select, so that the loops calling these vectorise without fast-math
// (a float ?: is a branch under -ftrapping-math).
H5DECON_HOST_DEVICE inline float select(bool c, float a, float b) {
  const std::uint32_t m = 0u - std::uint32_t(c);
  return bits_float((float_bits(a) & m) | (float_bits(b) & ~m));
}
// log2 of a positive normal float: exponent plus an odd series in
// t = (m - 1) / (m + 1) of the mantissa m in [sqrt(1/2), sqrt(2)); |error| < 3e-7.
H5DECON_HOST_DEVICE inline float log2_positive(float v) {
  const std::uint32_t b = float_bits(v);
  int e = int((b >> 23) & 0xffu) - 127;
  float m = bits_float((b & 0x7fffffu) | 0x3f800000u);
  const int big = int(m > 1.41421356f);
  m *= 1.0f - 0.5f * float(big);
  e += big;
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  return float(e) +
         t * (2.88539008f + t2 * (0.961796694f + t2 * (0.577078016f + t2 * 0.412198583f)));
}
// 2^v for v in [-126, 126] (clamped): 2^floor(v) times a degree-6 Taylor
// polynomial of 2^f, f in [0, 1); relative error < 2e-6.
H5DECON_HOST_DEVICE inline float exp2_clamped(float v) {
  v = select(v < -126.0f, -126.0f, select(v > 126.0f, 126.0f, v));
  int i = int(v);
  i -= int(float(i) > v);
  const float f = v - float(i);
  const float p =
      1.0f + f * (0.693147181f +
                  f * (0.240226507f +
                       f * (0.0555041087f +
                            f * (0.00961812911f + f * (0.00133335581f + f * 0.000154035304f)))));
  return p * bits_float(std::uint32_t(i + 127) << 23);
}
}  // namespace detail

/// Biggs-Andrews along log u: x (x / x_prev)^alpha, or x where either is not positive
/// (RL keeps a zero at zero). Polynomial log2 / exp2 (relative error < 1e-5 for
/// alpha < 1), so that the prediction pass vectorises and stays memory bound.
H5DECON_HOST_DEVICE inline float log_extrapolation(float x, float x_prev, float alpha) {
  const bool valid = (x > 0.0f) & (x_prev > 0.0f);  // no branch: the loop vectorises
  const float ratio = detail::select(valid, x / x_prev, 1.0f);
  return x * detail::exp2_clamped(alpha * detail::log2_positive(ratio));
}

}  // namespace h5decon
