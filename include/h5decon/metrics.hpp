#pragma once
// Image-quality and difference measures used by tests, benchmarks and logs.

#include <span>

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

}  // namespace h5decon
