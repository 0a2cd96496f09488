#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "h5decon/error.hpp"
#include "h5decon/metrics.hpp"
#include "h5decon/psf.hpp"

using namespace h5decon;

namespace {
Volume ramp(Shape3 s) {
  Volume v(s);
  for (std::size_t i = 0; i < v.data.size(); ++i) v.data[i] = float(i + 1);
  return v;
}

std::string error_of(Volume v, Shape3 volume) {
  try {
    prepare_psf(std::move(v), "psf.h5:/psf", volume);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Psf, IsNormalisedToUnitSum) {
  const Psf p = prepare_psf(ramp({3, 4, 5}), "x", {10, 10, 10});
  EXPECT_NEAR(sum(p.kernel.span()), 1.0, 1e-6);
  EXPECT_EQ(p.clamped, 0);
}

TEST(Psf, NegativeValuesAreClampedAndCounted) {
  Volume v = ramp({3, 3, 3});
  v.data[0] = -5.0f;
  v.data[1] = -1.0f;
  const Psf p = prepare_psf(v, "x", {3, 3, 3});
  EXPECT_EQ(p.clamped, 2);
  EXPECT_EQ(p.kernel.data[0], 0.0f);
}

TEST(Psf, NonFiniteValuesAreRefusedNamingTheSource) {
  Volume v = ramp({3, 3, 3});
  v.data[4] = std::numeric_limits<float>::quiet_NaN();
  const std::string msg = error_of(v, {8, 8, 8});
  EXPECT_NE(msg.find("psf.h5:/psf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("non-finite"), std::string::npos) << msg;
  v.data[4] = std::numeric_limits<float>::infinity();
  EXPECT_NE(error_of(v, {8, 8, 8}).find("non-finite"), std::string::npos);
}

TEST(Psf, ANonPositiveSumIsRefused) {
  EXPECT_NE(error_of(Volume({3, 3, 3}, 0.0f), {8, 8, 8}).find("sum is not positive"),
            std::string::npos);
  EXPECT_NE(error_of(Volume({3, 3, 3}, -1.0f), {8, 8, 8}).find("sum is not positive"),
            std::string::npos);
}

TEST(Psf, APsfUpToTwiceTheVolumeIsKeptWhole) {
  Psf p = prepare_psf(ramp({15, 3, 3}), "x");
  const Volume before = p.kernel;
  EXPECT_EQ(limit_psf_to_volume(p, {8, 8, 8}), "");
  EXPECT_EQ(p.kernel.data, before.data);
  EXPECT_EQ(p.flux_used, 1.0);
}

TEST(Psf, ALongerPsfIsCroppedCentredToTwiceTheVolumeAndSaysWhatItKept) {
  Volume raw({21, 3, 4}, 0.0f);
  for (std::int64_t z = 0; z < 21; ++z) raw.at(z, 1, 2) = 1.0f + float(z == 10) * 9.0f;
  Psf p = prepare_psf(raw, "x");
  const std::string note = limit_psf_to_volume(p, {8, 8, 8});
  EXPECT_EQ(p.kernel.shape, (Shape3{15, 3, 4}));
  EXPECT_NE(note.find("cropped to 15x3x4"), std::string::npos) << note;
  // 15 of the 20 unit voxels plus the centre's 10, of 30: the centre stays voxel n/2.
  EXPECT_NEAR(p.flux_used, 24.0 / 30.0, 1e-6);
  EXPECT_NEAR(p.kernel.at(7, 1, 2), 10.0 / 24.0, 1e-6);
  double sum = 0;
  for (float v : p.kernel.data) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

// A Gaussian spot of flux 1000 on a 17^3 box, plus a constant camera level.
Volume spot_with_level(float level) {
  Volume v({17, 17, 17}, level);
  for (std::int64_t z = 0; z < 17; ++z)
    for (std::int64_t y = 0; y < 17; ++y)
      for (std::int64_t x = 0; x < 17; ++x) {
        const double r2 = double((z - 8) * (z - 8) + (y - 8) * (y - 8) + (x - 8) * (x - 8));
        v.at(z, y, x) += float(1000.0 * std::exp(-r2 / 4.0) / 50.13);
      }
  return v;
}

TEST(Psf, AConstantBackgroundInThePsfIsMeasuredAndWarnedAbout) {
  const Psf clean = prepare_psf(spot_with_level(0.0f), "clean");
  EXPECT_LT(constant_level_share(clean), 1e-3);
  EXPECT_EQ(background_note(clean, 1000.0), "");
  // 4913 voxels at 2 counts: 9826 of 10826 counts (91%) are background.
  Volume raw = spot_with_level(2.0f);
  double sum = 0;
  for (float v : raw.data) sum += v;
  const Psf offset = prepare_psf(raw, "bead.tif");
  EXPECT_NEAR(constant_level_share(offset), 9826.0 / sum, 0.01);
  const std::string note = background_note(offset, sum);
  EXPECT_NE(note.find("hold a level of 2 "), std::string::npos) << note;
  EXPECT_NE(note.find("subtract the background"), std::string::npos) << note;
}

// A Gaussian of sigma (0.4, 0.25, 0.25) um sampled at voxel v on n voxels, sum 1.
Volume gaussian_at(Shape3 n, VoxelSize v) {
  Volume g(n);
  double sum = 0;
  for (std::int64_t z = 0; z < n.z; ++z)
    for (std::int64_t y = 0; y < n.y; ++y)
      for (std::int64_t x = 0; x < n.x; ++x) {
        const double dz = double(z - n.z / 2) * v[0] / 0.4, dy = double(y - n.y / 2) * v[1] / 0.25,
                     dx = double(x - n.x / 2) * v[2] / 0.25;
        g.at(z, y, x) = float(std::exp(-0.5 * (dz * dz + dy * dy + dx * dx)));
        sum += g.at(z, y, x);
      }
  for (float& f : g.data) f = float(f / sum);
  return g;
}

TEST(PsfResample, MovesAPsfOntoAnotherGridCentreOnCentre) {
  const VoxelSize fine{0.1, 0.05, 0.05}, coarse{0.2, 0.1, 0.1};
  // Down: 41x41x41 at the fine voxel is 4.1 um deep; at the coarse one 21 planes.
  const Psf down = prepare_psf(resample_psf(gaussian_at({41, 41, 41}, fine), fine, coarse), "d");
  EXPECT_EQ(down.kernel.shape, (Shape3{21, 21, 21}));
  const Volume want = gaussian_at({21, 21, 21}, coarse);
  double worst = 0, peak = 0;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    worst = std::max(worst, std::abs(double(down.kernel.data[i]) - want.data[i]));
    peak = std::max(peak, double(want.data[i]));
  }
  EXPECT_LT(worst, 0.05 * peak) << "down: max difference " << worst << " of peak " << peak;
  EXPECT_EQ(off_centre_note(down), "");
  // Up: the coarse PSF onto the fine grid is the fine Gaussian within the same bound.
  const Psf up = prepare_psf(resample_psf(want, coarse, fine), "u");
  EXPECT_EQ(up.kernel.shape, (Shape3{43, 43, 43}));
  const Volume fine_want = gaussian_at({43, 43, 43}, fine);
  worst = peak = 0;
  for (std::size_t i = 0; i < fine_want.data.size(); ++i) {
    worst = std::max(worst, std::abs(double(up.kernel.data[i]) - fine_want.data[i]));
    peak = std::max(peak, double(fine_want.data[i]));
  }
  // Linear interpolation flattens the peak of a Gaussian sampled at 2.5 voxels per sigma.
  EXPECT_LT(worst, 0.08 * peak) << "up: max difference " << worst << " of peak " << peak;
}

TEST(PsfVoxelSize, AgreesWithinOnePercentOrWhenEitherIsUnknown) {
  const VoxelSize data{0.4, 0.1, 0.1};
  EXPECT_EQ(voxel_size_mismatch(data, "in", VoxelSize{0.403, 0.0995, 0.1}, "psf"), "");
  EXPECT_EQ(voxel_size_mismatch(std::nullopt, "in", data, "psf"), "");
  EXPECT_EQ(voxel_size_mismatch(data, "in", std::nullopt, "psf"), "");
}

TEST(PsfVoxelSize, AMismatchNamesBothSourcesSizesAndAxes) {
  const std::string z = voxel_size_mismatch(VoxelSize{0.4, 0.1, 0.1}, "input 'a.h5:/data'",
                                            VoxelSize{0.2, 0.1, 0.1}, "PSF 'p.tif'");
  EXPECT_EQ(z,
            "the PSF's voxel size differs from the data's on axis z: input 'a.h5:/data' has "
            "voxels of (z,y,x) 0.4,0.1,0.1 um but PSF 'p.tif' was sampled at 0.2,0.1,0.1 um; "
            "regenerate the PSF at the data's voxel size (h5decon psf --voxel-um 0.4,0.1,0.1) "
            "or resample it");
  const std::string yx = voxel_size_mismatch(VoxelSize{0.4, 0.1, 0.1}, "in",
                                             VoxelSize{0.4, 0.102, 0.0985}, "psf");
  EXPECT_NE(yx.find("on axes y, x:"), std::string::npos) << yx;
}
