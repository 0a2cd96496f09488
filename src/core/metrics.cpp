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
