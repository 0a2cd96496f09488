// Image-quality and difference measures.
#include "h5decon/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "h5decon/error.hpp"

namespace h5decon {

double psnr(std::span<const float> image, std::span<const float> truth) {
  H5DECON_REQUIRE(image.size() == truth.size() && !image.empty(), Error,
                  "psnr: sizes differ or are empty");
  double mse = 0.0;
  for (std::size_t i = 0; i < image.size(); ++i) {
    const double d = double(image[i]) - double(truth[i]);
    mse += d * d;
  }
  mse /= double(image.size());
  const double peak = max_abs(truth);
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(peak * peak / mse);
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  H5DECON_REQUIRE(a.size() == b.size(), Error, "max_abs_diff: sizes differ");
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

double max_abs(std::span<const float> a) {
  double m = 0.0;
  for (float v : a) m = std::max(m, std::abs(double(v)));
  return m;
}

double sum(std::span<const float> a) {
  double s = 0.0;
  for (float v : a) s += v;
  return s;
}

}  // namespace h5decon

namespace h5decon {
namespace {

constexpr double kSsimSigma = 1.5;
constexpr int kSsimRadius = 5;  // int(3.5 sigma + 0.5), scipy's truncation

std::vector<float> gaussian_taps() {
  std::vector<float> w(2 * kSsimRadius + 1);
  double total = 0.0;
  for (int i = -kSsimRadius; i <= kSsimRadius; ++i)
    total += w[std::size_t(i + kSsimRadius)] =
        float(std::exp(-0.5 * i * i / (kSsimSigma * kSsimSigma)));
  for (float& v : w) v = float(v / total);
  return w;
}

// scipy's 'reflect': d c b a | a b c d | d c b a.
std::int64_t reflect(std::int64_t i, std::int64_t n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

// One axis of a separable filter: out[i] = sum_k w[k] in[i + k - r] along `axis`.
std::vector<float> filter_axis(const std::vector<float>& in, Shape3 s, int axis,
                               const std::vector<float>& w) {
  std::vector<float> out(in.size());
  const std::int64_t stride = axis == 2 ? 1 : axis == 1 ? s.x : s.x * s.y, n = s[axis];
  for (std::int64_t i = 0; i < s.size(); ++i) {
    const std::int64_t pos = (i / stride) % n, base = i - pos * stride;
    double acc = 0.0;
    for (int k = -kSsimRadius; k <= kSsimRadius; ++k)
      acc += double(w[std::size_t(k + kSsimRadius)]) *
             in[std::size_t(base + reflect(pos + k, n) * stride)];
    out[std::size_t(i)] = float(acc);
  }
  return out;
}

std::vector<float> gaussian_filter(std::vector<float> v, Shape3 s) {
  static const std::vector<float> w = gaussian_taps();
  for (int axis = 0; axis < 3; ++axis) v = filter_axis(v, s, axis, w);
  return v;
}

bool inside_window(Shape3 s, std::int64_t i) {
  const std::int64_t x = i % s.x, y = (i / s.x) % s.y, z = i / (s.x * s.y);
  const std::int64_t p[3] = {z, y, x};
  for (int a = 0; a < 3; ++a)
    if (p[a] < kSsimRadius || p[a] >= s[a] - kSsimRadius) return false;
  return true;
}

}  // namespace

RegionPsnr region_psnr(std::span<const float> image, std::span<const float> truth, Shape3 s,
                       Shape3 width) {
  H5DECON_REQUIRE(image.size() == truth.size() && std::int64_t(truth.size()) == s.size(), Error,
                  "region_psnr: sizes differ");
  double se[2] = {0.0, 0.0};
  std::int64_t count[2] = {0, 0};
  for (std::int64_t i = 0; i < s.size(); ++i) {
    const std::int64_t x = i % s.x, y = (i / s.x) % s.y, z = i / (s.x * s.y);
    const bool shell = z < width.z || z >= s.z - width.z || y < width.y || y >= s.y - width.y ||
                       x < width.x || x >= s.x - width.x;
    const double d = double(image[std::size_t(i)]) - truth[std::size_t(i)];
    se[shell] += d * d;
    ++count[shell];
  }
  const double peak = max_abs(truth);
  auto db = [&](int k) {
    return count[k] ? 10.0 * std::log10(peak * peak * double(count[k]) / se[k])
                    : std::numeric_limits<double>::quiet_NaN();
  };
  return {db(1), db(0)};
}

Ssim3::Ssim3(std::span<const float> truth, Shape3 shape)
    : shape_(shape), truth_(truth.begin(), truth.end()) {
  H5DECON_REQUIRE(std::int64_t(truth.size()) == shape.size(), Error, "ssim: size ", truth.size(),
                  " is not ", shape.str());
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(shape[a] > 2 * kSsimRadius, Error, "ssim: volume ", shape.str(),
                    " is smaller than the 11-voxel window");
  const auto [lo, hi] = std::minmax_element(truth_.begin(), truth_.end());
  const double range = double(*hi) - double(*lo);
  c1_ = (0.01 * range) * (0.01 * range);
  c2_ = (0.03 * range) * (0.03 * range);
  mu_t_ = gaussian_filter(truth_, shape_);
  std::vector<float> sq(truth_.size());
  for (std::size_t i = 0; i < sq.size(); ++i) sq[i] = truth_[i] * truth_[i];
  var_t_ = gaussian_filter(std::move(sq), shape_);
  for (std::size_t i = 0; i < var_t_.size(); ++i) var_t_[i] -= mu_t_[i] * mu_t_[i];
}

double Ssim3::operator()(std::span<const float> image) const {
  H5DECON_REQUIRE(image.size() == truth_.size(), Error, "ssim: sizes differ");
  std::vector<float> x(image.begin(), image.end()), xx(x.size()), xt(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    xx[i] = x[i] * x[i];
    xt[i] = x[i] * truth_[i];
  }
  const std::vector<float> mu = gaussian_filter(std::move(x), shape_);
  const std::vector<float> m2 = gaussian_filter(std::move(xx), shape_);
  const std::vector<float> mt = gaussian_filter(std::move(xt), shape_);
  double total = 0.0;
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < shape_.size(); ++i) {
    if (!inside_window(shape_, i)) continue;
    const auto k = std::size_t(i);
    const double mx = mu[k], my = mu_t_[k];
    const double vx = double(m2[k]) - mx * mx, vy = var_t_[k], cov = double(mt[k]) - mx * my;
    total +=
        ((2 * mx * my + c1_) * (2 * cov + c2_)) / ((mx * mx + my * my + c1_) * (vx + vy + c2_));
    ++count;
  }
  return total / double(count);
}

}  // namespace h5decon
