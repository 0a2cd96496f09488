// Richardson-Lucy iterations on the CPU: set-up, initial estimate, the loop.
#include "backend/cpu/cpu_engine.hpp"

#include <algorithm>
#include <utility>

#include "h5decon/back_projector.hpp"
#include "h5decon/error.hpp"
#include "h5decon/rl_domain.hpp"
#include "rl/voxel.hpp"

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
      conv_(psf, make_layout(psf, shape, options, fft), backend,
            options.back_projector == BackProjector::wb ? &back_kernel(psf, options) : nullptr) {
  validate(options_);
  if (bertero()) {
    inv_weights_ =
        bertero_inverse_weights(conv_, shape_, margin_, rl::weight_floor(options_.back_projector));
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
  measure_divergence_ = rl::Schedule{options_}.measures_divergence();
  if (rl::Schedule{options_}.saves_best_operand()) best_ = volume_buffer(domain_);
}

std::int64_t CpuEngine::planned_bytes(Shape3 psf, Shape3 shape, const RlOptions& o, Shape3 fft,
                                      int threads) {
  const Shape3 e = estimate_shape(o.boundary, shape, psf);
  const std::int64_t volumes = 2 * (o.boundary == Boundary::bertero) +  // weights, estimate
                               (o.tv_lambda > 0.0f) +                   // TV factor
                               3 * extrapolates(o.accel) +              // x_prev, g_new, g_old
                               rl::Schedule{o}.saves_best_operand();    // best_
  const std::int64_t floats = volumes * e.size() + threads * e.x +      // rows_
                              (o.tv_lambda > 0.0f ? 6 * e.y * e.x * threads : 0);  // TvFactor
  return FftConvolver::planned_bytes(fft, threads, o.back_projector == BackProjector::wb) +
         std::int64_t(sizeof(float)) * floats;
}

std::int64_t CpuEngine::bytes() const {
  std::size_t floats = 0;
  for (const auto* v :
       {&inv_weights_, &tv_factor_, &estimate_, &x_prev_, &g_new_, &g_old_, &rows_, &best_})
    floats += v->size();
  return conv_.bytes() + std::int64_t(sizeof(float) * floats) + (tv_ ? tv_->bytes() : 0);
}

void CpuEngine::initialise(std::span<const float> observed) {
  const Shape3 n = shape_, e = domain_;
  switch (options_.init) {
    case InitMode::observed:  // the domain beyond the volume (bertero): its edge replicated
      for (std::int64_t z = 0; z < e.z; ++z)
        for (std::int64_t y = 0; y < e.y; ++y) {
          const std::int64_t zo = rl::clamp_index(z - margin_.z, n.z);
          const std::int64_t yo = rl::clamp_index(y - margin_.y, n.y);
          const float* d = observed.data() + (zo * n.y + yo) * n.x;
          float* u = u_ + (z * e.y + y) * e.x;
          for (std::int64_t x = 0; x < e.x; ++x) u[x] = d[rl::clamp_index(x - margin_.x, n.x)];
        }
      return;
    case InitMode::constant:
    case InitMode::mean: {
      double s = 0.0;  // serial: the same bits on every run and thread count
      if (options_.init == InitMode::mean)
        for (float v : observed) s += v;
      std::fill_n(u_, e.size(), rl::flat_initial_value(options_.init, s, double(observed.size())));
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
  rl::iterate(*this, options_, observer);
  if (bertero()) copy_estimate(result);
}

void CpuEngine::predict(float alpha) {
  alpha_ = alpha;
  conv_.load_planes([&](std::int64_t z, float* plane) { predict_plane(z, plane); });
}

rl::StepTotals CpuEngine::step(bool predicted, bool refill, const rl::DivergenceRule& rule) {
  predicted_ = predicted;
  sums_.reset(domain_.z);
  conv_.convolve_into(
      false, true, [&](std::int64_t z, const float* hu, float* next) { ratio_pass(z, hu, next); });
  const double fit = PlaneSums::total(sums_.divergence);
  const rl::FitVerdict v = rule.verdict(fit);
  if (v == rl::FitVerdict::keep_operand || v == rl::FitVerdict::restore_best) {
    if (v == rl::FitVerdict::restore_best) std::copy(best_.begin(), best_.end(), u_);
    rl::StepTotals kept;  // no update: the run ends (rl::Schedule::divergence_rule)
    kept.divergence = fit;
    kept.updated = false;
    return kept;
  }
  save_best_ = v == rl::FitVerdict::save_and_update;  // update_row copies the operand first
  conv_.convolve_into(
      true, refill, [&](std::int64_t z, const float* c, float* next) { update_pass(z, c, next); });
  if (extrapolates(options_.accel)) std::swap(g_new_, g_old_);
  return {PlaneSums::total(sums_.change), PlaneSums::total(sums_.norm),
          PlaneSums::total(sums_.dot), PlaneSums::total(sums_.gg),
          PlaneSums::total(sums_.divergence)};
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
