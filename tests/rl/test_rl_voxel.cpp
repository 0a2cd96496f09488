// The per-voxel arithmetic and the step totals of src/rl, the functions every engine
// (the CUDA kernels included, as device code) computes RL with: each on the values
// an engine meets, edge cases first (guards, clamps, zeros, missing terms).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "h5decon/rl_constants.hpp"
#include "rl/step.hpp"
#include "rl/voxel.hpp"

using namespace h5decon;

TEST(RlVoxel, MaxOfIsStdMaxIncludingItsNanRule) {
  EXPECT_EQ(rl::max_of(1.0f, 2.0f), 2.0f);
  EXPECT_EQ(rl::max_of(2.0f, 1.0f), 2.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(rl::max_of(nan, 1.0f))) << "std::max(NaN, b) is NaN";
  EXPECT_EQ(rl::max_of(1.0f, nan), 1.0f) << "std::max(a, NaN) is a";
}

TEST(RlVoxel, RatioDividesByTheBlurPlusBackgroundGuardedByEps) {
  EXPECT_FLOAT_EQ(rl::ratio(6.0f, 2.0f, 1.0f, 1e-6f), 2.0f);
  EXPECT_FLOAT_EQ(rl::ratio(6.0f, 0.0f, 0.0f, 0.5f), 12.0f) << "Hu + b below eps: d / eps";
  EXPECT_FLOAT_EQ(rl::ratio(6.0f, -3.0f, 1.0f, 0.25f), 24.0f) << "negative FFT rounding";
  EXPECT_EQ(rl::ratio(0.0f, 0.0f, 0.0f, 1e-6f), 0.0f) << "no data, no light: 0, not NaN";
}

TEST(RlVoxel, UpdateFactorAppliesOnlyTheTermsGiven) {
  const float w[] = {0.5f, 4.0f}, tv[] = {2.0f, 0.25f};
  EXPECT_EQ(rl::update_factor(3.0f, nullptr, nullptr, 1, false), 3.0f) << "plain RL: H^T r itself";
  EXPECT_EQ(rl::update_factor(-1e-7f, nullptr, nullptr, 0, false), -1e-7f);
  EXPECT_EQ(rl::update_factor(3.0f, w, nullptr, 1, false), 12.0f) << "bertero: / H^T M";
  EXPECT_EQ(rl::update_factor(-1e-7f, w, nullptr, 0, false), 0.0f) << "bertero clamps rounding at 0";
  EXPECT_EQ(rl::update_factor(3.0f, nullptr, tv, 0, false), 6.0f) << "RL-TV: * factor";
  EXPECT_EQ(rl::update_factor(3.0f, w, tv, 1, false), 3.0f) << "bertero then TV";
}

TEST(RlVoxel, AnUnmatchedBackProjectorsNegativeLobesNeverMakeTheEstimateNegative) {
  const float w[] = {0.5f, 4.0f}, tv[] = {2.0f, 0.25f};
  EXPECT_FALSE(rl::clamps_correction(BackProjector::traditional));
  EXPECT_TRUE(rl::clamps_correction(BackProjector::wb));
  EXPECT_EQ(rl::update_factor(-0.3f, nullptr, nullptr, 0, true), 0.0f) << "B r < 0: 0, not < 0";
  EXPECT_EQ(rl::update_factor(1.5f, nullptr, nullptr, 0, true), 1.5f) << "B r >= 0 unchanged";
  EXPECT_EQ(rl::update_factor(-0.3f, nullptr, tv, 0, true), 0.0f) << "clamped before TV";
  EXPECT_EQ(rl::update_factor(-0.3f, w, nullptr, 1, true), 0.0f);
  EXPECT_EQ(rl::update_factor(2.0f, w, tv, 1, true), 2.0f);
}

TEST(RlVoxel, InverseWeightIsFlooredWhereLittleLightReachesTheData) {
  EXPECT_FLOAT_EQ(rl::inverse_weight(0.5f, kBerteroWeightFloor), 2.0f);
  EXPECT_FLOAT_EQ(rl::inverse_weight(0.0f, kBerteroWeightFloor), 1.0f / kBerteroWeightFloor);
  EXPECT_FLOAT_EQ(rl::inverse_weight(-0.2f, kBerteroWeightFloor), 1.0f / kBerteroWeightFloor);
  EXPECT_EQ(rl::weight_floor(BackProjector::traditional), kBerteroWeightFloor);
  EXPECT_EQ(rl::weight_floor(BackProjector::wb), kWbWeightFloor)
      << "B M's ringing beyond the observed box must not be amplified a thousandfold";
  EXPECT_FLOAT_EQ(rl::inverse_weight(0.01f, kWbWeightFloor), 10.0f);
}

