#pragma once
// Slow, obviously-correct references the FFT code is checked against.

#include <cstdint>

#include "h5decon/rl_options.hpp"
#include "h5decon/volume.hpp"

namespace h5decon::test {

/// Value of f at index (z, y, x), which may lie outside f, under `b`
/// (numpy.pad's wrap / constant / symmetric / edge).
float extended_value(const Volume& f, Boundary b, std::int64_t z, std::int64_t y, std::int64_t x);

/// Direct convolution with centre n/2: out[i] = sum_k h[k] f[i + c - k].
Volume direct_convolve(const Volume& f, const Volume& h, Boundary b);

/// Direct correlation (the adjoint): out[i] = sum_k h[k] f[i - c + k].
Volume direct_correlate(const Volume& f, const Volume& h, Boundary b);

/// A smooth positive test volume with some structure, deterministic.
Volume test_volume(Shape3 s, unsigned seed);

/// A normalised, asymmetric test PSF (so that flips and shifts show).
Volume test_psf(Shape3 s, unsigned seed);

}  // namespace h5decon::test

namespace h5decon::test {

/// The box of `f` at `offset` of extent `shape`.
Volume crop(const Volume& f, Shape3 offset, Shape3 shape);

/// ||a - b||_1 / ||b||_1.
double relative_l1(const Volume& a, const Volume& b);

/// Anisotropic total variation: sum of |forward differences| over every axis.
double total_variation(const Volume& f);

/// Mean squared difference over the voxels within `width` of a face of the
/// volume (shell = true) or farther from every face (shell = false), as PSNR
/// in dB with the truth's maximum as the peak.
double region_psnr(const Volume& image, const Volume& truth, Shape3 width, bool shell);

}  // namespace h5decon::test
