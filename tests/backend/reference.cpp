#include "backend/reference.hpp"

#include <algorithm>
#include <cmath>

namespace h5decon::test {
namespace {

// Index in [0, n) of j under the boundary mode, or -1 for zero.
std::int64_t source(Boundary b, std::int64_t j, std::int64_t n) {
  if (j >= 0 && j < n) return j;
  switch (b) {
    case Boundary::zero:
    case Boundary::bertero: return -1;
    case Boundary::periodic: return ((j % n) + n) % n;
    case Boundary::neumann: return j < 0 ? 0 : n - 1;
    case Boundary::reflect: return j < 0 ? -j - 1 : 2 * n - 1 - j;
  }
  return -1;
}

template <int Sign>
Volume direct(const Volume& f, const Volume& h, Boundary b) {
  const Shape3 s = f.shape, k = h.shape;
  Volume out(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        double acc = 0.0;
        for (std::int64_t a = 0; a < k.z; ++a)
          for (std::int64_t c = 0; c < k.y; ++c)
            for (std::int64_t e = 0; e < k.x; ++e)
              acc += double(h.at(a, c, e)) *
                     extended_value(f, b, z - Sign * (a - k.z / 2), y - Sign * (c - k.y / 2),
                                    x - Sign * (e - k.x / 2));
        out.at(z, y, x) = float(acc);
      }
  return out;
}

// Tiny deterministic generator: the same values on every platform.
float next_unit(unsigned& state) {
  state = state * 1664525u + 1013904223u;
  return float(state >> 8) / float(1u << 24);
}

}  // namespace

float extended_value(const Volume& f, Boundary b, std::int64_t z, std::int64_t y, std::int64_t x) {
  const std::int64_t sz = source(b, z, f.shape.z), sy = source(b, y, f.shape.y),
                     sx = source(b, x, f.shape.x);
  if (sz < 0 || sy < 0 || sx < 0) return 0.0f;
  return f.at(sz, sy, sx);
}

Volume direct_convolve(const Volume& f, const Volume& h, Boundary b) { return direct<1>(f, h, b); }
Volume direct_correlate(const Volume& f, const Volume& h, Boundary b) { return direct<-1>(f, h, b); }

Volume test_volume(Shape3 s, unsigned seed) {
  Volume v(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x)
        v.at(z, y, x) = 10.0f + 5.0f * std::sin(0.7f * x + 0.3f * y) * std::cos(0.5f * z) +
                        20.0f * next_unit(seed);
  return v;
}

Volume test_psf(Shape3 s, unsigned seed) {
  Volume h(s);
  double total = 0.0;
  for (float& v : h.data) total += (v = 0.05f + next_unit(seed));
  for (float& v : h.data) v = float(v / total);
  return h;
}

}  // namespace h5decon::test

namespace h5decon::test {

Volume crop(const Volume& f, Shape3 offset, Shape3 shape) {
  Volume out(shape);
  for (std::int64_t z = 0; z < shape.z; ++z)
    for (std::int64_t y = 0; y < shape.y; ++y)
      for (std::int64_t x = 0; x < shape.x; ++x)
        out.at(z, y, x) = f.at(z + offset.z, y + offset.y, x + offset.x);
  return out;
}

double relative_l1(const Volume& a, const Volume& b) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    num += std::abs(double(a.data[i]) - b.data[i]);
    den += std::abs(double(b.data[i]));
  }
  return num / den;
}

double total_variation(const Volume& f) {
  const Shape3 s = f.shape;
  double tv = 0.0;
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        const double v = f.at(z, y, x);
        if (x + 1 < s.x) tv += std::abs(f.at(z, y, x + 1) - v);
        if (y + 1 < s.y) tv += std::abs(f.at(z, y + 1, x) - v);
        if (z + 1 < s.z) tv += std::abs(f.at(z + 1, y, x) - v);
      }
  return tv;
}

double region_psnr(const Volume& image, const Volume& truth, Shape3 width, bool shell) {
  const Shape3 s = truth.shape;
  double se = 0.0, peak = 0.0;
  std::int64_t count = 0;
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        peak = std::max(peak, double(truth.at(z, y, x)));
        const std::int64_t i[3] = {z, y, x};
        bool near = false;
        for (int a = 0; a < 3; ++a) near = near || i[a] < width[a] || i[a] >= s[a] - width[a];
        if (near != shell) continue;
        const double d = double(image.at(z, y, x)) - truth.at(z, y, x);
        se += d * d;
        ++count;
      }
  return 10.0 * std::log10(peak * peak / (se / double(count)));
}

}  // namespace h5decon::test
