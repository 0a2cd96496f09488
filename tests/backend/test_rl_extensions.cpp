// Invariants of the RL extensions on the CPU engine: Biggs acceleration, the
// Bertero boundary, RL-TV, the background term and stopping on relative change.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "backend/cpu/fft_convolver.hpp"
#include "backend/cpu/rl_extensions.hpp"
#include "backend/reference.hpp"
#include "backend/rl_scenes.hpp"
#include "h5decon/convolve.hpp"
#include "rl/log_extrapolation.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/metrics.hpp"
#include "h5decon/rl_constants.hpp"
#include "h5decon/rl_domain.hpp"

using namespace h5decon;
using test::run_engine;

namespace {

RlOptions rl(int iterations, Boundary b = Boundary::reflect) {
  RlOptions o;
  o.iterations = iterations;
  o.boundary = b;
  return o;
}

Psf delta_psf(Shape3 s) {
  Volume h(s);
  h.at(s.z / 2, s.y / 2, s.x / 2) = 1.0f;
  return {h, "delta", 0};
}

double min_of(const Volume& v) { return *std::min_element(v.data.begin(), v.data.end()); }

// PSNR against the truth after each iteration, through the observer's snapshot.
std::vector<double> psnr_by_iteration(const test::Scene& s, const RlOptions& o) {
  std::vector<double> out;
  Volume snap(s.data.shape);
  run_engine("cpu", s.data, s.psf, o, [&](const IterationReport& r) {
    r.copy_estimate(snap.span());
    out.push_back(psnr(snap.span(), s.truth.span()));
  });
  return out;
}

const test::Scene& small_scene() {
  static const test::Scene s = test::phantom_scene({24, 40, 40}, {11, 7, 7}, 400.0, 0.02, 5);
  return s;
}

}  // namespace

// ---- Biggs-Andrews acceleration --------------------------------------------------

constexpr Acceleration kExtrapolations[] = {Acceleration::biggs, Acceleration::biggs_log};

TEST(Biggs, ReachesPlainRlsBestPsnrInAThirdOfTheIterations) {
  const test::Scene& s = small_scene();
  const std::vector<double> p = psnr_by_iteration(s, rl(60));
  const double best_plain = *std::max_element(p.begin(), p.end());
  for (Acceleration a : kExtrapolations) {
    RlOptions biggs = rl(20);
    biggs.accel = a;
    const std::vector<double> b = psnr_by_iteration(s, biggs);
    EXPECT_GE(*std::max_element(b.begin(), b.end()), best_plain - 0.05)
        << to_string(a) << ": plain's best in 60 iterations " << best_plain;
  }
}

TEST(BiggsLog, ExtrapolationMatchesPowWithinItsStatedError) {
  double worst = 0.0;
  for (double r = 1e-6; r < 1e6; r *= 1.0137)
    for (float a : {0.0f, 0.1f, 0.5f, 0.9f, float(kBiggsMaxAlpha)}) {
      const float x = 3.7f, xp = static_cast<float>(x / r);
      const double exact = x * std::pow(double(x) / double(xp), double(a));
      worst = std::max(worst, std::abs(log_extrapolation(x, xp, a) - exact) / exact);
    }
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(log_extrapolation(0.0f, 2.0f, 0.5f), 0.0f) << "RL keeps a zero at zero";
  EXPECT_EQ(log_extrapolation(2.0f, 0.0f, 0.5f), 2.0f) << "no history: no extrapolation";
  EXPECT_EQ(log_extrapolation(2.0f, 1.0f, 0.0f), 2.0f) << "alpha 0: no extrapolation";
}

TEST(Biggs, ConvergesToTheFixedPointOfPlainRlInFewerIterations) {
  // A well-conditioned blur (OTF >= 0.5) of noise-free data: RL converges to the
  // truth, with or without extrapolation; Biggs gets there sooner.
  const Volume truth = test::test_volume({12, 16, 16}, 3);
  Volume h({3, 3, 3}, 0.4f / 26.0f);
  h.at(1, 1, 1) = 0.6f;
  const Psf psf{h, "near delta", 0};
  const Volume d = convolve(truth, psf, Boundary::periodic);
  RlOptions plain = rl(20, Boundary::periodic);
  const double p20 = test::relative_l1(run_engine("cpu", d, psf, plain), truth);
  plain.iterations = 200;
  const Volume a = run_engine("cpu", d, psf, plain);
  EXPECT_LE(test::relative_l1(a, truth), 1e-4);
  for (Acceleration accel : kExtrapolations) {
    RlOptions biggs = rl(20, Boundary::periodic);
    biggs.accel = accel;
    const double b20 = test::relative_l1(run_engine("cpu", d, psf, biggs), truth);
    biggs.iterations = 200;
    const Volume b = run_engine("cpu", d, psf, biggs);
    EXPECT_LE(test::relative_l1(b, truth), 1e-4) << to_string(accel);
    EXPECT_LE(test::relative_l1(a, b), 1e-4) << to_string(accel);
    EXPECT_LE(b20, 0.5 * p20) << "plain " << p20 << ", " << to_string(accel) << " " << b20
                              << " after 20 iterations";
  }
}

