#pragma once
// Validation and normalisation of a point-spread function before it reaches a backend.

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "h5decon/rl_options.hpp"
#include "h5decon/volume.hpp"

namespace h5decon {

/// A PSF ready for the engine: finite, non-negative, sum 1. Its centre voxel is
/// index n/2 on every axis (integer division; docs/design.md §2).
struct Psf {
  Volume kernel;
  std::string source;        ///< where it came from, for messages and provenance
  std::int64_t clamped = 0;  ///< negative values set to zero during preparation
  /// Share of the raw PSF's flux this kernel holds: below 1 once a PSF larger than
  /// twice the volume was cropped (limit_psf_to_volume()).
  double flux_used = 1.0;
  /// The Wiener-Butterworth back projector made from `kernel` with `back_params`
  /// (attach_back_projector(), back_projector.hpp); empty: the traditional one.
  std::optional<Volume> back;
  WienerButterworth back_params;
};

/// The kernel whose adjoint convolution is the back projection of `options`: psf.back
/// for wb, else the PSF itself. Throws Error when wb is asked for and psf.back is
/// absent or was made with other parameters (an engine must never apply another
/// back projector than the options name).
const Volume& back_kernel(const Psf& psf, const RlOptions& options);

/// The largest extent of `psfs` on each axis: blocks, halos and FFT shapes are
/// planned from it, so that every channel's engine fits the plan.
Shape3 largest_psf_extent(const std::vector<Psf>& psfs);

/// A PSF of largest_psf_extent(psfs) (a centred point): engines made with it cost
/// what the largest channel's cost, for memory probes.
Psf largest_psf(const std::vector<Psf>& psfs);

/// Checks and normalises a raw PSF. Throws InputError naming `source` when it has
/// non-finite values or a non-positive sum. Negative values are clamped to zero and
/// counted. Any size: a PSF larger than the volume is fine (see limit_psf_to_volume()).
Psf prepare_psf(Volume raw, const std::string& source);

/// A PSF may be larger than the volume on any axis: the estimate's domain (the
/// bertero boundary) or the boundary extension holds the light it spreads. Only
/// offsets below the volume's extent couple two observed voxels, so on an axis
/// where the PSF is longer than 2 n - 1 it is cropped, centred, to 2 n - 1 (as
/// deconwolf does) and renormalised; flux_used says what share of the light is
/// kept. Returns "" when nothing was cropped, else a sentence for the log.
std::string limit_psf_to_volume(Psf& psf, const Shape3& volume);

/// prepare_psf(), then limit_psf_to_volume().
Psf prepare_psf(Volume raw, const std::string& source, const Shape3& volume);

/// A PSF's share of flux that is a constant level (un-subtracted camera background):
/// the smallest of the medians of its first plane, its last plane and its focal
/// plane's edge (a widefield PSF's defocused light fills the far planes, not the
/// focal plane's edge), times its voxel count, of a PSF normalised to sum 1.
double constant_level_share(const Psf& psf);

/// "" when constant_level_share() is below kPsfBackgroundWarning; else a sentence
/// with the level (in the raw PSF's units: `raw_sum` is its sum before
/// normalisation), its share of the flux and the fix.
inline constexpr double kPsfBackgroundWarning = 0.05;
std::string background_note(const Psf& psf, double raw_sum);

/// "" when the PSF's centre of mass lies within one voxel of its centre voxel n/2
/// on every axis; else a sentence saying where it is. An off-centre PSF is used as
/// it is (the result is shifted by the offset), so this is a warning, not an error.
std::string off_centre_note(const Psf& psf);

/// Voxel size (z, y, x) in micrometres.
using VoxelSize = std::array<double, 3>;

/// `psf` sampled at voxel size `from` (z, y, x, µm) moved onto a grid of voxel size
/// `to`: the same physical extent (odd sizes, centre voxel on centre voxel), each
/// target voxel the average of trilinear samples over its footprint (finer than
/// the source's voxels when it is larger). Not normalised (prepare_psf() does).
Volume resample_psf(const Volume& psf, const VoxelSize& from, const VoxelSize& to);

/// Relative difference on an axis above which a PSF's voxel size does not match the data's.
inline constexpr double kVoxelSizeTolerance = 0.01;

/// "" when either voxel size is unknown or they agree within `tolerance` (relative to
/// the data's, on every axis); otherwise a sentence naming both (`data_name`,
/// `psf_name`), both voxel sizes and the axes that differ, and what to do about it.
/// A PSF sampled at another voxel size is the wrong PSF for the data: callers refuse.
std::string voxel_size_mismatch(const std::optional<VoxelSize>& data, const std::string& data_name,
                                const std::optional<VoxelSize>& psf, const std::string& psf_name,
                                double tolerance = kVoxelSizeTolerance);

}  // namespace h5decon