TEST(RlVoxel, LinearPredictionExtrapolatesAndClampsAtZero) {
  EXPECT_FLOAT_EQ(rl::predict_linear(4.0f, 2.0f, 0.5f), 5.0f);
  EXPECT_EQ(rl::predict_linear(1.0f, 5.0f, 0.5f), 0.0f) << "deconvlucy's positivity";
  EXPECT_EQ(rl::predict_linear(3.0f, 7.0f, 0.0f), 3.0f) << "alpha 0: x itself";
  EXPECT_EQ(rl::predict(Acceleration::biggs, 4.0f, 2.0f, 0.5f), rl::predict_linear(4.0f, 2.0f, 0.5f));
}

TEST(RlVoxel, LogPredictionFollowsThePowerLawAndKeepsZerosAndNewVoxels) {
  EXPECT_NEAR(rl::predict_log(4.0f, 2.0f, 0.5f), 4.0f * std::sqrt(2.0f), 1e-4f);
  EXPECT_NEAR(rl::predict_log(1.0f, 8.0f, 0.999f), std::pow(0.125f, 0.999f), 1e-6f);
  EXPECT_EQ(rl::predict_log(0.0f, 3.0f, 0.9f), 0.0f) << "RL keeps a zero at zero";
  EXPECT_EQ(rl::predict_log(3.0f, 0.0f, 0.9f), 3.0f) << "no history: no extrapolation";
  // The exponent is clamped to [-126, 126], so that 2^i is built from valid bits.
  EXPECT_EQ(detail::exp2_clamped(200.0f), std::ldexp(1.0f, 126));
  EXPECT_EQ(detail::exp2_clamped(-200.0f), std::ldexp(1.0f, -126));
  const float big = rl::predict_log(1.0f, 1e-38f, 0.999f);
  EXPECT_TRUE(std::isfinite(big) && big > 1e37f) << big;
  EXPECT_EQ(rl::predict(Acceleration::biggs_log, 4.0f, 2.0f, 0.5f), rl::predict_log(4.0f, 2.0f, 0.5f));
}

TEST(RlVoxel, TvFactorIsOneOnFlatRegionsAndCappedAtTenfold) {
  EXPECT_FLOAT_EQ(rl::tv_unit_scale(0.0f, 0.0f, 0.0f), 1.0f / kTvEpsilon);
  EXPECT_NEAR(rl::tv_unit_scale(3.0f, 4.0f, 0.0f), 0.2f, 1e-6f);
  EXPECT_EQ(rl::tv_factor(0.0f, 0.01f), 1.0f);
  EXPECT_FLOAT_EQ(rl::tv_factor(-10.0f, 0.01f), 1.0f / 1.1f);
  EXPECT_FLOAT_EQ(rl::tv_factor(6.0f, 0.5f), 1.0f / kTvMinDenominator) << "clamped denominator";
}

TEST(RlVoxel, FlatInitialValues) {
  EXPECT_EQ(rl::flat_initial_value(InitMode::constant, 123.0, 4.0), rl::kConstantInit);
  EXPECT_EQ(rl::flat_initial_value(InitMode::mean, 10.0, 4.0), 2.5f);
  EXPECT_EQ(rl::clamp_index(-3, 5), 0);
  EXPECT_EQ(rl::clamp_index(7, 5), 4);
  EXPECT_EQ(rl::clamp_index(2, 5), 2);
}

TEST(RlStep, RelativeChangeIsZeroForAZeroEstimate) {
  EXPECT_DOUBLE_EQ(rl::relative_change(2.0, 8.0), 0.25);
  EXPECT_EQ(rl::relative_change(0.0, 0.0), 0.0);
  EXPECT_EQ(rl::change_term(1.5f, 2.0f), 0.5);
  EXPECT_EQ(rl::norm_term(-2.0f), 2.0);
}

TEST(RlStep, BiggsAlphaIsClampedAndZeroUntilTwoStepsExist) {
  EXPECT_DOUBLE_EQ(rl::biggs_alpha(1.0, 4.0, true), 0.25f);
  EXPECT_EQ(rl::biggs_alpha(1.0, 4.0, false), 0.0f) << "one step: no alpha yet";
  EXPECT_EQ(rl::biggs_alpha(-1.0, 4.0, true), 0.0f) << "opposite steps: no extrapolation";
  EXPECT_EQ(rl::biggs_alpha(9.0, 4.0, true), static_cast<float>(kBiggsMaxAlpha));
  EXPECT_EQ(rl::biggs_alpha(0.0, 0.0, true), 0.0f) << "converged: 0, not 0/0";
}
