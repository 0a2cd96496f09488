// rl::iterate() over a small dense executor: it computes Richardson-Lucy (plain and
// Biggs-Andrews) as a hand-written reference does, calls its executor in the
// documented order, and stops where the options say.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "rl/iteration.hpp"
#include "rl/voxel.hpp"

using namespace h5decon;

namespace {

using Vec = std::vector<float>;

// A 1D blur with zero boundary: (H v)[i] = sum_j k[j] v[i + j - 1]; H^T mirrors k.
Vec blur(const Vec& v, bool adjoint) {
  const float k[3] = {0.2f, 0.5f, 0.3f};
  const int n = int(v.size());
  Vec out(v.size(), 0.0f);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < 3; ++j) {
      const int s = adjoint ? i - (j - 1) : i + (j - 1);
      if (s >= 0 && s < n) out[i] += k[j] * v[s];
    }
  return out;
}

const Vec kData = {1, 3, 8, 20, 9, 2, 1, 0, 4, 12, 5, 1};

// The executor: its passes are written with the rl functions, as an engine's are.
struct DenseExecutor {
  explicit DenseExecutor(Acceleration a) : accel(a) {}
  Acceleration accel;
  Vec d = kData, u = kData, x_prev = Vec(kData.size()), g_new = Vec(kData.size()),
      g_old = Vec(kData.size()), best;
  std::vector<std::string> calls;

  void predict(float alpha) {
    calls.push_back("predict");
    for (std::size_t i = 0; i < u.size(); ++i) {
      const float y = rl::predict(accel, u[i], x_prev[i], alpha);
      x_prev[i] = u[i];
      u[i] = y;
    }
  }
  void load_estimate() { calls.push_back("load"); }
  rl::StepTotals step(bool predicted, bool refill, const rl::DivergenceRule& rule) {
    calls.push_back(refill ? "step+refill" : "step");
    Vec r = blur(u, false);
    rl::StepTotals t;
    for (std::size_t i = 0; i < r.size(); ++i) {
      t.divergence += rl::divergence_term(d[i], r[i], 0.0f, 1e-6f);
      r[i] = rl::ratio(d[i], r[i], 0.0f, 1e-6f);
    }
    const rl::FitVerdict v = rule.verdict(t.divergence);
    if (v == rl::FitVerdict::keep_operand || v == rl::FitVerdict::restore_best) {
      if (v == rl::FitVerdict::restore_best) u = best;
      t.updated = false;
      return t;
    }
    if (v == rl::FitVerdict::save_and_update) best = u;
    const Vec c = blur(r, true);
    for (std::size_t i = 0; i < u.size(); ++i) {
      const float y = u[i], xn = y * rl::update_factor(c[i], nullptr, nullptr, 0, false);
      const float ref = predicted ? x_prev[i] : y;
      g_new[i] = xn - y;
      t.dot += double(g_new[i]) * g_old[i];
      t.gg += double(g_old[i]) * g_old[i];
      t.change += rl::change_term(xn, ref);
      t.norm += rl::norm_term(ref);
      u[i] = xn;
    }
    std::swap(g_new, g_old);
    return t;
  }
  std::function<void(std::span<float>)> estimate_copier() {
    return [this](std::span<float> out) { std::copy(u.begin(), u.end(), out.begin()); };
  }
};

// Richardson-Lucy written out plainly, with Biggs-Andrews as MATLAB's deconvlucy.
Vec reference(int iterations, bool biggs) {
  Vec x = kData, x_prev(x.size()), g_old(x.size());
  float alpha = 0.0f;
  for (int k = 1; k <= iterations; ++k) {
    Vec y = x;
    if (biggs && k > 1)
      for (std::size_t i = 0; i < x.size(); ++i) {
        y[i] = std::max(x[i] + alpha * (x[i] - x_prev[i]), 0.0f);
        x_prev[i] = x[i];
      }
    Vec r = blur(y, false);
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = kData[i] / std::max(r[i], 1e-6f);
    const Vec c = blur(r, true);
    double dot = 0.0, gg = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float xn = y[i] * c[i], g = xn - y[i];
      dot += double(g) * g_old[i];
      gg += double(g_old[i]) * g_old[i];
      g_old[i] = g;
      x[i] = xn;
    }
    alpha = k >= 2 ? float(std::clamp(dot / (gg + 1e-30), 0.0, 0.999)) : 0.0f;
  }
  return x;
}

