// Image-quality measures and the shared RL option helpers (metrics.hpp, rl_domain.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "h5decon/error.hpp"
#include "h5decon/metrics.hpp"
#include "h5decon/phantom.hpp"
#include "h5decon/rl_domain.hpp"

using namespace h5decon;

namespace {

Volume smooth_volume(Shape3 s) {
  Volume v(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x)
        v.at(z, y, x) = float(50 + 30 * std::sin(0.4 * x) * std::cos(0.3 * y + 0.2 * z));
  return v;
}

Volume noisy(const Volume& v, double sigma, std::uint64_t seed) {
  Rng rng(seed);
  Volume out = v;
  for (float& x : out.data) x += float(sigma * rng.normal());
  return out;
}

}  // namespace

TEST(Ssim3, IsOneForTheTruthAndFallsWithNoise) {
  const Volume t = smooth_volume({16, 18, 20});
  const Ssim3 ssim(t.span(), t.shape);
  EXPECT_NEAR(ssim(t.span()), 1.0, 1e-6);
  const double a = ssim(noisy(t, 2.0, 1).span()), b = ssim(noisy(t, 8.0, 1).span());
  EXPECT_LT(a, 1.0);
  EXPECT_LT(b, a);
  EXPECT_GT(b, 0.0);
}

TEST(Ssim3, RefusesAVolumeSmallerThanItsWindow) {
  const Volume t({10, 20, 20}, 1.0f);
  EXPECT_THROW(Ssim3(t.span(), t.shape), Error);
}

TEST(RegionPsnr, SeparatesTheEdgeShellFromTheInterior) {
  const Volume t = smooth_volume({12, 12, 12});
  Volume u = t;
  u.at(0, 5, 5) += 10.0f;  // an error in the shell only
  const RegionPsnr r = region_psnr(u.span(), t.span(), t.shape, {2, 2, 2});
  EXPECT_TRUE(std::isinf(r.interior));
  EXPECT_TRUE(std::isfinite(r.shell));
}

TEST(RlDomain, OnlyBerteroExtendsTheEstimateByHalfThePsf) {
  EXPECT_EQ(estimate_margin(Boundary::reflect, {7, 5, 4}), (Shape3{0, 0, 0}));
  EXPECT_EQ(estimate_margin(Boundary::bertero, {7, 5, 4}), (Shape3{3, 2, 2}));
  EXPECT_EQ(estimate_shape(Boundary::bertero, {10, 11, 12}, {7, 5, 4}), (Shape3{16, 15, 16}));
}

TEST(RlDomain, BackgroundOfAConstantVolumeIsItsValue) {
  const Volume v({9, 20, 3}, 42.0f);  // partial tiles and an axis shorter than a tile
  EXPECT_FLOAT_EQ(estimate_background(v.span(), v.shape), 42.0f);
  RlOptions o;
  o.background = 3.0f;
  EXPECT_FLOAT_EQ(resolve_background(o, v.span(), v.shape), 3.0f);
  o.background_auto = true;
  EXPECT_FLOAT_EQ(resolve_background(o, v.span(), v.shape), 42.0f);
}

TEST(RlOptionNames, AccelerationAndBerteroParseAndPrint) {
  EXPECT_EQ(parse_acceleration("biggs"), Acceleration::biggs);
  EXPECT_EQ(parse_acceleration("biggs-log"), Acceleration::biggs_log);
  EXPECT_EQ(to_string(Acceleration::biggs_log), "biggs-log");
  EXPECT_TRUE(extrapolates(Acceleration::biggs_log) && !extrapolates(Acceleration::none));
  EXPECT_EQ(to_string(Acceleration::none), "none");
  EXPECT_EQ(parse_boundary("bertero"), Boundary::bertero);
  EXPECT_THROW(parse_acceleration("fast"), InputError);
  RlOptions o;
  o.tv_lambda = -1.0f;
  EXPECT_THROW(validate(o), InputError);
  o = RlOptions{};
  o.stop_rel_change = std::nan("");
  EXPECT_THROW(validate(o), InputError);
}
