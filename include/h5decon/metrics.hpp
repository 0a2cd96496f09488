#pragma once
// Image-quality and difference measures used by tests, benchmarks and logs.

#include <span>
#include <vector>

#include "h5decon/shape.hpp"

namespace h5decon {

/// Peak signal-to-noise ratio of `image` against `truth`, in dB, with the
/// truth's maximum as the peak.
double psnr(std::span<const float> image, std::span<const float> truth);

/// Largest absolute element-wise difference.
double max_abs_diff(std::span<const float> a, std::span<const float> b);

/// Largest absolute value.
double max_abs(std::span<const float> a);

/// Sum of all elements, accumulated in double.
double sum(std::span<const float> a);

/// PSNR (truth's maximum over the whole volume as the peak) over the voxels within
/// `width` of a face of the volume (the edge shell) and over the others (the interior).
struct RegionPsnr {
  double shell = 0.0, interior = 0.0;
};
RegionPsnr region_psnr(std::span<const float> image, std::span<const float> truth, Shape3 shape,
                       Shape3 width);

/// 3D SSIM (Wang et al. 2004) against one truth volume, which is filtered once:
/// Gaussian window of sigma 1.5 voxels truncated at 3.5 sigma (11 taps), local
/// statistics without the sample-covariance correction, C1 = (0.01 L)^2,
/// C2 = (0.03 L)^2 with L the truth's range, scipy's 'reflect' at the faces, and
/// the mean over voxels at least the window's radius from every face: the
/// settings of scikit-image's structural_similarity(gaussian_weights=True,
/// use_sample_covariance=False, data_range=L), in 3D.
class Ssim3 {
 public:
  Ssim3(std::span<const float> truth, Shape3 shape);
  /// The mean SSIM of `image` (the truth's shape) against the truth.
  double operator()(std::span<const float> image) const;

 private:
  Shape3 shape_;
  std::vector<float> truth_, mu_t_, var_t_;  // the truth, its local mean and variance
  double c1_ = 0.0, c2_ = 0.0;
};

}  // namespace h5decon
