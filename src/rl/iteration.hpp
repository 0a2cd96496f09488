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
//                                                 measures_divergence()) may end it before
//                                                 the update (updated = false)
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
  /// Iteration k's rule on its operand's I-divergence (from k = 2, with stop_divergence):
  /// an operand that fits the data less than the fraction better than the last one is
  /// the result; one that fits it worse gives way to the last one, which the executor
  /// saved before updating it (it keeps a copy while the rule is on). Either ends the
  /// run; so the result is the best fit of the run.
  DivergenceRule divergence_rule(int k, double previous) const {
    return {options.stop_divergence > 0 && k > 1, previous, options.stop_divergence};
  }
  /// Whether the executor saves each operand before its update (restore_last).
  bool saves_last_operand() const { return options.stop_divergence > 0; }
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
  double previous = 0.0;  // the last operand's I-divergence
  for (int k = 1; k <= options.iterations; ++k) {
    const bool predicted = s.predicts(k);
    if (predicted)
      ex.predict(alpha);
    else
      ex.load_estimate();
    const double alpha_used = predicted ? alpha : 0.0;
    const StepTotals t = ex.step(predicted, s.refills(k), s.divergence_rule(k, previous));
    const double change = relative_change(t.change, t.norm);
    require_finite(k, change);
    if (s.biggs()) alpha = biggs_alpha(t.dot, t.gg, s.alpha_valid(k));
    const bool stopping = !t.updated || s.stops(k, change);
    const double previous_fit = previous;
    previous = t.divergence;
    if (observer) {
      IterationReport r{k, change, alpha_used, stopping, ex.estimate_copier()};
      if (s.measures_divergence()) r.divergence = t.divergence;
      r.restored = !t.updated && t.divergence > previous_fit;
      observer(r);
    }
    if (stopping) return;
  }
}

}  // namespace h5decon::rl