// The I-divergence's relative decrease from one operand to the next.
double decrease(double prev, double cur) { return (prev - cur) / prev; }

RlOptions options(int iterations, Acceleration a) {
  RlOptions o;
  o.iterations = iterations;
  o.accel = a;
  return o;
}

}  // namespace

TEST(RlIterate, PlainRlEqualsTheWrittenOutAlgorithm) {
  DenseExecutor ex{Acceleration::none};
  rl::iterate(ex, options(15, Acceleration::none), {});
  const Vec want = reference(15, false);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(ex.u[i], want[i]) << i;
}

TEST(RlIterate, BiggsEqualsDeconvlucysExtrapolation) {
  DenseExecutor ex{Acceleration::biggs};
  rl::iterate(ex, options(15, Acceleration::biggs), {});
  const Vec want = reference(15, true);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(ex.u[i], want[i]) << i;
  EXPECT_NE(want, reference(15, false)) << "the extrapolation must have acted";
}

TEST(RlIterate, CallsTheExecutorInTheDocumentedOrder) {
  DenseExecutor plain{Acceleration::none};
  rl::iterate(plain, options(3, Acceleration::none), {});
  EXPECT_EQ(plain.calls, (std::vector<std::string>{"load", "step+refill", "load", "step+refill",
                                                   "load", "step"}));
  DenseExecutor biggs{Acceleration::biggs_log};
  rl::iterate(biggs, options(3, Acceleration::biggs_log), {});
  EXPECT_EQ(biggs.calls,
            (std::vector<std::string>{"load", "step", "predict", "step", "predict", "step"}));
}

TEST(RlIterate, ReportsEachIterationAndStopsBelowTheRelativeChange) {
  RlOptions o = options(50, Acceleration::biggs);
  o.stop_rel_change = 0.02;
  DenseExecutor ex{o.accel};
  std::vector<double> changes, alphas;
  int stopped_at = 0;
  rl::iterate(ex, o, [&](const IterationReport& r) {
    changes.push_back(r.relative_change);
    alphas.push_back(r.alpha);
    ASSERT_TRUE(r.copy_estimate);
    if (r.stopping) stopped_at = r.iteration;
  });
  ASSERT_GT(stopped_at, 1);
  ASSERT_LT(stopped_at, 50);
  EXPECT_EQ(int(changes.size()), stopped_at);
  EXPECT_LT(changes.back(), 0.02);
  for (std::size_t i = 0; i + 1 < changes.size(); ++i) EXPECT_GE(changes[i], 0.02) << i;
  EXPECT_EQ(alphas[0], 0.0) << "no prediction in iteration 1";
  EXPECT_EQ(alphas[1], 0.0) << "alpha needs two steps: iteration 2 predicts with 0";
  EXPECT_GT(*std::max_element(alphas.begin(), alphas.end()), 0.0);
}