TEST(Biggs, StaysNonNegativeAndKeepsAnIdentityPsfsInput) {
  Volume d = test::test_volume({10, 12, 12}, 10);
  for (std::size_t i = 0; i < d.data.size(); i += 7) d.data[i] = 0.0f;
  RlOptions o = rl(25);
  for (Acceleration a : kExtrapolations)
    for (Boundary b : {Boundary::periodic, Boundary::zero, Boundary::reflect, Boundary::bertero}) {
      o.accel = a;
      o.boundary = b;
      const Volume u = run_engine("cpu", d, Psf{test::test_psf({5, 5, 3}, 11), "t", 0}, o);
      EXPECT_GE(min_of(u), 0.0f) << to_string(a) << " " << to_string(b);
      const Volume id = run_engine("cpu", d, delta_psf({3, 3, 3}), o);
      EXPECT_LE(max_abs_diff(id.span(), d.span()), 1e-5 * max_abs(d.span()))
          << to_string(a) << " " << to_string(b);
    }
}

// ---- Bertero boundary ------------------------------------------------------------

TEST(Bertero, WeightsArePositiveOneInsideAndFallTowardsTheDomainsCorners) {
  const Shape3 v{10, 12, 14}, k{5, 3, 4};
  const Psf psf{test::test_psf(k, 3), "test", 0};
  const Shape3 m = estimate_margin(Boundary::bertero, k),
               e = estimate_shape(Boundary::bertero, v, k);
  BackendOptions o;
  o.planner = FftPlanner::estimate;
  cpu::FftConvolver conv(psf,
                         cpu::ExtensionLayout(e, {1, 1, 1}, padded_shape(v, k), Boundary::zero), o);
  const std::vector<float> inv = cpu::bertero_inverse_weights(conv, v, m, kBerteroWeightFloor);
  ASSERT_EQ(static_cast<std::int64_t>(inv.size()), e.size());
  for (float w : inv) {
    EXPECT_GE(w, 1.0f - 1e-5f);  // H^T M <= 1: a PSF summing to 1
    EXPECT_LE(w, 1.0f / kBerteroWeightFloor);
  }
  // A voxel whose whole PSF footprint lies on observed voxels has weight 1.
  EXPECT_NEAR(inv[std::size_t(((2 * m.z) * e.y + 2 * m.y) * e.x + 2 * m.x)], 1.0f, 1e-5f);
  EXPECT_GT(inv[0], 1.5f);  // the domain's corner: most of its light misses the volume
}

TEST(Bertero, ResultDoesNotDependOnTheFftShape) {
  const Volume d = test::test_volume({11, 13, 12}, 12);
  const Psf psf{test::test_psf({5, 4, 3}, 13), "test", 0};
  const Shape3 p = padded_shape(d.shape, psf.kernel.shape);
  const Volume a = run_engine("cpu", d, psf, rl(10, Boundary::bertero));
  const Volume c =
      run_engine("cpu", d, psf, rl(10, Boundary::bertero), {}, 0, {p.z + 3, p.y + 7, p.x + 6});
  EXPECT_LE(max_abs_diff(a.span(), c.span()), 1e-5 * max_abs(a.span()));
}

TEST(Bertero, AnIdentityPsfReturnsTheInputAndEstimatesStayNonNegative) {
  Volume d = test::test_volume({7, 9, 10}, 9);
  EXPECT_LE(
      max_abs_diff(run_engine("cpu", d, delta_psf({3, 3, 3}), rl(4, Boundary::bertero)).span(),
                   d.span()),
      1e-5 * max_abs(d.span()));
  for (std::size_t i = 0; i < d.data.size(); i += 7) d.data[i] = 0.0f;
  const Volume u =
      run_engine("cpu", d, Psf{test::test_psf({5, 5, 3}, 11), "t", 0}, rl(15, Boundary::bertero));
  EXPECT_GE(min_of(u), 0.0f);
}

