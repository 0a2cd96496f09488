// The element-wise passes of the exact engine over the owned planes of the
// distributed FFT array; see exact_engine_impl.hpp. Arithmetic as the CPU
// engine's (rl_passes.cpp), plane by plane.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/otf_multiply.hpp"
#include "backend/fftw_mpi/exact_engine_impl.hpp"
#include "rl/voxel.hpp"

namespace h5decon::exact {
namespace {

// The CPU engine's multiply_by_otf() in chunks over the threads: the same bits.
void multiply(cfloat* buf, const cfloat* otf, std::int64_t n, bool adjoint, int threads) {
  constexpr std::int64_t kChunk = 4096;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t b = 0; b < n; b += kChunk)
    cpu::multiply_by_otf(buf + b, otf + b, std::min(kChunk, n - b), adjoint);
}

}  // namespace

// The owned operand planes hold their domain rows; this fills everything else of
// the rank's FFT planes: x/y margins, margin planes (from owned planes or from the
// halo exchange), zeros.
void ExactEngine::Impl::complete_operand() {
  const std::int64_t rs = fft.row_stride();
  halo.exchange([&](std::int64_t s) { return work_plane(s); }, rs);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t p = dom.begin; p < dom.end; ++p) geom.extend_plane(work_plane(p), nullptr, rs);
  const PlaneRange f = geom.local_fft();
  const auto bytes = sizeof(float) * static_cast<std::size_t>(fft.plane_floats());
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t p = std::max(f.begin, domain.z); p < f.end; ++p) {
    const std::int64_t s = geom.plane_source(p);
    float* dst = work_plane(p);
    if (s < 0)
      std::memset(dst, 0, bytes);
    else if (s >= dom.begin && s < dom.end)
      std::memcpy(dst, work_plane(s), bytes);
    else
      geom.extend_plane(dst, halo.plane(s), rs);
  }
}

void ExactEngine::Impl::load_estimate() {
  const std::int64_t rs = fft.row_stride(), nx = domain.x;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t z = dom.begin; z < dom.end; ++z)
    for (std::int64_t y = 0; y < domain.y; ++y)
      std::memcpy(work_plane(z) + y * rs, u.data() + ((z - dom.begin) * domain.y + y) * nx,
                  sizeof(float) * static_cast<std::size_t>(nx));
  complete_operand();
}

// Biggs: y = max(x + alpha (x - x_prev), 0) (biggs-log: x (x / x_prev)^alpha)
// becomes u and the operand; x_prev = x.
void ExactEngine::Impl::predict(float a) {
  alpha = a;
  const std::int64_t rs = fft.row_stride(), nx = domain.x;
  const bool log_domain = options.accel == Acceleration::biggs_log;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t z = dom.begin; z < dom.end; ++z)
    for (std::int64_t y = 0; y < domain.y; ++y) {
      const std::int64_t i0 = ((z - dom.begin) * domain.y + y) * nx;
      float* uu = u.data() + i0;
      float* xp = x_prev.data() + i0;
      float* r = work_plane(z) + y * rs;
#pragma omp simd
      for (std::int64_t x = 0; x < nx; ++x) {
        const float xk = uu[x];
        const float pred =
            log_domain ? rl::predict_log(xk, xp[x], a) : rl::predict_linear(xk, xp[x], a);
        xp[x] = xk;
        uu[x] = pred;
        r[x] = pred;
      }
    }
  complete_operand();
}

void ExactEngine::Impl::convolve(bool adjoint) {
  fft.forward();
  const cfloat* h = adjoint && back_otf.size() ? back_otf.data() : otf.data();
  multiply(fft.spectrum(), h, fft.spectrum_size(), adjoint, threads);
  fft.inverse();
}

// r = M d / max(H u + b, eps) in place over H u; zero outside the observed box (bertero).
void ExactEngine::Impl::ratio_pass() {
  const Shape3 n = shape, e = domain, m = margin;
  const std::int64_t rs = fft.row_stride();
  const float eps = options.eps, b = background;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t z = dom.begin; z < dom.end; ++z) {
    const std::int64_t zo = z - m.z;
    for (std::int64_t y = 0; y < e.y; ++y) {
      float* r = work_plane(z) + y * rs;
      const std::int64_t yo = y - m.y;
      if (zo < 0 || zo >= n.z || yo < 0 || yo >= n.y) {
        std::fill_n(r, e.x, 0.0f);
        continue;
      }
      std::fill(r, r + m.x, 0.0f);
      std::fill(r + m.x + n.x, r + e.x, 0.0f);
      const float* dd = d + ((zo - in.begin) * n.y + yo) * n.x;
      float* rr = r + m.x;
      if (measure_divergence) {  // of H u, before the ratio replaces it
        double fit = 0.0;
#pragma omp simd reduction(+ : fit)
        for (std::int64_t x = 0; x < n.x; ++x) fit += rl::divergence_term(dd[x], rr[x], b, eps);
        sums.divergence[z] += fit;
      }
#pragma omp simd
      for (std::int64_t x = 0; x < n.x; ++x) rr[x] = rl::ratio(dd[x], rr[x], b, eps);
    }
  }
}

void ExactEngine::Impl::update_pass() {
  const std::int64_t rs = fft.row_stride();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t z = dom.begin; z < dom.end; ++z)
    for (std::int64_t y = 0; y < domain.y; ++y) update_row(z, y, work_plane(z) + y * rs);
}

// u *= the correction (bertero: / H^T M; RL-TV: * its factor), with the sums of the relative
// change and of Biggs' alpha; as CpuEngine::update_row.
void ExactEngine::Impl::update_row(std::int64_t z, std::int64_t y, float* f) {
  const std::int64_t nx = domain.x, i0 = ((z - dom.begin) * domain.y + y) * nx;
  const bool clamp = rl::clamps_correction(options.back_projector);
  if (!inv_weights.empty() || tv || clamp) {
    const float* w = inv_weights.empty() ? nullptr : inv_weights.data() + i0;
    const float* t = tv ? tv_factor.data() + i0 : nullptr;
    for (std::int64_t x = 0; x < nx; ++x) f[x] = rl::update_factor(f[x], w, t, x, clamp);
  }
  float* uu = u.data() + i0;
  if (save_best) std::copy(uu, uu + nx, best.data() + i0);  // the best fit so far
  double change = 0.0, norm = 0.0;
  if (!g_new.empty()) {
    // x_{k+1} = y f; g_k = x_{k+1} - y; the change is measured against x_k.
    const float* ref = predicted ? x_prev.data() + i0 : uu;
    float* gn = g_new.data() + i0;
    const float* go = g_old.data() + i0;
    double dot = 0.0, gg = 0.0;
#pragma omp simd reduction(+ : change, norm, dot, gg)
    for (std::int64_t x = 0; x < nx; ++x) {
      const float yv = uu[x], xn = yv * f[x], r = ref[x];
      gn[x] = xn - yv;
      dot += double(gn[x]) * go[x];
      gg += double(go[x]) * go[x];
      change += rl::change_term(xn, r);
      norm += rl::norm_term(r);
      uu[x] = xn;
    }
    sums.dot[z] += dot;
    sums.gg[z] += gg;
  } else {
#pragma omp simd reduction(+ : change, norm)
    for (std::int64_t x = 0; x < nx; ++x) {
      const float xk = uu[x], xn = xk * f[x];
      change += rl::change_term(xn, xk);
      norm += rl::norm_term(xk);
      uu[x] = xn;
    }
  }
  sums.change[z] += change;
  sums.norm[z] += norm;
}

}  // namespace h5decon::exact
