// Richardson-Lucy iterations on the CPU: set-up, initial estimate, the loop.
#include "backend/cpu/cpu_engine.hpp"

#include <algorithm>
#include <utility>

#include "h5decon/error.hpp"
#include "h5decon/rl_constants.hpp"
#include "h5decon/rl_domain.hpp"

namespace h5decon::cpu {
namespace {

// Plain modes: the volume, extended by its boundary mode. Bertero: the estimate's
// domain at the origin with no margins; r = M d is zero outside the volume, so a
// circular convolution of size >= domain is linear where it is read (rl_domain.hpp).
ExtensionLayout make_layout(const Psf& psf, Shape3 shape, const RlOptions& o, Shape3 fft) {
  if (o.boundary != Boundary::bertero)
    return ExtensionLayout(shape, psf.kernel.shape, fft, o.boundary);
  return ExtensionLayout(estimate_shape(o.boundary, shape, psf.kernel.shape), Shape3{1, 1, 1}, fft,
                         Boundary::zero);
}

std::vector<float> volume_buffer(Shape3 s) { return std::vector<float>(std::size_t(s.size())); }

}  // namespace

CpuEngine::CpuEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft,
                     const BackendOptions& backend)
    : shape_(shape),
      domain_(estimate_shape(options.boundary, shape, psf.kernel.shape)),
      margin_(estimate_margin(options.boundary, psf.kernel.shape)),
      options_(options),
      conv_(psf, make_layout(psf, shape, options, fft), backend) {
  validate(options_);
  if (bertero()) {
    inv_weights_ = bertero_inverse_weights(conv_, shape_, margin_);
    estimate_ = volume_buffer(domain_);
  }
  if (options_.tv_lambda > 0.0f) {
    tv_.emplace(domain_, conv_.threads());
    tv_factor_ = volume_buffer(domain_);
  }
  if (extrapolates(options_.accel)) {
    x_prev_ = volume_buffer(domain_);
    g_new_ = volume_buffer(domain_);
    g_old_ = volume_buffer(domain_);
  }
  rows_.resize(static_cast<std::size_t>(conv_.threads() * domain_.x));
}

std::int64_t CpuEngine::bytes() const {
  std::size_t floats = 0;
  for (const auto* v : {&inv_weights_, &tv_factor_, &estimate_, &x_prev_, &g_new_, &g_old_, &rows_})
    floats += v->size();
  return conv_.bytes() + std::int64_t(sizeof(float) * floats) + (tv_ ? tv_->bytes() : 0);
}

void CpuEngine::initialise(std::span<const float> observed) {
  const Shape3 n = shape_, e = domain_;
  switch (options_.init) {
    case InitMode::observed:  // the domain beyond the volume (bertero): its edge replicated
      for (std::int64_t z = 0; z < e.z; ++z)
        for (std::int64_t y = 0; y < e.y; ++y) {
          const std::int64_t zo = std::clamp<std::int64_t>(z - margin_.z, 0, n.z - 1);
          const std::int64_t yo = std::clamp<std::int64_t>(y - margin_.y, 0, n.y - 1);
          const float* d = observed.data() + (zo * n.y + yo) * n.x;
          float* u = u_ + (z * e.y + y) * e.x;
          for (std::int64_t x = 0; x < e.x; ++x)
            u[x] = d[std::clamp<std::int64_t>(x - margin_.x, 0, n.x - 1)];
        }
      return;
    case InitMode::constant:
      std::fill_n(u_, e.size(), 0.5f);
      return;
    case InitMode::mean: {
      double s = 0.0;  // serial: the same bits on every run and thread count
      for (float v : observed) s += v;
      std::fill_n(u_, e.size(), static_cast<float>(s / double(observed.size())));
      return;
    }
  }
}

void CpuEngine::deconvolve(std::span<const float> observed, std::span<float> result,
                           const IterationObserver& observer) {
  const auto n = static_cast<std::size_t>(shape_.size());
  H5DECON_REQUIRE(observed.size() == n && result.size() == n, Error,
                  "CpuEngine: expected volumes of ", shape_.str(), " voxels");
  d_ = observed.data();
  u_ = bertero() ? estimate_.data() : result.data();
  background_ = resolve_background(options_, observed, shape_);
  initialise(observed);
  conv_.load(u_);
  run(observer);
  if (bertero()) copy_estimate(result);
}

void CpuEngine::run(const IterationObserver& observer) {
  const bool biggs = extrapolates(options_.accel);
  const int n = options_.iterations;
  alpha_ = 0.0f;
  for (int it = 1; it <= n; ++it) {
    // Biggs from the second iteration: the operand is the prediction, not x_k.
    predicted_ = biggs && it > 1;
    if (predicted_)
      conv_.load_planes([&](std::int64_t z, float* plane) { predict_plane(z, plane); });
    const double alpha_used = predicted_ ? alpha_ : 0.0;
    step(it, !biggs && it < n);
    const bool stopping =
        it == n || (options_.stop_rel_change > 0 && relative_change_ < options_.stop_rel_change);
    if (observer) {
      IterationReport r{it, relative_change_, alpha_used, stopping, {}};
      r.copy_estimate = [&](std::span<float> out) { copy_estimate(out); };
      observer(r);
    }
    if (stopping) break;
  }
}

void CpuEngine::step(int it, bool refill) {
  sums_.reset(domain_.z);
  conv_.convolve_into(
      false, true, [&](std::int64_t z, const float* hu, float* next) { ratio_pass(z, hu, next); });
  conv_.convolve_into(
      true, refill, [&](std::int64_t z, const float* c, float* next) { update_pass(z, c, next); });
  const double norm = PlaneSums::total(sums_.norm);
  relative_change_ = norm > 0 ? PlaneSums::total(sums_.change) / norm : 0.0;
  if (extrapolates(options_.accel)) {
    // alpha_{k+1} = g_k.g_{k-1} / g_{k-1}.g_{k-1}: needs two steps' changes (deconvlucy: k > 2).
    const double a =
        PlaneSums::total(sums_.dot) / (PlaneSums::total(sums_.gg) + kBiggsDenominatorGuard);
    alpha_ = it >= 2 ? static_cast<float>(std::clamp(a, 0.0, kBiggsMaxAlpha)) : 0.0f;
    std::swap(g_new_, g_old_);
  }
}

void CpuEngine::copy_estimate(std::span<float> out) const {
  const Shape3 n = shape_, e = domain_;
  H5DECON_REQUIRE(static_cast<std::int64_t>(out.size()) == n.size(), Error,
                  "copy_estimate: expected ", n.str(), " voxels");
  for (std::int64_t z = 0; z < n.z; ++z)
    for (std::int64_t y = 0; y < n.y; ++y) {
      const float* u = u_ + ((z + margin_.z) * e.y + y + margin_.y) * e.x + margin_.x;
      float* o = out.data() + (z * n.y + y) * n.x;
      if (o != u) std::copy(u, u + n.x, o);
    }
}

}  // namespace h5decon::cpu
