// The element-wise passes of the CPU engine, run per z-plane inside the
// convolutions (cpu_engine.hpp). Each plane is one thread's: its sums are too.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_engine.hpp"
#include "rl/voxel.hpp"

namespace h5decon::cpu {
namespace {

// biggs-log's prediction of one row: y = x (x / x_prev)^a; x_prev = x; u = r = y.
// The polynomial log2 / exp2 make this compute bound: AVX2 where the CPU has it
// (the same operations, so the same bits, as the baseline clone: no FMA contraction).
__attribute__((target_clones("avx2", "default"))) void predict_row_log(float* __restrict u,
                                                                       float* __restrict xp,
                                                                       float* __restrict r,
                                                                       std::int64_t n, float a) {
#pragma omp simd
  for (std::int64_t x = 0; x < n; ++x) {
    const float xk = u[x], pred = rl::predict_log(xk, xp[x], a);
    xp[x] = xk;
    u[x] = pred;
    r[x] = pred;
  }
}

}  // namespace

void CpuEngine::predict_plane(std::int64_t z, float* plane) {
  const Shape3 e = domain_;
  const std::int64_t stride = conv_.layout().row_stride();
  const float a = alpha_;
  const bool log_domain = options_.accel == Acceleration::biggs_log;
  for (std::int64_t y = 0; y < e.y; ++y) {
    const std::int64_t i0 = (z * e.y + y) * e.x;
    float* u = u_ + i0;
    float* xp = x_prev_.data() + i0;
    float* r = plane + y * stride;
    if (log_domain) {
      predict_row_log(u, xp, r, e.x, a);
      continue;
    }
#pragma omp simd
    for (std::int64_t x = 0; x < e.x; ++x) {
      const float xk = u[x];
      const float pred = rl::predict_linear(xk, xp[x], a);
      xp[x] = xk;
      u[x] = pred;
      r[x] = pred;
    }
  }
}

void CpuEngine::ratio_pass(std::int64_t z, const float* blurred, float* next) {
  const Shape3 n = shape_, e = domain_, m = margin_;
  if (tv_) tv_->plane(u_, z, options_.tv_lambda, tv_factor_.data() + z * e.y * e.x);
  const std::int64_t stride = conv_.layout().row_stride();
  const float eps = options_.eps, b = background_;
  const std::int64_t zo = z - m.z;
  for (std::int64_t y = 0; y < e.y; ++y) {
    float* r = next + y * stride;
    const std::int64_t yo = y - m.y;
    if (zo < 0 || zo >= n.z || yo < 0 || yo >= n.y) {  // bertero: outside the observed box
      std::fill_n(r, e.x, 0.0f);
      continue;
    }
    std::fill(r, r + m.x, 0.0f);
    std::fill(r + m.x + n.x, r + e.x, 0.0f);
    const float* hu = blurred + y * stride + m.x;
    const float* d = d_ + (zo * n.y + yo) * n.x;
    float* rr = r + m.x;
    if (measure_divergence_) {  // before the ratio overwrites H u (hu may alias rr)
      double fit = 0.0;
#pragma omp simd reduction(+ : fit)
      for (std::int64_t x = 0; x < n.x; ++x) fit += rl::divergence_term(d[x], hu[x], b, eps);
      sums_.divergence[z] += fit;
    }
#pragma omp simd
    for (std::int64_t x = 0; x < n.x; ++x) rr[x] = rl::ratio(d[x], hu[x], b, eps);
  }
}

void CpuEngine::update_pass(std::int64_t z, const float* correction, float* next) {
  const std::int64_t stride = conv_.layout().row_stride();
  for (std::int64_t y = 0; y < domain_.y; ++y)
    update_row(z, y, correction + y * stride, next ? next + y * stride : nullptr);
}

void CpuEngine::update_row(std::int64_t z, std::int64_t y, const float* correction,
                           float* next_row) {
  const std::int64_t nx = domain_.x, i0 = (z * domain_.y + y) * nx;
  const float* f = correction;
  const bool clamp = rl::clamps_correction(options_.back_projector);
  if (!inv_weights_.empty() || tv_ || clamp) {  // the row's factors: one loop serves every mode
    float* row = rows_.data() + omp_get_thread_num() * nx;
    const float* w = inv_weights_.empty() ? nullptr : inv_weights_.data() + i0;
    const float* t = tv_ ? tv_factor_.data() + i0 : nullptr;
    for (std::int64_t x = 0; x < nx; ++x) row[x] = rl::update_factor(correction[x], w, t, x, clamp);
    f = row;
  }
  float* u = u_ + i0;
  if (save_best_) std::copy(u, u + nx, best_.data() + i0);  // the best fit so far
  double change = 0.0, norm = 0.0;
  if (!g_new_.empty()) {
    // x_{k+1} = y f; g_k = x_{k+1} - y; the change is measured against x_k.
    const float* ref = predicted_ ? x_prev_.data() + i0 : u;
    float* gn = g_new_.data() + i0;
    const float* go = g_old_.data() + i0;
    double dot = 0.0, gg = 0.0;
#pragma omp simd reduction(+ : change, norm, dot, gg)
    for (std::int64_t x = 0; x < nx; ++x) {
      const float yv = u[x], xn = yv * f[x], r = ref[x];
      gn[x] = xn - yv;
      dot += double(gn[x]) * go[x];
      gg += double(go[x]) * go[x];
      change += rl::change_term(xn, r);
      norm += rl::norm_term(r);
      u[x] = xn;
    }
    sums_.dot[z] += dot;
    sums_.gg[z] += gg;
  } else {
#pragma omp simd reduction(+ : change, norm)
    for (std::int64_t x = 0; x < nx; ++x) {
      const float xk = u[x], xn = xk * f[x];
      change += rl::change_term(xn, xk);
      norm += rl::norm_term(xk);
      u[x] = xn;
    }
  }
  sums_.change[z] += change;
  sums_.norm[z] += norm;
  if (next_row) std::copy(u, u + nx, next_row);
}

}  // namespace h5decon::cpu
