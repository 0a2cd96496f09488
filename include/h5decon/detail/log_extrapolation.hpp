#pragma once
// Biggs-Andrews extrapolation along log u (Acceleration::biggs_log) for the CPU
// engines (cpu, exact): x (x / x_prev)^alpha with a polynomial log2 / exp2 that
// vectorises without fast-math, so the prediction pass stays memory bound.

#include <bit>
#include <cstdint>

namespace h5decon {

namespace detail {
// Bitwise select, so that the loops calling these vectorise without fast-math
// (a float ?: is a branch under -ftrapping-math).
inline float select(bool c, float a, float b) {
  const std::uint32_t m = 0u - std::uint32_t(c);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & m) |
                              (std::bit_cast<std::uint32_t>(b) & ~m));
}
// log2 of a positive normal float: exponent plus an odd series in
// t = (m - 1) / (m + 1) of the mantissa m in [sqrt(1/2), sqrt(2)); |error| < 3e-7.
inline float log2_positive(float v) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
  int e = int((b >> 23) & 0xffu) - 127;
  float m = std::bit_cast<float>((b & 0x7fffffu) | 0x3f800000u);
  const int big = int(m > 1.41421356f);
  m *= 1.0f - 0.5f * float(big);
  e += big;
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  return float(e) +
         t * (2.88539008f + t2 * (0.961796694f + t2 * (0.577078016f + t2 * 0.412198583f)));
}
// 2^v for v in [-126, 126] (clamped): 2^floor(v) times a degree-6 Taylor
// polynomial of 2^f, f in [0, 1); relative error < 2e-6.
inline float exp2_clamped(float v) {
  v = select(v < -126.0f, -126.0f, select(v > 126.0f, 126.0f, v));
  int i = int(v);
  i -= int(float(i) > v);
  const float f = v - float(i);
  const float p =
      1.0f + f * (0.693147181f +
                  f * (0.240226507f +
                       f * (0.0555041087f +
                            f * (0.00961812911f + f * (0.00133335581f + f * 0.000154035304f)))));
  return p * std::bit_cast<float>(std::uint32_t(i + 127) << 23);
}
}  // namespace detail

/// Biggs-Andrews along log u: x (x / x_prev)^alpha, or x where either is not positive
/// (RL keeps a zero at zero). Polynomial log2 / exp2 (relative error < 1e-5 for
/// alpha < 1), so that the prediction pass vectorises and stays memory bound.
inline float log_extrapolation(float x, float x_prev, float alpha) {
  const bool valid = (x > 0.0f) & (x_prev > 0.0f);  // no branch: the loop vectorises
  const float ratio = detail::select(valid, x / x_prev, 1.0f);
  return x * detail::exp2_clamped(alpha * detail::log2_positive(ratio));
}

}  // namespace h5decon