TEST(RlSchedule, DecisionsOfEachIteration) {
  const RlOptions plain = options(4, Acceleration::none), biggs = options(4, Acceleration::biggs);
  const rl::Schedule p{plain}, b{biggs};
  EXPECT_FALSE(p.predicts(2));
  EXPECT_TRUE(p.refills(3));
  EXPECT_FALSE(p.refills(4)) << "no operand after the last iteration";
  EXPECT_FALSE(b.predicts(1));
  EXPECT_TRUE(b.predicts(2));
  EXPECT_FALSE(b.refills(1)) << "Biggs' operand is the next prediction";
  EXPECT_FALSE(b.alpha_valid(1));
  EXPECT_TRUE(b.alpha_valid(2));
  EXPECT_TRUE(p.stops(4, 1.0));
  EXPECT_FALSE(p.stops(3, 1e-9)) << "no threshold: every iteration runs";
  EXPECT_FALSE(p.may_stop_early());
  EXPECT_EQ(p.divergence_rule().verdict(1e9), rl::FitVerdict::update) << "no rule";
  EXPECT_FALSE(p.saves_best_operand());
  RlOptions fit = plain;
  fit.stop_divergence = 1e-3;
  const rl::Schedule f{fit};
  EXPECT_TRUE(f.may_stop_early());
  EXPECT_TRUE(f.measures_divergence());
  EXPECT_TRUE(f.saves_best_operand());
  rl::DivergenceRule r = f.divergence_rule();
  EXPECT_EQ(r.verdict(1000.0), rl::FitVerdict::save_and_update) << "the first is the best so far";
  r = r.after(1000.0);
  EXPECT_EQ(r.verdict(998.0), rl::FitVerdict::save_and_update) << "0.2% better";
  EXPECT_EQ(r.verdict(999.5), rl::FitVerdict::save_and_update) << "better, by too little: a strike";
  EXPECT_EQ(r.verdict(1005.0), rl::FitVerdict::update) << "worse: a strike, not saved";
  const rl::DivergenceRule struck = r.after(1005.0);
  EXPECT_EQ(struck.strikes, 1);
  EXPECT_EQ(struck.best, 1000.0);
  EXPECT_EQ(struck.verdict(999.8), rl::FitVerdict::keep_operand) << "a second strike: the best";
  EXPECT_EQ(struck.verdict(1001.0), rl::FitVerdict::restore_best) << "a second strike, worse";
  EXPECT_EQ(struck.verdict(990.0), rl::FitVerdict::save_and_update) << "1% better: go on";
  EXPECT_EQ(struck.after(990.0).strikes, 0);
}

TEST(RlSchedule, TwoStepsWithoutABetterFitEndTheRunWithTheBestOperand) {
  // Operands fitting 10, 8, 9, 8.5: the third and fourth do not beat 8 by 1%; the
  // run ends at the fourth without its update and with the second operand.
  struct Zigzag {
    std::vector<double> fits{10.0, 8.0, 9.0, 8.5, 1.0};
    int k = 0, updates = 0, saved = 0;
    rl::FitVerdict verdict = rl::FitVerdict::update;
    void predict(float) {}
    void load_estimate() {}
    rl::StepTotals step(bool, bool, const rl::DivergenceRule& rule) {
      rl::StepTotals t;
      t.divergence = fits[std::size_t(k++)];
      t.norm = 1.0;
      verdict = rule.verdict(t.divergence);
      saved = verdict == rl::FitVerdict::save_and_update ? k : saved;
      t.updated = verdict == rl::FitVerdict::update || verdict == rl::FitVerdict::save_and_update;
      updates += t.updated;
      return t;
    }
    std::function<void(std::span<float>)> estimate_copier() { return {}; }
  } ex;
  RlOptions o = options(5, Acceleration::none);
  o.stop_divergence = 0.01;
  std::vector<IterationReport> seen;
  rl::iterate(ex, o, [&](const IterationReport& r) { seen.push_back(r); });
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_TRUE(seen.back().stopping);
  EXPECT_TRUE(seen.back().restored);
  EXPECT_EQ(seen.back().relative_change, 0.0) << "no update, no change";
  EXPECT_EQ(seen.back().divergence, 8.5);
  EXPECT_EQ(ex.updates, 3);
  EXPECT_EQ(ex.saved, 2) << "the operand fitting 8";
  EXPECT_EQ(ex.verdict, rl::FitVerdict::restore_best);
}

