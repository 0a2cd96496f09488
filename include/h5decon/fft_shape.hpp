#pragma once
// Choice of FFT-friendly padded shapes.

#include <cstdint>

#include "h5decon/shape.hpp"

namespace h5decon {

/// Smallest n' >= n whose prime factors are all 2, 3, 5 or 7 (FFTW's fast sizes).
std::int64_t next_fast_size(std::int64_t n);

/// Smallest fast shape holding `volume` extended by the PSF's half extent on both
/// sides (volume + 2*(psf/2) per axis), so that a circular convolution of the
/// extended volume equals the linear one on the volume; the last axis is even (r2c).
Shape3 padded_shape(const Shape3& volume, const Shape3& psf);

/// True when `fft` can hold that extended volume (and its last axis is even).
bool fits_linear_convolution(const Shape3& fft, const Shape3& volume, const Shape3& psf);

/// The FFT shape an engine uses: padded_shape() when `fft` is empty (size 0),
/// else `fft` itself, which must fit (InputError naming the three shapes).
Shape3 resolve_fft_shape(const Shape3& volume, const Shape3& psf, const Shape3& fft);

}  // namespace h5decon
