// resample_psf(): a PSF moved onto another voxel grid, centre on centre.
#include <algorithm>
#include <cmath>

#include "h5decon/error.hpp"
#include "h5decon/psf.hpp"

namespace h5decon {
namespace {

// Trilinear value of `v` at fractional index (z, y, x); 0 outside.
double trilinear(const Volume& v, double z, double y, double x) {
  const double p[3] = {z, y, x};
  std::int64_t i0[3];
  double w1[3];
  for (int a = 0; a < 3; ++a) {
    const double f = std::floor(p[a]);
    i0[a] = static_cast<std::int64_t>(f);
    w1[a] = p[a] - f;
  }
  double sum = 0.0;
  for (int dz = 0; dz < 2; ++dz)
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const std::int64_t iz = i0[0] + dz, iy = i0[1] + dy, ix = i0[2] + dx;
        if (iz < 0 || iy < 0 || ix < 0 || iz >= v.shape.z || iy >= v.shape.y || ix >= v.shape.x)
          continue;
        const double w = (dz ? w1[0] : 1 - w1[0]) * (dy ? w1[1] : 1 - w1[1]) *
                         (dx ? w1[2] : 1 - w1[2]);
        sum += w * v.at(iz, iy, ix);
      }
  return sum;
}

}  // namespace

Volume resample_psf(const Volume& psf, const VoxelSize& from, const VoxelSize& to) {
  Shape3 shape;
  std::array<int, 3> sub{};  // samples per target voxel and axis: the footprint's average
  for (int a = 0; a < 3; ++a) {
    H5DECON_REQUIRE(from[std::size_t(a)] > 0 && to[std::size_t(a)] > 0, InputError,
                    "resampling a PSF needs positive voxel sizes");
    const double ratio = from[std::size_t(a)] / to[std::size_t(a)];
    // The same physical extent, odd so that the centre is a voxel.
    std::int64_t n = std::max<std::int64_t>(1, std::llround(double(psf.shape[a]) * ratio));
    if (n % 2 == 0) ++n;
    shape[a] = n;
    sub[std::size_t(a)] = std::clamp(int(std::ceil(1.0 / ratio)), 1, 8);
  }
  Volume out(shape);
  for (std::int64_t z = 0; z < shape.z; ++z)
    for (std::int64_t y = 0; y < shape.y; ++y)
      for (std::int64_t x = 0; x < shape.x; ++x) {
        const std::int64_t j[3] = {z, y, x};
        double sum = 0.0;
        for (int sz = 0; sz < sub[0]; ++sz)
          for (int sy = 0; sy < sub[1]; ++sy)
            for (int sx = 0; sx < sub[2]; ++sx) {
              const int s[3] = {sz, sy, sx};
              double p[3];
              for (int a = 0; a < 3; ++a) {
                // Position in micrometres from the centre voxel, then in source indices.
                const double offset = (double(s[a]) + 0.5) / sub[std::size_t(a)] - 0.5;
                const double um = (double(j[a] - shape[a] / 2) + offset) * to[std::size_t(a)];
                p[a] = um / from[std::size_t(a)] + double(psf.shape[a] / 2);
              }
              sum += trilinear(psf, p[0], p[1], p[2]);
            }
        out.at(z, y, x) = static_cast<float>(sum / (sub[0] * sub[1] * sub[2]));
      }
  return out;
}

}  // namespace h5decon
