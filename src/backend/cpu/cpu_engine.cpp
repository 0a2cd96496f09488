// Richardson-Lucy iterations on the CPU.
#include "backend/cpu/cpu_engine.hpp"

#include <algorithm>

#include "h5decon/error.hpp"

namespace h5decon::cpu {

CpuEngine::CpuEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft,
                     const BackendOptions& backend)
    : shape_(shape), options_(options), conv_(psf, shape, options.boundary, fft, backend) {
  validate(options_);
}

void CpuEngine::initialise(std::span<const float> observed, std::span<float> u) const {
  switch (options_.init) {
    case InitMode::observed:
      std::copy(observed.begin(), observed.end(), u.begin());
      return;
    case InitMode::constant:
      std::fill(u.begin(), u.end(), 0.5f);
      return;
    case InitMode::mean: {
      double s = 0.0;  // serial: the same bits on every run and thread count
      for (float v : observed) s += v;
      std::fill(u.begin(), u.end(), static_cast<float>(s / double(observed.size())));
      return;
    }
  }
}

void CpuEngine::deconvolve(std::span<const float> observed, std::span<float> result,
                           const IterationObserver& observer) {
  const auto n = static_cast<std::size_t>(shape_.size());
  H5DECON_REQUIRE(observed.size() == n && result.size() == n, Error,
                  "CpuEngine: expected volumes of ", shape_.str(), " voxels");
  initialise(observed, result);
  conv_.load(result.data());
  const float* d = observed.data();
  float* u = result.data();
  for (int it = 1; it <= options_.iterations; ++it) {
    conv_.convolve_into(false, true, [&](std::int64_t z, const float* hu, float* next) {
      ratio_pass(z, d, hu, next);
    });
    conv_.convolve_into(
        true, it < options_.iterations,
        [&](std::int64_t z, const float* c, float* next) { update_pass(z, u, c, next); });
    if (observer) observer(it);
  }
}

void CpuEngine::ratio_pass(std::int64_t z, const float* observed, const float* blurred,
                           float* next) const {
  const Shape3 v = shape_;
  const std::int64_t stride = conv_.layout().row_stride();
  const float eps = options_.eps;
  for (std::int64_t y = 0; y < v.y; ++y) {
    const float* hu = blurred + y * stride;
    const float* d = observed + (z * v.y + y) * v.x;
    float* r = next + y * stride;
#pragma omp simd
    for (std::int64_t x = 0; x < v.x; ++x) r[x] = d[x] / std::max(hu[x], eps);
  }
}

void CpuEngine::update_pass(std::int64_t z, float* u, const float* correction, float* next) const {
  const Shape3 v = shape_;
  const std::int64_t stride = conv_.layout().row_stride();
  for (std::int64_t y = 0; y < v.y; ++y) {
    const float* c = correction + y * stride;
    float* ur = u + (z * v.y + y) * v.x;
#pragma omp simd
    for (std::int64_t x = 0; x < v.x; ++x) ur[x] *= c[x];
    if (next) std::copy(ur, ur + v.x, next + y * stride);
  }
}

}  // namespace h5decon::cpu
