// psf --from-beads: a known PSF recovered from synthetic beads (Poisson noise, a
// camera offset, sub-voxel positions), crowded and border beads left out.
#include "h5decon/bead_psf.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "h5decon/error.hpp"

using namespace h5decon;

namespace {

constexpr double kSigma[3] = {2.0, 1.2, 1.5};  // the known PSF: a Gaussian, in voxels

double gaussian(double dz, double dy, double dx) {
  return std::exp(-0.5 * (dz * dz / (kSigma[0] * kSigma[0]) + dy * dy / (kSigma[1] * kSigma[1]) +
                          dx * dx / (kSigma[2] * kSigma[2])));
}

struct Truth {
  double z, y, x, photons;
};

// 48x96x96, offset 100, Poisson noise; the beads' flux spread by the Gaussian.
Volume bead_image(const std::vector<Truth>& beads, unsigned seed) {
  Volume img({48, 96, 96}, 0.0f);
  const double norm = std::pow(2 * M_PI, 1.5) * kSigma[0] * kSigma[1] * kSigma[2];
  for (std::int64_t z = 0; z < 48; ++z)
    for (std::int64_t y = 0; y < 96; ++y)
      for (std::int64_t x = 0; x < 96; ++x) {
        double v = 100.0;
        for (const Truth& b : beads)
          v += b.photons / norm * gaussian(double(z) - b.z, double(y) - b.y, double(x) - b.x);
        img.at(z, y, x) = float(v);
      }
  std::mt19937_64 rng(seed);
  for (float& v : img.data) v = float(std::poisson_distribution<long>(double(v))(rng));
  return img;
}

}  // namespace

TEST(BeadPsf, RecoversAKnownPsfFromIsolatedBeads) {
  const std::vector<Truth> beads = {
      {20.3, 20.7, 25.2, 4e5}, {24.8, 70.1, 22.6, 3e5}, {27.5, 30.4, 70.9, 5e5},
      {21.2, 72.6, 68.3, 3.5e5}, {25.6, 50.2, 47.5, 4e5},
      {24.0, 88.0, 48.0, 4e5},                           // too close to the y border
      {30.0, 8.0, 90.0, 4e5},                            // near two borders
  };
  BeadPsfOptions o;
  o.box = {17, 17, 17};
  o.crop_energy = 0;  // compare the whole box
  const BeadPsf r = psf_from_beads(bead_image(beads, 7), o);
  ASSERT_EQ(r.beads.size(), 5u) << "the five beads inside";
  EXPECT_NEAR(r.background, 100.0, 1.0);
  for (const Bead& b : r.beads) {
    double best = 1e9;
    for (std::size_t i = 0; i < 5; ++i)
      best = std::min(best, std::hypot(b.z - beads[i].z, b.y - beads[i].y, b.x - beads[i].x));
    EXPECT_LT(best, 0.3) << "bead at " << b.z << "," << b.y << "," << b.x;
  }
  // The average against the known PSF on the same box.
  Volume want({17, 17, 17});
  double sum = 0;
  for (std::int64_t z = 0; z < 17; ++z)
    for (std::int64_t y = 0; y < 17; ++y)
      for (std::int64_t x = 0; x < 17; ++x) sum += want.at(z, y, x) = float(gaussian(z - 8, y - 8, x - 8));
  double worst = 0, peak = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    want.data[i] = float(want.data[i] / sum);
    peak = std::max(peak, double(want.data[i]));
    worst = std::max(worst, std::abs(double(r.psf.data[i]) - want.data[i]));
  }
  EXPECT_LT(worst, 0.05 * peak) << "max difference " << worst << " of peak " << peak;
  for (int a = 0; a < 3; ++a)
    EXPECT_NEAR(r.fwhm[std::size_t(a)], 2.3548 * kSigma[a], 0.05 * 2.3548 * kSigma[a]) << "axis " << a;
}

TEST(BeadPsf, TwoBeadsWithinABoxAreNotUsedAndNoneIsAnError) {
  const std::vector<Truth> pair = {{24.0, 40.0, 40.0, 4e5}, {24.0, 40.0, 46.0, 3e5}};
  BeadPsfOptions o;
  o.box = {17, 17, 17};
  try {
    psf_from_beads(bead_image(pair, 3), o);
    ADD_FAILURE() << "expected no isolated bead";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("with a neighbour within the box"), std::string::npos)
        << e.what();
  }
}

TEST(BeadPsf, FwhmOfAGaussian) {
  Volume g({21, 21, 21});
  for (std::int64_t z = 0; z < 21; ++z)
    for (std::int64_t y = 0; y < 21; ++y)
      for (std::int64_t x = 0; x < 21; ++x) g.at(z, y, x) = float(gaussian(z - 10, y - 10, x - 10));
  const auto f = fwhm_voxels(g);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(f[std::size_t(a)], 2.3548 * kSigma[a], 0.05);
}
