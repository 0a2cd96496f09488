#pragma once
// Multi-resolution pyramids for viewers (BigDataViewer): which axes each level
// halves, its extent and chunk shape, and 2x downsampling by averaging.

#include <array>
#include <cstdint>
#include <vector>

#include "h5decon/volume.hpp"

namespace h5decon {

/// One level of a pyramid; every Shape3 is (z, y, x).
struct PyramidLevel {
  Shape3 factor;  ///< downsampling factor from level 0 (a power of 2 per axis)
  Shape3 extent;  ///< voxels: ceil(level-0 extent / factor)
  Shape3 chunk;   ///< chunk (BigDataViewer's "subdivision"), clamped to the extent
};

/// Largest extent at which the automatic plan stops adding levels.
inline constexpr std::int64_t kPyramidSmallExtent = 64;
/// Most levels a plan has.
inline constexpr int kPyramidMaxLevels = 12;

/// Plans the levels of a volume of `extent` voxels of size `voxel_zyx` (any unit).
/// Level 0 is the data itself. Each further level halves the axes whose current
/// spacing is less than twice the finest current spacing among the axes that can
/// still be halved (extent >= 2), so anisotropic data becomes isotropic first.
/// `levels` > 0 asks for that many (fewer when no axis can be halved any more);
/// 0 adds levels until the largest extent is at most kPyramidSmallExtent. Chunks
/// hold 32 voxels along the finest axis and as much physical length on the others.
/// Throws InputError for an empty extent, a non-positive voxel size or `levels` < 0.
std::vector<PyramidLevel> plan_pyramid(Shape3 extent, std::array<double, 3> voxel_zyx,
                                       int levels = 0);

/// The axes (z, y, x) halved from level `from` to level `to` (the next one).
std::array<bool, 3> halved_axes(const PyramidLevel& from, const PyramidLevel& to);

/// Halves `v` along the flagged axes (z, y, x): each output voxel is the mean of
/// the (up to 2x2x2) input voxels it covers; at an odd end the last window holds
/// one voxel on that axis, and its mean is taken over the voxels it has.
Volume downsample_mean(const Volume& v, std::array<bool, 3> halve);

}  // namespace h5decon
