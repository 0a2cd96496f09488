// Pyramid levels for viewers: halving rule, extents, chunks, mean downsampling.
#include "h5decon/pyramid.hpp"

#include <algorithm>
#include <cmath>

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

constexpr std::int64_t kChunkAlongFinest = 32;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Largest power of 2 <= v (v >= 1).
std::int64_t floor_pow2(double v) {
  std::int64_t p = 1;
  while (double(p) * 2.0 <= v && p < kChunkAlongFinest) p *= 2;
  return p;
}

// Chunks of about 32 voxels along the finest axis and as much physical length on
// the others (a power of 2 each), clamped to the level's extent.
Shape3 chunk_for(const Shape3& extent, const std::array<double, 3>& spacing) {
  const double finest = std::min({spacing[0], spacing[1], spacing[2]});
  Shape3 chunk;
  for (int a = 0; a < 3; ++a)
    chunk[a] = std::min(extent[a], floor_pow2(double(kChunkAlongFinest) * finest / spacing[a]));
  return chunk;
}

std::array<double, 3> spacing_of(const Shape3& factor, const std::array<double, 3>& voxel) {
  return {voxel[0] * double(factor.z), voxel[1] * double(factor.y), voxel[2] * double(factor.x)};
}

// The axes to halve after `level`: the ones that can (extent >= 2) whose spacing is
// below twice the finest spacing among those. None when no axis can be halved.
std::array<bool, 3> axes_to_halve(const PyramidLevel& level, const std::array<double, 3>& voxel) {
  const auto spacing = spacing_of(level.factor, voxel);
  double finest = INFINITY;
  for (int a = 0; a < 3; ++a)
    if (level.extent[a] >= 2) finest = std::min(finest, spacing[a]);
  std::array<bool, 3> halve{};
  for (int a = 0; a < 3; ++a) halve[a] = level.extent[a] >= 2 && spacing[a] < 2.0 * finest;
  return halve;
}

void validate(const Shape3& extent, const std::array<double, 3>& voxel, int levels) {
  H5DECON_REQUIRE(extent.z > 0 && extent.y > 0 && extent.x > 0, InputError,
                  "pyramid: the volume extent ", extent.str(), " is empty");
  for (const double v : voxel)
    H5DECON_REQUIRE(std::isfinite(v) && v > 0.0, InputError,
                    "pyramid: voxel sizes must be positive numbers, got ", v);
  H5DECON_REQUIRE(levels >= 0, InputError,
                  "pyramid: the number of levels must be >= 0 (0: auto), got ", levels);
}

}  // namespace

std::vector<PyramidLevel> plan_pyramid(Shape3 extent, std::array<double, 3> voxel_zyx, int levels) {
  validate(extent, voxel_zyx, levels);
  const int wanted = levels > 0 ? std::min(levels, kPyramidMaxLevels) : kPyramidMaxLevels;
  std::vector<PyramidLevel> plan{{{1, 1, 1}, extent, chunk_for(extent, voxel_zyx)}};
  while (static_cast<int>(plan.size()) < wanted) {
    const PyramidLevel& last = plan.back();
    if (levels == 0 &&
        std::max({last.extent.z, last.extent.y, last.extent.x}) <= kPyramidSmallExtent)
      break;
    const auto halve = axes_to_halve(last, voxel_zyx);
    if (!halve[0] && !halve[1] && !halve[2]) break;
    PyramidLevel next;
    for (int a = 0; a < 3; ++a) {
      next.factor[a] = last.factor[a] * (halve[a] ? 2 : 1);
      next.extent[a] = ceil_div(extent[a], next.factor[a]);
    }
    next.chunk = chunk_for(next.extent, spacing_of(next.factor, voxel_zyx));
    plan.push_back(next);
  }
  return plan;
}

std::array<bool, 3> halved_axes(const PyramidLevel& from, const PyramidLevel& to) {
  return {to.factor.z != from.factor.z, to.factor.y != from.factor.y, to.factor.x != from.factor.x};
}

Volume downsample_mean(const Volume& v, std::array<bool, 3> halve) {
  const Shape3 in = v.shape;
  const Shape3 step{halve[0] ? 2 : 1, halve[1] ? 2 : 1, halve[2] ? 2 : 1};
  Volume out({ceil_div(in.z, step.z), ceil_div(in.y, step.y), ceil_div(in.x, step.x)});
  for (std::int64_t z = 0; z < out.shape.z; ++z)
    for (std::int64_t y = 0; y < out.shape.y; ++y)
      for (std::int64_t x = 0; x < out.shape.x; ++x) {
        double sum = 0.0;
        int count = 0;
        for (std::int64_t iz = z * step.z; iz < std::min(in.z, (z + 1) * step.z); ++iz)
          for (std::int64_t iy = y * step.y; iy < std::min(in.y, (y + 1) * step.y); ++iy)
            for (std::int64_t ix = x * step.x; ix < std::min(in.x, (x + 1) * step.x); ++ix) {
              sum += v.at(iz, iy, ix);
              ++count;
            }
        out.at(z, y, x) = static_cast<float>(sum / count);
      }
  return out;
}

}  // namespace h5decon
