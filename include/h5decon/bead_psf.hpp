#pragma once
// A PSF measured from an image of sub-resolution beads (`h5decon psf --from-beads`):
// isolated beads found, background subtracted, each centred with sub-voxel
// accuracy, averaged, normalised and cropped to its support. Pure: no I/O, no MPI.

#include <array>
#include <string>
#include <vector>

#include "h5decon/volume.hpp"

namespace h5decon {

struct BeadPsfOptions {
  /// Extent of the PSF cut around each bead (odd on each axis); {0, 0, 0}: per axis
  /// the largest odd extent up to 31 that half of the beads found fit in the image.
  Shape3 box{0, 0, 0};
  /// A bead's peak must stand this many robust standard deviations (1.4826 MAD)
  /// above the background (the image's median).
  double threshold_sigma = 20.0;
  /// Isolation: no other peak above this share of a bead's own within its box.
  double neighbour_share = 0.1;
  double crop_energy = 0.999;  ///< crop the average to this share of its flux (0: keep the box)
};

/// One bead used: its position (z, y, x) in the image with sub-voxel accuracy.
struct Bead {
  double z = 0, y = 0, x = 0;
  double peak = 0;  ///< background-subtracted peak value
};

struct BeadPsf {
  Volume psf;                  ///< float32 (z, y, x), sum 1, centre voxel n/2
  Shape3 box;                  ///< the extent cut around each bead (before the crop)
  std::vector<Bead> beads;     ///< the beads averaged
  int candidates = 0;          ///< peaks above the threshold, before the isolation and border checks
  double background = 0;       ///< the image's median, subtracted
  std::array<double, 3> fwhm{};  ///< full width at half maximum (z, y, x), in voxels
};

/// Measures a PSF from `image`. Throws InputError when no isolated bead whose box
/// lies inside the image is found (naming the counts found and rejected).
BeadPsf psf_from_beads(const Volume& image, const BeadPsfOptions& options);

/// Full width at half maximum of `psf` through its centre voxel along each axis
/// (z, y, x), in voxels: between voxels, a parabola in log values (exact for a Gaussian).
std::array<double, 3> fwhm_voxels(const Volume& psf);

}  // namespace h5decon
