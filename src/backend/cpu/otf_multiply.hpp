#pragma once
// The spectrum times the OTF, shared by the CPU engine's split FFT and exact
// mode so that both do the same float arithmetic (and give the same bits).

#include <complex>
#include <cstdint>

namespace h5decon::cpu {

/// buf *= otf (or conj(otf): the adjoint) over n complex values. Plain float
/// arithmetic: std::complex's operator* guards NaN/Inf corner cases and does not vectorise.
inline void multiply_by_otf(std::complex<float>* buf, const std::complex<float>* otf,
                            std::int64_t n, bool adjoint) {
  float* s = reinterpret_cast<float*>(buf);
  const float* h = reinterpret_cast<const float*>(otf);
  const float sign = adjoint ? -1.0f : 1.0f;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float a = s[2 * i], b = s[2 * i + 1];
    const float c = h[2 * i], d = sign * h[2 * i + 1];
    s[2 * i] = a * c - b * d;
    s[2 * i + 1] = a * d + b * c;
  }
}

}  // namespace h5decon::cpu
