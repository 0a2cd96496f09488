#pragma once
// Convolution with a PSF under a boundary mode: the forward model H u of RL.

#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/volume.hpp"

namespace h5decon {

/// Returns H f: f extended by `boundary`, convolved with the PSF (centre voxel
/// n/2), cropped to f's shape. FFT based (FFTW, estimate plans).
Volume convolve(const Volume& f, const Psf& psf, Boundary boundary);

}  // namespace h5decon
