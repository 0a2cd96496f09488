// The estimate's domain and the background estimate (rl_domain.hpp).
#include "h5decon/rl_domain.hpp"

#include <algorithm>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

constexpr std::int64_t kTile = 8;
constexpr double kBackgroundPercentile = 0.02;

// Mean of the tile whose first voxel is (z, y, x), in double (any order is exact enough,
// and this one is fixed).
double tile_mean(std::span<const float> d, Shape3 s, Shape3 tile, std::int64_t z, std::int64_t y,
                 std::int64_t x) {
  double acc = 0.0;
  for (std::int64_t a = z; a < z + tile.z; ++a)
    for (std::int64_t b = y; b < y + tile.y; ++b) {
      const float* row = d.data() + (a * s.y + b) * s.x + x;
      for (std::int64_t c = 0; c < tile.x; ++c) acc += row[c];
    }
  return acc / double(tile.size());
}

}  // namespace

Shape3 estimate_margin(Boundary boundary, Shape3 psf) {
  if (boundary != Boundary::bertero) return {0, 0, 0};
  return {psf.z / 2, psf.y / 2, psf.x / 2};
}

Shape3 estimate_shape(Boundary boundary, Shape3 volume, Shape3 psf) {
  const Shape3 m = estimate_margin(boundary, psf);
  return {volume.z + 2 * m.z, volume.y + 2 * m.y, volume.x + 2 * m.x};
}

Shape3 background_tile(Shape3 s) {
  return {std::min(kTile, s.z), std::min(kTile, s.y), std::min(kTile, s.x)};
}

void append_tile_means(std::span<const float> d, Shape3 s, Shape3 volume,
                       std::vector<double>& means) {
  H5DECON_REQUIRE(s.size() > 0 && static_cast<std::int64_t>(d.size()) == s.size(), Error,
                  "append_tile_means: expected ", s.str(), " voxels");
  const Shape3 tile = background_tile(volume);
  for (std::int64_t z = 0; z + tile.z <= s.z; z += tile.z)
    for (std::int64_t y = 0; y + tile.y <= s.y; y += tile.y)
      for (std::int64_t x = 0; x + tile.x <= s.x; x += tile.x)
        means.push_back(tile_mean(d, s, tile, z, y, x));
}

float estimate_background(std::span<const float> d, Shape3 s) {
  std::vector<double> means;
  append_tile_means(d, s, s, means);
  return background_from_tile_means(std::move(means));
}

float background_from_tile_means(std::vector<double> means) {
  H5DECON_REQUIRE(!means.empty(), Error, "background_from_tile_means: no tiles");
  const auto k = static_cast<std::size_t>(kBackgroundPercentile * double(means.size() - 1));
  std::nth_element(means.begin(), means.begin() + std::ptrdiff_t(k), means.end());
  return static_cast<float>(std::max(0.0, means[k]));
}

float resolve_background(const RlOptions& options, std::span<const float> d, Shape3 shape) {
  return options.background_auto ? estimate_background(d, shape) : options.background;
}

}  // namespace h5decon
