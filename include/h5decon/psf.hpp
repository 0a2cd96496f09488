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

}  // namespace h5decon
