#pragma once
// The Richardson-Lucy iteration (docs/design.md §2), written once over executors.
//
//   u_0 = init(d)                                  (executor: initialise)
//   for k = 1 .. iterations:
//     y_k = k > 1 and Biggs ? predict(x_k, x_{k-1}, alpha_k) : x_k   (rl/voxel.hpp)
//     r   = M d / max(H y_k + b, eps)                                 (rl::ratio)
//     x_{k+1} = y_k * H^T r [/ H^T M] [* TV factor]                   (rl::update_factor)
//     change = |x_{k+1} - x_k|_1 / |x_k|_1; alpha_{k+1} from g_k, g_{k-1} (rl/step.hpp)
//     stop after `iterations`, once change < stop_rel_change, or once the I-divergence
//     of the operand (measured in the ratio pass) fell by less than stop_divergence
//
// An executor schedules the FFTs and the element-wise passes over its memory: the
// CPU engine inside its split FFT's plane loop, exact mode over its z-slab, the
// CUDA engine on a stream. It provides
//   void predict(float alpha)                     y_k into the estimate and the operand
//   void load_estimate()                          x_k into the operand, where stale
//   rl::StepTotals step(bool predicted, bool refill, const DivergenceRule& rule)
//                                                 one step, the sums totalled; the rule's
//                                                 verdict on the operand's I-divergence
//                                                 (measured when Schedule::
//                                                 measures_divergence()) may save the
//                                                 operand first, or end the run before the
//                                                 update (updated = false)
//   std::function<void(std::span<float>)> estimate_copier()   for the observer (may be empty)
// The CUDA engine, whose loop runs ahead of the host, takes its decisions from
// Schedule and its totals from rl/step.hpp on the device.

#include <cmath>
#include <functional>
#include <span>

#include "h5decon/backend.hpp"
#include "h5decon/error.hpp"
#include "h5decon/rl_options.hpp"
#include "rl/step.hpp"

namespace h5decon::rl {

/// What the options decide for iteration k (1-based).
struct Schedule {
  const RlOptions& options;
  bool biggs() const { return extrapolates(options.accel); }
  /// From the second iteration Biggs' operand is the prediction y_k, not x_k.
  bool predicts(int k) const { return biggs() && k > 1; }
  /// The step leaves x_{k+1} as the next operand (without Biggs, before the last).
  bool refills(int k) const { return !biggs() && k < options.iterations; }
  /// alpha_{k+1} needs the steps of two iterations (deconvlucy: k > 2 in its count).
  bool alpha_valid(int k) const { return biggs() && k >= 2; }
  /// Iteration k is the last: the count, or the relative change below the threshold.
  /// Whether a stop rule reads each step's totals (no look-ahead past a step).
  bool may_stop_early() const { return options.stop_rel_change > 0 || options.stop_divergence > 0; }
  /// Whether the executor measures the I-divergence of each operand (StepTotals::divergence).
  bool measures_divergence() const {
    return options.stop_divergence > 0 || options.measure_divergence;
  }
  /// Iteration k is the last: the count, or the relative change below its threshold.
  bool stops(int k, double change) const {
    return k == options.iterations ||
           (options.stop_rel_change > 0 && change < options.stop_rel_change);
  }
  /// The I-divergence rule of the first operand (docs/design.md §2): with
  /// stop_divergence, every operand that fits the data best so far is saved before its
  /// update, and once kFitPatience operands in a row improve on the best by less than
  /// the fraction the run ends with the best one (StepTotals::updated = false).
  DivergenceRule divergence_rule() const {
    return {options.stop_divergence > 0, 0.0, options.stop_divergence, 0};
  }
  /// Whether the executor keeps a copy of the best-fitting operand.
  bool saves_best_operand() const { return options.stop_divergence > 0; }
};

/// Refuses a non-finite relative change: the estimate overflowed (an unmatched back
/// projector or the extrapolation amplified noise without bound). Never a silent NaN.
inline void require_finite(int k, double change) {
  if (std::isfinite(change)) return;
  throw DivergedError(
      detail::concat("RL diverged at iteration ", k,
                     ": the estimate is no longer finite (relative change ", change,
                     "); use fewer iterations, --stop-divergence, or a larger --wb-alpha"),
      k);
}

/// Runs the iterations of `options` on an initialised executor.
template <class Executor>
void iterate(Executor& ex, const RlOptions& options, const IterationObserver& observer) {
  const Schedule s{options};
  float alpha = 0.0f;
  DivergenceRule rule = s.divergence_rule();
  for (int k = 1; k <= options.iterations; ++k) {
    const bool predicted = s.predicts(k);
    if (predicted)
      ex.predict(alpha);
    else
      ex.load_estimate();
    const double alpha_used = predicted ? alpha : 0.0;
    const StepTotals t = ex.step(predicted, s.refills(k), rule);
    const FitVerdict verdict = rule.verdict(t.divergence);
    rule = rule.after(t.divergence);
    const double change = relative_change(t.change, t.norm);
    require_finite(k, change);
    if (s.biggs()) alpha = biggs_alpha(t.dot, t.gg, s.alpha_valid(k));
    const bool stopping = !t.updated || s.stops(k, change);
    if (observer) {
      IterationReport r{k, change, alpha_used, stopping, ex.estimate_copier()};
      if (s.measures_divergence()) r.divergence = t.divergence;
      r.restored = verdict == FitVerdict::restore_best;
      observer(r);
    }
    if (stopping) return;
  }
}

}  // namespace h5decon::rl
