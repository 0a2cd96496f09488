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
  for (int it = 1; it <= options_.iterations; ++it) {
    conv_.convolve(false);
    ratio_pass(observed.data());
    conv_.convolve(true);
    update_pass(result.data(), it < options_.iterations);
    if (observer) observer(it);
  }
}

void CpuEngine::ratio_pass(const float* observed) {
  const Shape3 v = shape_;
  const ExtensionLayout& layout = conv_.layout();
  const float* blurred = conv_.output();
  float* next = conv_.input();
  const float eps = options_.eps;
#pragma omp parallel for collapse(2) schedule(static) num_threads(conv_.threads())
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y) {
      const std::int64_t off = layout.row_offset(z, y);
      const float* hu = blurred + off;
      const float* d = observed + (z * v.y + y) * v.x;
      float* r = next + off;
#pragma omp simd
      for (std::int64_t x = 0; x < v.x; ++x) r[x] = d[x] / std::max(hu[x], eps);
      layout.complete_row(r);
    }
  layout.fill_margin_rows(next);
}

void CpuEngine::update_pass(float* u, bool refill) {
  const Shape3 v = shape_;
  const ExtensionLayout& layout = conv_.layout();
  const float* correction = conv_.output();
  float* next = conv_.input();
#pragma omp parallel for collapse(2) schedule(static) num_threads(conv_.threads())
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y) {
      const std::int64_t off = layout.row_offset(z, y);
      const float* c = correction + off;
      float* ur = u + (z * v.y + y) * v.x;
#pragma omp simd
      for (std::int64_t x = 0; x < v.x; ++x) ur[x] *= c[x];
      if (refill) {
        std::copy(ur, ur + v.x, next + off);
        layout.complete_row(next + off);
      }
    }
  if (refill) layout.fill_margin_rows(next);
}

}  // namespace h5decon::cpu
