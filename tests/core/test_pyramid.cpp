// Pyramid plans and mean downsampling (pyramid.hpp), for the BigDataViewer export.
#include <gtest/gtest.h>

#include "h5decon/error.hpp"
#include "h5decon/pyramid.hpp"

using namespace h5decon;

namespace {

Volume ramp(Shape3 s) {
  Volume v(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) v.at(z, y, x) = float(100 * z + 10 * y + x);
  return v;
}

}  // namespace

TEST(DownsampleMean, AveragesEachTwoByTwoByTwoBlock) {
  const Volume v = ramp({4, 4, 6});
  const Volume d = downsample_mean(v, {true, true, true});
  ASSERT_EQ(d.shape, (Shape3{2, 2, 3}));
  for (std::int64_t z = 0; z < 2; ++z)
    for (std::int64_t y = 0; y < 2; ++y)
      for (std::int64_t x = 0; x < 3; ++x) {
        double sum = 0;
        for (int dz = 0; dz < 2; ++dz)
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) sum += v.at(2 * z + dz, 2 * y + dy, 2 * x + dx);
        EXPECT_FLOAT_EQ(d.at(z, y, x), float(sum / 8)) << z << "," << y << "," << x;
      }
}

TEST(DownsampleMean, OddEndAveragesOnlyTheVoxelsItHas) {
  Volume v({1, 1, 5});
  v.data = {1, 3, 5, 7, 11};
  const Volume d = downsample_mean(v, {false, false, true});
  ASSERT_EQ(d.shape, (Shape3{1, 1, 3}));
  EXPECT_FLOAT_EQ(d.at(0, 0, 0), 2.0f);
  EXPECT_FLOAT_EQ(d.at(0, 0, 1), 6.0f);
  EXPECT_FLOAT_EQ(d.at(0, 0, 2), 11.0f);  // a window of one voxel, not (11 + 0) / 2
}

TEST(DownsampleMean, LeavesAxesNotFlaggedAlone) {
  const Volume v = ramp({3, 4, 4});
  const Volume d = downsample_mean(v, {false, true, true});
  ASSERT_EQ(d.shape, (Shape3{3, 2, 2}));
  // z untouched: plane z keeps its offset 100 z; y and x averaged in pairs.
  EXPECT_FLOAT_EQ(d.at(2, 1, 0), 200.0f + 10.0f * 2.5f + 0.5f);
}

TEST(DownsampleMean, KeepsTheMeanOfEvenVolumes) {
  const Volume v = ramp({6, 8, 10});
  const Volume d = downsample_mean(v, {true, true, true});
  double a = 0, b = 0;
  for (float x : v.data) a += x;
  for (float x : d.data) b += x;
  EXPECT_NEAR(a / double(v.data.size()), b / double(d.data.size()), 1e-3);
}

TEST(PlanPyramid, HalvesIsotropicDataOnEveryAxisUntilSmall) {
  const auto plan = plan_pyramid({200, 300, 500}, {1, 1, 1});
  ASSERT_EQ(plan.size(), 4u);  // largest extent 500, 250, 125, 63
  EXPECT_EQ(plan[0].factor, (Shape3{1, 1, 1}));
  EXPECT_EQ(plan[0].extent, (Shape3{200, 300, 500}));
  EXPECT_EQ(plan[3].factor, (Shape3{8, 8, 8}));
  EXPECT_EQ(plan[3].extent, (Shape3{25, 38, 63}));
  EXPECT_EQ(plan[0].chunk, (Shape3{32, 32, 32}));
  EXPECT_EQ(plan[3].chunk, (Shape3{25, 32, 32}));  // clamped to the extent
  EXPECT_EQ(halved_axes(plan[0], plan[1]), (std::array<bool, 3>{true, true, true}));
}

TEST(PlanPyramid, HalvesTheFineAxesOfAnisotropicDataFirst) {
  // z spacing 4x the lateral one: y and x are halved twice before z is.
  const auto plan = plan_pyramid({100, 1024, 1024}, {0.4, 0.1, 0.1});
  ASSERT_GE(plan.size(), 4u);
  EXPECT_EQ(plan[1].factor, (Shape3{1, 2, 2}));
  EXPECT_EQ(plan[2].factor, (Shape3{1, 4, 4}));
  EXPECT_EQ(plan[3].factor, (Shape3{2, 8, 8}));
  EXPECT_EQ(plan[0].chunk, (Shape3{8, 32, 32}));  // about as long in z as in y and x
  EXPECT_EQ(plan[2].chunk, (Shape3{32, 32, 32}));
}

TEST(PlanPyramid, GivesTheLevelsAskedForAndStopsWhenNothingCanBeHalved) {
  EXPECT_EQ(plan_pyramid({16, 16, 16}, {1, 1, 1}).size(), 1u);  // already small
  const auto three = plan_pyramid({16, 16, 16}, {1, 1, 1}, 3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[2].extent, (Shape3{4, 4, 4}));
  const auto flat = plan_pyramid({1, 4, 3}, {1, 1, 1}, 10);
  ASSERT_EQ(flat.size(), 3u);  // 1x4x3 -> 1x2x2 -> 1x1x1
  EXPECT_EQ(flat[2].extent, (Shape3{1, 1, 1}));
  EXPECT_EQ(flat[1].factor.z, 1);
}

TEST(PlanPyramid, RefusesEmptyExtentsAndBadVoxelSizes) {
  EXPECT_THROW(plan_pyramid({0, 4, 4}, {1, 1, 1}), InputError);
  EXPECT_THROW(plan_pyramid({4, 4, 4}, {1, 0, 1}), InputError);
  EXPECT_THROW(plan_pyramid({4, 4, 4}, {1, 1, 1}, -1), InputError);
}