TEST(Bertero, MatchesTheZeroBoundaryInsideWhenNothingReachesTheEdges) {
  // Objects far from the edges over a dark background: the data term is the same
  // as the zero boundary's, up to the extension's dark voxels.
  Volume truth({16, 24, 24}, 0.0f);
  for (int i = 0; i < 4; ++i) truth.at(6 + i, 9 + 2 * i, 14 - 2 * i) = 100.0f;
  const Psf psf{test::test_psf({5, 3, 3}, 14), "test", 0};
  const Volume d = convolve(truth, psf, Boundary::zero);
  const Volume z = run_engine("cpu", d, psf, rl(20, Boundary::zero));
  const Volume b = run_engine("cpu", d, psf, rl(20, Boundary::bertero));
  EXPECT_LE(max_abs_diff(z.span(), b.span()), 1e-3 * max_abs(z.span()));
}

TEST(Bertero, KeepsTheEdgeShellAsGoodAsInsideALargerVolume) {
  // Objects beyond the field of view blur into it. The reference is RL on the
  // larger volume, where the field of view's edge shell is interior. Content makes
  // shell and interior PSNRs differ by itself, so the shell is compared with the
  // same voxels of the reference: Bertero loses < 1 dB there, every extension more.
  const Shape3 k{11, 7, 7};
  const test::Scene s = test::cropped_scene({24, 40, 40}, k, 400.0, 8);
  const Shape3 shell{k.z / 2, k.y / 2, k.x / 2};
  const Volume ref = test::crop(run_engine("cpu", s.whole, s.psf, rl(30)), s.offset, s.data.shape);
  const double ref_shell = test::region_psnr(ref, s.truth, shell, true);
  double loss[5];
  for (Boundary b : {Boundary::periodic, Boundary::zero, Boundary::reflect, Boundary::neumann,
                     Boundary::bertero}) {
    const Volume u = run_engine("cpu", s.data, s.psf, rl(30, b));
    loss[int(b)] = ref_shell - test::region_psnr(u, s.truth, shell, true);
  }
  EXPECT_LE(loss[int(Boundary::bertero)], 1.0);
  for (Boundary b : {Boundary::periodic, Boundary::zero, Boundary::reflect, Boundary::neumann})
    EXPECT_LT(loss[int(Boundary::bertero)], loss[int(b)]) << to_string(b);
}

// ---- RL-TV -------------------------------------------------------------------------

TEST(TotalVariation, ZeroLambdaIsPlainRlBitForBit) {
  const test::Scene& s = small_scene();
  RlOptions tv = rl(5);
  tv.tv_lambda = 0.0f;
  EXPECT_EQ(run_engine("cpu", s.data, s.psf, tv).data,
            run_engine("cpu", s.data, s.psf, rl(5)).data);
}

TEST(TotalVariation, PositiveLambdaLowersTheTotalVariationAndKeepsPositivity) {
  const test::Scene& s = small_scene();
  RlOptions tv = rl(30);
  tv.tv_lambda = 0.01f;
  const Volume plain = run_engine("cpu", s.data, s.psf, rl(30));
  const Volume reg = run_engine("cpu", s.data, s.psf, tv);
  EXPECT_LT(test::total_variation(reg), 0.9 * test::total_variation(plain));
  EXPECT_GE(min_of(reg), 0.0f);
  tv.tv_lambda = 0.5f;  // far beyond 1/6: the denominator's clamp keeps u >= 0
  EXPECT_GE(min_of(run_engine("cpu", s.data, s.psf, tv)), 0.0f);
}

TEST(TotalVariation, TheFactorOfAConstantVolumeIsOne) {
  const Shape3 s{4, 5, 6};
  const std::vector<float> u(std::size_t(s.size()), 3.0f);
  const cpu::TvFactor tv(s, 1);
  std::vector<float> out(std::size_t(s.y * s.x));
  for (std::int64_t z = 0; z < s.z; ++z) {
    tv.plane(u.data(), z, 0.2f, out.data());
    for (float f : out) EXPECT_EQ(f, 1.0f);
  }
}

// ---- background ----------------------------------------------------------------------

