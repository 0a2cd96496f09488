#pragma once
// The Wiener-Butterworth back projector (Guo et al., Nature Biotechnology 2020;
// docs/design.md §2): an unmatched back projector B in x_{k+1} = x_k * B r, made
// once per PSF on the host and used by every engine in place of the mirrored PSF.

#include <array>
#include <string>

#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/volume.hpp"

namespace h5decon {

/// What wb_back_kernel() chose, for the log and the tests.
struct BackProjectorReport {
  std::array<double, 3> resolution{};  ///< z, y, x in voxels (the PSF's FWHM unless given)
  std::array<double, 3> cutoff{};      ///< cut-off frequency per axis, in cycles per voxel
  double beta = 0;                     ///< the gain at the cut-off
  double wiener_gain = 0;              ///< the Wiener filter's gain there (relative to 0)
  double ee = 0;                       ///< the Butterworth filter's epsilon^2
  double negative_share = 0;           ///< sum of the negative values / sum of |values|
};

/// The Wiener-Butterworth back projector of `psf` (sum 1, centre voxel n/2), made on
/// the PSF's own box (a kernel of the PSF's support, so halos and extensions hold):
///   H    = the OTF of psf on its box, normalised to max |H| = 1
///   W(k) = conj(H) / (|H|^2 + alpha)                            (Wiener)
///   M(k) = 1 / sqrt(1 + ee w^n), w = sum_i (f_i / fc_i)^2       (Butterworth; f_i in
///          cycles per voxel, fc_i = 1 / resolution_i)
///   B    = W M / (W M)(0), ee chosen so that |B| = beta at the cut-off on the axes
///          (beta = 0: the traditional back projector's gain there, max |H| over the
///          other axes at f_i = fc_i, averaged over both signs and the three axes).
/// Returned in the form an engine takes a PSF: a kernel b whose conjugate OTF is B,
/// so `adjoint` convolutions with b apply B (b = the PSF mirrored when B = H^T).
/// Real, sum 1, may hold negative values. Computed with FFTW in single precision.
Volume wb_back_kernel(const Volume& psf, const WienerButterworth& params,
                      BackProjectorReport* report = nullptr);

/// Sets psf.back for `options` (wb: wb_back_kernel() with options.wb; traditional:
/// none). Returns a sentence for the log ("" for the traditional back projector).
std::string attach_back_projector(Psf& psf, const RlOptions& options);

}  // namespace h5decon
