// Deterministic sums, the RL-TV factor and the Bertero weights of the CPU engine.
#include "backend/cpu/rl_extensions.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "rl/voxel.hpp"

namespace h5decon::cpu {

void PlaneSums::reset(std::int64_t planes) {
  for (auto* v : {&change, &norm, &dot, &gg, &divergence})
    v->assign(static_cast<std::size_t>(planes), 0.0);
}

double PlaneSums::total(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

TvFactor::TvFactor(Shape3 domain, int threads)
    : s_(domain),
      plane_(domain.y * domain.x),
      scratch_(static_cast<std::size_t>(6 * plane_ * threads), 0.0f) {}

// g = grad u / sqrt(|grad u|^2 + eps^2) on plane p (the next plane `above`, null
// at the last), forward differences, each difference 0 at the axis' last voxel
// (zero flux); components x, y, z one plane apart.
void TvFactor::unit_gradient(const float* p, const float* above, float* g) const {
  const std::int64_t nx = s_.x, ny = s_.y;
  for (std::int64_t y = 0; y < ny; ++y) {
    const float* r = p + y * nx;
    const float* next_row = y + 1 < ny ? r + nx : nullptr;
    float* gx = g + y * nx;
    float* gy = gx + plane_;
    float* gz = gy + plane_;
    for (std::int64_t x = 0; x < nx; ++x) {
      const float dx = x + 1 < nx ? r[x + 1] - r[x] : 0.0f;
      const float dy = next_row ? next_row[x] - r[x] : 0.0f;
      const float dz = above ? above[y * nx + x] - r[x] : 0.0f;
      const float inv = rl::tv_unit_scale(dx, dy, dz);
      gx[x] = dx * inv;
      gy[x] = dy * inv;
      gz[x] = dz * inv;
    }
  }
}

void TvFactor::plane(const float* u, std::int64_t z, float lambda, float* out) const {
  const float* p = u + z * plane_;
  plane(z > 0 ? p - plane_ : nullptr, p, z + 1 < s_.z ? p + plane_ : nullptr, lambda, out);
}

void TvFactor::plane(const float* u_below, const float* u_cur, const float* u_above, float lambda,
                     float* out) const {
  float* cur = scratch_.data() + 6 * plane_ * omp_get_thread_num();
  float* below = cur + 3 * plane_;
  unit_gradient(u_cur, u_above, cur);
  if (u_below) unit_gradient(u_below, u_cur, below);  // only its z component is read
  const std::int64_t nx = s_.x;
  for (std::int64_t y = 0; y < s_.y; ++y) {
    const float* gx = cur + y * nx;
    const float* gy = gx + plane_;
    const float* gz = gy + plane_;
    const float* gz_below = u_below ? below + 2 * plane_ + y * nx : nullptr;
    float* o = out + y * nx;
    for (std::int64_t x = 0; x < nx; ++x) {
      // Backward differences; the component before the first voxel is 0.
      const float div = gx[x] - (x > 0 ? gx[x - 1] : 0.0f) + gy[x] - (y > 0 ? gy[x - nx] : 0.0f) +
                        gz[x] - (gz_below ? gz_below[x] : 0.0f);
      o[x] = rl::tv_factor(div, lambda);
    }
  }
}

std::vector<float> bertero_inverse_weights(FftConvolver& conv, Shape3 v, Shape3 m, float floor) {
  const ExtensionLayout& l = conv.layout();
  const Shape3 e = l.volume();
  const std::int64_t stride = l.row_stride();
  conv.load_planes([&](std::int64_t z, float* plane) {
    const bool zin = z >= m.z && z < m.z + v.z;
    for (std::int64_t y = 0; y < e.y; ++y) {
      float* row = plane + y * stride;
      std::fill_n(row, e.x, 0.0f);
      if (zin && y >= m.y && y < m.y + v.y) std::fill_n(row + m.x, v.x, 1.0f);
    }
  });
  std::vector<float> inv(static_cast<std::size_t>(e.size()));
  conv.convolve_into(true, false, [&](std::int64_t z, const float* w, float*) {
    for (std::int64_t y = 0; y < e.y; ++y) {
      float* out = inv.data() + (z * e.y + y) * e.x;
      for (std::int64_t x = 0; x < e.x; ++x)
        out[x] = rl::inverse_weight(w[y * stride + x], floor);
    }
  });
  return inv;
}

}  // namespace h5decon::cpu
