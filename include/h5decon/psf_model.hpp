#pragma once
// Generated point-spread functions (Born-Wolf scalar diffraction) and cropping of
// a PSF to the box that holds its flux. Pure: no I/O, no MPI, no FFT library.

#include <array>
#include <string>

#include "h5decon/volume.hpp"

namespace h5decon {

/// Parameters of a Born-Wolf PSF: an aberration-free, in-focus widefield
/// objective in the scalar, paraxial approximation (Born & Wolf, Principles of
/// Optics, §8.8; the "Born & Wolf" model of the EPFL PSF Generator).
struct BornWolfParams {
  double na = 0;                        ///< numerical aperture, 0 < NA < immersion index
  double wavelength_nm = 0;             ///< emission wavelength in vacuum (nm)
  double immersion_index = 0;           ///< refractive index of the immersion medium (> 0)
  std::array<double, 3> voxel_um{};     ///< voxel size (z, y, x) in micrometres (> 0)
  Shape3 shape;                         ///< PSF extent (z, y, x), each >= 1
  /// Lateral pixel integration: each voxel is the mean of n x n points spread
  /// evenly over its (y, x) area, as a camera pixel integrates; 1: the voxel centre.
  int lateral_samples = 1;
};

/// Throws InputError naming the first invalid parameter: NA >= index, a value
/// that is not positive and finite, or a shape that is empty or too large.
void validate(const BornWolfParams& p);

/// The Born-Wolf PSF, normalised to sum 1, float32 (z, y, x), centre voxel n/2 on
/// every axis (docs/design.md §2). Intensity at a point at lateral distance r and
/// defocus z from the focus, with k = 2π/λ:
///   h(r, z) = | ∫_0^1 J0(k NA r ρ) exp(-i k NA² z ρ² / (2 n)) ρ dρ |²
/// evaluated in double at voxel centres (point sampling), or averaged over
/// lateral_samples² points of each voxel's area (pixel integration): the
/// integral by Simpson's rule with enough nodes for its oscillations, once per
/// z plane on a radial grid 1/16 of the finest lateral voxel, interpolated
/// linearly to each voxel's radius. Validates `p` first.
Volume born_wolf_psf(const BornWolfParams& p);

/// A PSF cut down to the smallest centred box holding a share of its flux.
struct CroppedPsf {
  Volume psf;               ///< the crop (not renormalised)
  Shape3 original;          ///< the extent before cropping
  double energy_kept = 1;   ///< flux in the crop / total flux
};

/// Crops `psf` (non-negative values, positive sum) to the smallest box, by voxel
/// count, that holds at least `energy` (0 < energy <= 1) of its flux and keeps the
/// centre convention: on an axis of size n the kept range is [n/2 - R, n/2 + R] for
/// odd n and [n/2 - R, n/2 + R - 1] for even n, so the crop has the same parity
/// and its centre voxel m/2 is the original's n/2. Ties go to the larger flux.
/// Throws InputError for an energy outside (0, 1] or a non-positive sum.
CroppedPsf crop_psf(const Volume& psf, double energy);

}  // namespace h5decon
