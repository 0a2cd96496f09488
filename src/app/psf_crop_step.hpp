#pragma once
// `run --psf-crop E`: each prepared PSF cut to the box that holds its flux.

#include <string>

#include "h5decon/psf.hpp"

namespace h5decon::app {

/// Crops `psf.kernel` with crop_psf(kernel, energy) and renormalises it to sum 1
/// (the centre stays voxel n/2). Returns the log line "PSF cropped from A to B
/// (energy kept E)".
std::string crop_to_support(Psf& psf, double energy);

}  // namespace h5decon::app