TEST(RlSchedule, TheResultIsTheBestFitWhenTheFitGetsWorse) {
  // The estimate spoilt after the second update (all voxels but one zeroed, which
  // RL's multiplicative update never recovers): no later operand fits as well, and
  // the second one, saved before its update, is the result.
  DenseExecutor ex(Acceleration::none);
  RlOptions o = options(10, Acceleration::none);
  o.stop_divergence = 1e-6;
  Vec second;
  int seen = 0;
  rl::iterate(ex, o, [&](const IterationReport& r) {
    ++seen;
    if (r.iteration == 2) {
      second = ex.best;  // the operand of iteration 2, saved before its update
      for (std::size_t i = 1; i < ex.u.size(); ++i) ex.u[i] = 0.0f;
    }
  });
  EXPECT_EQ(seen, 2 + rl::kFitPatience);
  EXPECT_EQ(ex.u, second) << "the operand of iteration 2, not a spoilt one";
}

TEST(RlSchedule, TheIDivergenceOfPlainRlFallsAndStopsTheRunWhenItLevelsOff) {
  RlOptions o = options(200, Acceleration::none);
  o.stop_divergence = 1e-3;
  DenseExecutor ex(Acceleration::none);
  std::vector<double> fit;
  int last = 0;
  rl::iterate(ex, o, [&](const IterationReport& r) {
    fit.push_back(r.divergence);
    last = r.iteration;
  });
  ASSERT_GT(last, 2);
  ASSERT_LT(last, 200) << "the rule stopped the run";
  for (std::size_t i = 1; i < fit.size(); ++i)
    EXPECT_LE(fit[i], fit[i - 1]) << "RL never raises the I-divergence (iteration " << i + 1 << ")";
  // The last two operands each improved the fit by less than 0.1%; the one before did not.
  EXPECT_LT(decrease(fit[fit.size() - 2], fit.back()), 1e-3);
  EXPECT_LT(decrease(fit[fit.size() - 3], fit[fit.size() - 2]), 1e-3);
  EXPECT_GE(decrease(fit[fit.size() - 4], fit[fit.size() - 3]), 1e-3);
  // Without a rule nothing is measured: NaN, not 0.
  RlOptions plain = options(3, Acceleration::none);
  DenseExecutor quiet(Acceleration::none);
  rl::iterate(quiet, plain, [&](const IterationReport& r) { EXPECT_TRUE(std::isnan(r.divergence)); });
}

TEST(RlVoxel, DivergenceTermIsZeroOnlyWhereTheModelEqualsTheData) {
  EXPECT_DOUBLE_EQ(rl::divergence_term(5.0f, 5.0f, 0.0f, 1e-6f), 0.0);
  EXPECT_DOUBLE_EQ(rl::divergence_term(0.0f, 2.0f, 1.0f, 1e-6f), 3.0) << "no data: the model";
  EXPECT_NEAR(rl::divergence_term(4.0f, 1.0f, 1.0f, 1e-6f), 4 * std::log(2.0) - 2, 1e-12);
  EXPECT_GT(rl::divergence_term(2.0f, 4.0f, 0.0f, 1e-6f), 0.0);
  EXPECT_GT(rl::divergence_term(4.0f, -1.0f, 0.0f, 0.5f), 0.0) << "the eps guard, not a log of < 0";
}

TEST(RlIterate, ANonFiniteEstimateIsAnErrorNotAResult) {
  DenseExecutor ex(Acceleration::none);
  ex.u[3] = std::numeric_limits<float>::infinity();
  try {
    rl::iterate(ex, options(3, Acceleration::none), {});
    ADD_FAILURE() << "no error";
  } catch (const DivergedError& e) {
    EXPECT_EQ(e.iteration(), 1);
    EXPECT_NE(std::string(e.what()).find("RL diverged at iteration 1"), std::string::npos);
  }
}