TEST(Background, TheRatioUsesHuPlusB) {
  // One iteration from u0 = d: u1 = d * H^T( d / (H d + b) ), against direct sums.
  const Volume d = test::test_volume({6, 7, 8}, 21);
  const Psf psf{test::test_psf({3, 3, 2}, 22), "test", 0};
  RlOptions o = rl(1, Boundary::reflect);
  o.background = 4.5f;
  const Volume u = run_engine("cpu", d, psf, o);
  Volume r = test::direct_convolve(d, psf.kernel, Boundary::reflect);
  for (std::size_t i = 0; i < r.data.size(); ++i)
    r.data[i] = d.data[i] / (r.data[i] + o.background);
  Volume expected = test::direct_correlate(r, psf.kernel, Boundary::reflect);
  for (std::size_t i = 0; i < r.data.size(); ++i) expected.data[i] *= d.data[i];
  EXPECT_LE(max_abs_diff(u.span(), expected.span()), 1e-5 * max_abs(expected.span()));
}

TEST(Background, AnIdentityPsfConvergesToTheDataMinusTheOffset) {
  const Volume d = test::test_volume({6, 7, 8}, 23);  // values in [5, 35]
  RlOptions o = rl(60, Boundary::zero);
  o.background = 2.0f;
  const Volume u = run_engine("cpu", d, delta_psf({1, 1, 1}), o);
  for (std::size_t i = 0; i < d.data.size(); ++i)
    EXPECT_NEAR(u.data[i], d.data[i] - 2.0f, 1e-3f * d.data[i]);
}

TEST(Background, AutoRecoversAKnownCameraOffset) {
  constexpr float kOffset = 100.0f;
  // No uniform fluorescence: the background is the offset alone.
  test::Scene dark = test::phantom_scene({32, 48, 48}, {11, 7, 7}, 400.0, 0.0, 9);
  for (float& v : dark.data.data) v += kOffset;
  EXPECT_NEAR(estimate_background(dark.data.span(), dark.data.shape), kOffset, 0.01 * kOffset);
  // With 8 photons of uniform background the data cannot separate the two: auto
  // measures their sum.
  test::Scene lit = test::phantom_scene({32, 48, 48}, {11, 7, 7}, 400.0, 0.02, 9);
  for (float& v : lit.data.data) v += kOffset;
  EXPECT_NEAR(estimate_background(lit.data.span(), lit.data.shape), kOffset + 8.0, 1.0);
}

// ---- stopping and the iteration report -----------------------------------------------

TEST(Stopping, StopsAtTheFirstIterationBelowTheRelativeChange) {
  const test::Scene& s = small_scene();
  RlOptions o = rl(500);
  o.stop_rel_change = 2e-3;
  std::vector<IterationReport> seen;
  Volume prev(s.data.shape), cur(s.data.shape);
  std::vector<double> measured;
  run_engine("cpu", s.data, s.psf, o, [&](const IterationReport& r) {
    r.copy_estimate(cur.span());
    if (r.iteration > 1) measured.push_back(test::relative_l1(cur, prev));
    prev = cur;
    seen.push_back({r.iteration, r.relative_change, r.alpha, r.stopping, {}});
  });
  ASSERT_GE(seen.size(), 3u);
  ASSERT_LT(seen.size(), 500u);
  EXPECT_TRUE(seen.back().stopping);
  EXPECT_LT(seen.back().relative_change, o.stop_rel_change);
  for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
    EXPECT_FALSE(seen[i].stopping);
    EXPECT_GE(seen[i].relative_change, o.stop_rel_change);
  }
  // The reported change is ||u_k - u_{k-1}||_1 / ||u_{k-1}||_1 of the estimates.
  for (std::size_t i = 0; i < measured.size(); ++i)
    EXPECT_NEAR(seen[i + 1].relative_change, measured[i], 1e-4 * measured[i] + 1e-7);
}

TEST(EveryFeature, GivesTheSameBitsOnOneAndTwoThreads) {
  const test::Scene& s = small_scene();
  RlOptions o = rl(6, Boundary::bertero);
  o.accel = Acceleration::biggs;
  o.tv_lambda = 0.002f;
  o.background_auto = true;
  o.stop_rel_change = 1e-9;
  std::vector<double> c1, c2;
  const Volume a = run_engine(
      "cpu", s.data, s.psf, o, [&](const IterationReport& r) { c1.push_back(r.relative_change); },
      1);
  const Volume b = run_engine(
      "cpu", s.data, s.psf, o, [&](const IterationReport& r) { c2.push_back(r.relative_change); },
      2);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(c1, c2);
}
