// The Born-Wolf PSF model and crop_psf().
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "h5decon/error.hpp"
#include "h5decon/psf_model.hpp"

using namespace h5decon;

namespace {

BornWolfParams water_objective(Shape3 shape = {33, 33, 33}) {
  BornWolfParams p;
  p.na = 1.0;
  p.wavelength_nm = 520;
  p.immersion_index = 1.33;
  p.voxel_um = {0.2, 0.1, 0.1};
  p.shape = shape;
  return p;
}

// Full width at half maximum (µm) of the profile through the centre along `axis`,
// with linear interpolation between voxels.
double fwhm(const Volume& v, int axis, double voxel) {
  const Shape3 c{v.shape.z / 2, v.shape.y / 2, v.shape.x / 2};
  auto value = [&](std::int64_t i) {
    Shape3 p = c;
    p[axis] = c[axis] + i;
    return double(v.at(p.z, p.y, p.x));
  };
  const double half = value(0) / 2;
  for (std::int64_t i = 1; c[axis] + i < v.shape[axis]; ++i)
    if (value(i) < half) {
      const double f = (value(i - 1) - half) / (value(i - 1) - value(i));
      return 2.0 * (double(i - 1) + f) * voxel;
    }
  return INFINITY;
}

std::string error_of(const BornWolfParams& p) {
  try {
    born_wolf_psf(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BornWolf, SumsToOneAndPeaksAtTheCentre) {
  const Volume v = born_wolf_psf(water_objective({32, 33, 34}));
  EXPECT_NEAR(std::accumulate(v.data.begin(), v.data.end(), 0.0), 1.0, 1e-5);
  const auto peak = std::max_element(v.data.begin(), v.data.end()) - v.data.begin();
  EXPECT_EQ(peak, (16 * 33 + 16) * 34 + 17);  // voxel n/2 on every axis
}

TEST(BornWolf, IsSymmetricOnEveryAxis) {
  const Volume v = born_wolf_psf(water_objective({21, 25, 25}));
  const Shape3 s = v.shape;
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        const float a = v.at(z, y, x);
        ASSERT_FLOAT_EQ(a, v.at(s.z - 1 - z, y, x));
        ASSERT_FLOAT_EQ(a, v.at(z, s.y - 1 - y, x));
        ASSERT_FLOAT_EQ(a, v.at(z, y, s.x - 1 - x));
        ASSERT_FLOAT_EQ(a, v.at(z, x, y));  // square voxels in y, x: round
      }
}

TEST(BornWolf, LateralWidthIsTheAiryWidth) {
  const BornWolfParams p = water_objective();
  const Volume v = born_wolf_psf(p);
  const double expected = 0.51 * p.wavelength_nm * 1e-3 / p.na;  // 0.265 µm
  EXPECT_NEAR(fwhm(v, 2, 0.1), expected, 0.15 * expected);
  EXPECT_NEAR(fwhm(v, 1, 0.1), expected, 0.15 * expected);
}

TEST(BornWolf, AxialExtentIsLongerThanLateral) {
  const Volume v = born_wolf_psf(water_objective({65, 33, 33}));
  const double axial = fwhm(v, 0, 0.2), lateral = fwhm(v, 2, 0.1);
  EXPECT_GT(axial, 2.0 * lateral);
  // Paraxial Born-Wolf: axial FWHM ≈ 0.886 * 2 n λ / NA² ≈ 1.23 µm here.
  EXPECT_NEAR(axial, 0.886 * 2 * 1.33 * 0.52, 0.15 * 1.23);
}

TEST(BornWolf, RefusesInvalidParameters) {
  BornWolfParams p = water_objective();
  p.na = 1.4;
  EXPECT_NE(error_of(p).find("--na 1.4 must be smaller than the immersion index 1.33"),
            std::string::npos) << error_of(p);
  p = water_objective();
  p.na = 0;
  EXPECT_NE(error_of(p).find("--na must be a positive number"), std::string::npos);
  p = water_objective();
  p.wavelength_nm = -500;
  EXPECT_NE(error_of(p).find("--wavelength-nm must be a positive number"), std::string::npos);
  p = water_objective();
  p.immersion_index = NAN;
  EXPECT_NE(error_of(p).find("--immersion-index must be a positive number"), std::string::npos);
  p = water_objective();
  p.voxel_um[1] = 0;
  EXPECT_NE(error_of(p).find("--voxel-um: the y size must be a positive"), std::string::npos);
  p = water_objective();
  p.shape.x = 0;
  EXPECT_NE(error_of(p).find("--shape: the x extent must be >= 1"), std::string::npos);
}

namespace {
// Brute force: the fewest voxels of any centred box holding `need` of the flux.
std::int64_t brute_force_voxels(const Volume& v, double energy) {
  const Shape3 n = v.shape;
  double total = std::accumulate(v.data.begin(), v.data.end(), 0.0);
  std::int64_t best = n.size();
  auto lo = [](std::int64_t m, std::int64_t r) { return m / 2 - r; };
  auto hi = [](std::int64_t m, std::int64_t r) { return m / 2 + r + m % 2; };
  for (std::int64_t rz = 1 - n.z % 2; rz <= n.z / 2; ++rz)
    for (std::int64_t ry = 1 - n.y % 2; ry <= n.y / 2; ++ry)
      for (std::int64_t rx = 1 - n.x % 2; rx <= n.x / 2; ++rx) {
        double f = 0;
        for (auto z = lo(n.z, rz); z < hi(n.z, rz); ++z)
          for (auto y = lo(n.y, ry); y < hi(n.y, ry); ++y)
            for (auto x = lo(n.x, rx); x < hi(n.x, rx); ++x) f += v.at(z, y, x);
        if (f >= energy * total * (1 - 1e-12))
          best = std::min(best, (hi(n.z, rz) - lo(n.z, rz)) * (hi(n.y, ry) - lo(n.y, ry)) *
                                    (hi(n.x, rx) - lo(n.x, rx)));
      }
  return best;
}
}  // namespace

TEST(CropPsf, KeepsTheCentreAndParityAndTheFlux) {
  const Volume v = born_wolf_psf(water_objective({40, 41, 41}));
  const CroppedPsf c = crop_psf(v, 0.99);
  EXPECT_EQ(c.original, v.shape);
  EXPECT_GE(c.energy_kept, 0.99);
  EXPECT_EQ(c.psf.shape.z % 2, 0);
  EXPECT_EQ(c.psf.shape.y % 2, 1);
  EXPECT_LT(c.psf.shape.size(), v.shape.size());
  const Shape3 s = c.psf.shape, o = v.shape;
  EXPECT_EQ(c.psf.at(s.z / 2, s.y / 2, s.x / 2), v.at(o.z / 2, o.y / 2, o.x / 2));
  EXPECT_EQ(c.psf.at(0, s.y / 2, s.x / 2), v.at(o.z / 2 - s.z / 2, o.y / 2, o.x / 2));
  EXPECT_GT(s.z * 0.2, s.x * 0.1);  // the axial support is the longer one
}

TEST(CropPsf, IsTheSmallestBox) {
  std::mt19937 rng(3);
  std::exponential_distribution<float> tail(1.0f);
  for (const Shape3 shape : {Shape3{7, 8, 9}, Shape3{6, 5, 10}, Shape3{1, 9, 4}}) {
    Volume v(shape);
    for (std::int64_t z = 0; z < shape.z; ++z)
      for (std::int64_t y = 0; y < shape.y; ++y)
        for (std::int64_t x = 0; x < shape.x; ++x) {
          const double r2 = std::pow(z - shape.z / 2, 2) + std::pow(y - shape.y / 2, 2) +
                            std::pow(x - shape.x / 2, 2);
          v.at(z, y, x) = float(std::exp(-r2 / 4.0)) * tail(rng);
        }
    for (double energy : {0.5, 0.9, 0.999, 1.0}) {
      const CroppedPsf c = crop_psf(v, energy);
      EXPECT_EQ(c.psf.shape.size(), brute_force_voxels(v, energy)) << shape.str() << " " << energy;
      EXPECT_GE(c.energy_kept, energy * (1 - 1e-9));
    }
  }
}

TEST(CropPsf, EnergyOneKeepsEveryNonZeroVoxel) {
  Volume v({9, 9, 9});
  v.at(4, 4, 4) = 1;
  v.at(2, 4, 5) = 0.5;
  const CroppedPsf c = crop_psf(v, 1.0);
  EXPECT_EQ(c.psf.shape, (Shape3{5, 1, 3}));
  EXPECT_DOUBLE_EQ(c.energy_kept, 1.0);
}

TEST(CropPsf, RefusesBadEnergies) {
  const Volume v({3, 3, 3}, 1.0f);
  EXPECT_THROW(crop_psf(v, 0.0), InputError);
  EXPECT_THROW(crop_psf(v, 1.5), InputError);
  EXPECT_THROW(crop_psf(Volume({3, 3, 3}), 0.9), InputError);
}

TEST(BornWolf, PixelIntegrationEqualsAFineGridBinned) {
  // Coarse camera pixels (130 nm for a 461 nm, NA 1.45 core): integrated with 7 x 7
  // points per voxel against the same PSF sampled on a 7x finer grid and binned 7 x 7.
  BornWolfParams coarse;
  coarse.na = 1.45;
  coarse.wavelength_nm = 461;
  coarse.immersion_index = 1.512;
  coarse.voxel_um = {0.3, 0.13, 0.13};
  coarse.shape = {5, 11, 11};
  coarse.lateral_samples = 7;
  const Volume integrated = born_wolf_psf(coarse);
  BornWolfParams fine = coarse;
  fine.voxel_um = {0.3, 0.13 / 7, 0.13 / 7};
  fine.shape = {5, 77, 77};
  fine.lateral_samples = 1;
  const Volume f = born_wolf_psf(fine);
  Volume binned(coarse.shape, 0.0f);
  for (std::int64_t z = 0; z < 5; ++z)
    for (std::int64_t y = 0; y < 77; ++y)
      for (std::int64_t x = 0; x < 77; ++x) binned.at(z, y / 7, x / 7) += f.at(z, y, x);
  double peak = 0, worst = 0;
  for (std::size_t i = 0; i < binned.data.size(); ++i) {
    peak = std::max(peak, double(binned.data[i]));
    worst = std::max(worst, std::abs(double(integrated.data[i]) - binned.data[i]));
  }
  EXPECT_LT(worst, 0.01 * peak) << "max difference " << worst << " of peak " << peak;
  // Point samples are too peaked for such pixels: the centre voxel holds more.
  coarse.lateral_samples = 1;
  const Volume point = born_wolf_psf(coarse);
  EXPECT_GT(point.at(2, 5, 5), integrated.at(2, 5, 5) * 1.1f);
}
