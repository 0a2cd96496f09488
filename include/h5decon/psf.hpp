#pragma once
// Validation and normalisation of a point-spread function before it reaches a backend.

#include <string>

#include "h5decon/volume.hpp"

namespace h5decon {

/// A PSF ready for the engine: finite, non-negative, sum 1. Its centre voxel is
/// index n/2 on every axis (integer division; DESIGN.md §2).
struct Psf {
  Volume kernel;
  std::string source;        ///< where it came from, for messages and provenance
  std::int64_t clamped = 0;  ///< negative values set to zero during preparation
};

/// Checks and normalises a raw PSF. Throws InputError naming `source` when it has
/// non-finite values, a non-positive sum, or is larger than `volume` on any axis.
/// Negative values are clamped to zero and counted.
Psf prepare_psf(Volume raw, const std::string& source, const Shape3& volume);

/// "" when the PSF's centre of mass lies within one voxel of its centre voxel n/2
/// on every axis; else a sentence saying where it is. An off-centre PSF is used as
/// it is (the result is shifted by the offset), so this is a warning, not an error.
std::string off_centre_note(const Psf& psf);

}  // namespace h5decon
