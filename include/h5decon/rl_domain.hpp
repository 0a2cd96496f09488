#pragma once
// Where the RL estimate lives, and the background the model adds: shared by every
// backend so that they agree.
//
// Bertero boundary (Bertero & Boccacci 2005): the estimate u is defined on the
// volume extended by m = psf/2 voxels on each side of every axis (the voxels whose
// light can reach the observed volume), the data term only on the observed voxels:
//     u <- u * H^T( M d / max(H u + b, eps) ) / max(H^T M, kBerteroWeightFloor)
// with M the mask of observed voxels and H a linear convolution (zero outside the
// extended domain). The result is u cropped to the observed volume. The FFT shape
// needs no more than the other modes (volume + 2m per axis): see CpuEngine.

#include <span>
#include <vector>

#include "h5decon/rl_options.hpp"
#include "h5decon/shape.hpp"

namespace h5decon {

/// Voxels the estimate extends beyond the volume on each side: psf/2 per axis
/// for the bertero boundary, none otherwise.
Shape3 estimate_margin(Boundary boundary, Shape3 psf);

/// The estimate's shape: volume + 2 * estimate_margin() per axis.
Shape3 estimate_shape(Boundary boundary, Shape3 volume, Shape3 psf);

/// The constant background of `d` (--background auto): volume split into tiles
/// of 8x8x8 voxels (fewer on a shorter axis; partial tiles at the far edges are
/// left out), the 2nd percentile of the tile means. Tile means average the
/// noise away; a low percentile picks the darkest regions (no structure) without
/// being set by one dead tile. It measures camera offset plus any uniform
/// fluorescence background (the data cannot tell them apart).
float estimate_background(std::span<const float> d, Shape3 shape);

/// The tile edge of estimate_background() on each axis of `volume`.
Shape3 background_tile(Shape3 volume);
/// estimate_background() in parts, for a volume read in slabs: the means of the
/// whole tiles in `slab` (slab.z = background_tile(volume).z planes starting at a
/// multiple of it; slab.y, slab.x = the volume's), appended to `means`; then the
/// background from every slab's means (in any order: the percentile does not
/// depend on it). The same value as estimate_background() on the whole volume.
void append_tile_means(std::span<const float> slab, Shape3 slab_shape, Shape3 volume,
                       std::vector<double>& means);
float background_from_tile_means(std::vector<double> means);

/// The background b an engine uses for `d`: options.background, or
/// estimate_background(d) when options.background_auto.
float resolve_background(const RlOptions& options, std::span<const float> d, Shape3 shape);

}  // namespace h5decon
