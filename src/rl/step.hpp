#pragma once
// The sums of one RL step and what the iteration takes from them (docs/design.md §2):
// the relative change ||x_{k+1} - x_k||_1 / ||x_k||_1 and Biggs-Andrews' alpha.
// Every engine accumulates them in double in a fixed order (its own: per plane on
// the CPU, per block on the device) and totals them with these functions.

#include <cmath>

#include "h5decon/rl_constants.hpp"
#include "h5decon/detail/host_device.hpp"

namespace h5decon::rl {

/// The four sums of a step over the estimate's domain.
struct StepTotals {
  double change = 0.0;  ///< sum |x_{k+1} - x_k|
  double norm = 0.0;    ///< sum |x_k|
  double dot = 0.0;     ///< Biggs: g_k . g_{k-1}, g_k = x_{k+1} - y_k
  double gg = 0.0;      ///< Biggs: g_{k-1} . g_{k-1}
  /// The I-divergence of the step's operand (x_k, or Biggs' prediction) from the data,
  /// over the observed voxels (rl::divergence_term); 0 when not measured.
  double divergence = 0.0;
  /// false: the step kept its operand or restored the last one (FitVerdict), made no
  /// update, and the run stops.
  bool updated = true;
};

/// What a step does after measuring its operand's I-divergence (RlOptions::stop_divergence).
enum class FitVerdict {
  update,           ///< the step goes on
  save_and_update,  ///< the operand is the best fit so far: saved, then the step goes on
  keep_operand,     ///< the run ends with the operand (the best fit, though by too little)
  restore_best,     ///< the run ends with the saved best operand (this one fits worse)
};

/// Operands in a row that may fail to improve on the best fit by the fraction before
/// the run ends: the Wiener-Butterworth back projector's first step may overshoot
/// (the fit gets worse, then much better), and its fit can zig-zag.
constexpr int kFitPatience = 2;

/// The rule an executor applies to the I-divergence `fit` of each operand, and its
/// state: the best fit so far and how many operands in a row did not beat it by the
/// fraction. The result of a run that it ends is its best-fitting operand.
struct DivergenceRule {
  bool active = false;  ///< stop_divergence > 0
  double best = 0;      ///< the lowest I-divergence of an operand so far (0: none yet)
  double fraction = 0;  ///< stop_divergence
  int strikes = 0;      ///< operands in a row that did not improve on `best` by the fraction

  H5DECON_HOST_DEVICE bool improves(double fit) const {
    return best == 0 || fit <= best * (1.0 - fraction);
  }
  H5DECON_HOST_DEVICE FitVerdict verdict(double fit) const {
    if (!active) return FitVerdict::update;
    if (improves(fit)) return FitVerdict::save_and_update;
    if (strikes + 1 >= kFitPatience)
      return fit < best ? FitVerdict::keep_operand : FitVerdict::restore_best;
    return fit < best ? FitVerdict::save_and_update : FitVerdict::update;
  }
  /// The rule for the next operand, after one with I-divergence `fit` was updated.
  H5DECON_HOST_DEVICE DivergenceRule after(double fit) const {
    DivergenceRule next = *this;
    if (!active) return next;
    next.strikes = improves(fit) ? 0 : strikes + 1;
    next.best = best == 0 || fit < best ? fit : best;
    return next;
  }
};

/// One voxel's terms: x_new = y * factor is the updated value, y the operand it
/// was computed from (the prediction, or x_k), ref = x_k; with Biggs, g_new the
/// voxel's new step and g_old its previous one.
H5DECON_HOST_DEVICE inline double change_term(float x_new, float ref) {
  return fabs(double(x_new) - ref);
}
H5DECON_HOST_DEVICE inline double norm_term(float ref) { return fabs(double(ref)); }

/// ||x_{k+1} - x_k||_1 / ||x_k||_1, 0 for a zero estimate.
H5DECON_HOST_DEVICE inline double relative_change(double change, double norm) {
  return norm > 0 ? change / norm : 0.0;
}

/// alpha_{k+1} = g_k.g_{k-1} / (g_{k-1}.g_{k-1} + guard), clamped to
/// [0, kBiggsMaxAlpha] as std::clamp; 0 until two steps exist (`valid`).
H5DECON_HOST_DEVICE inline float biggs_alpha(double dot, double gg, bool valid) {
  const double a = dot / (gg + kBiggsDenominatorGuard);
  const double c = a < 0.0 ? 0.0 : (kBiggsMaxAlpha < a ? kBiggsMaxAlpha : a);
  return valid ? static_cast<float>(c) : 0.0f;
}

}  // namespace h5decon::rl
