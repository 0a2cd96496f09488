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
  update,        ///< the fit improved enough: the step goes on
  keep_operand,  ///< it improved by less than the fraction: the operand is the result
  restore_last,  ///< it got worse: the last operand, saved before its update, is the result
};

/// The rule an executor applies to the I-divergence `fit` of iteration k's operand.
struct DivergenceRule {
  bool active = false;  ///< from the second iteration when stop_divergence > 0
  double previous = 0;  ///< the last operand's I-divergence
  double fraction = 0;  ///< stop_divergence
  H5DECON_HOST_DEVICE FitVerdict verdict(double fit) const {
    if (!active) return FitVerdict::update;
    if (fit > previous) return FitVerdict::restore_last;
    return fit > previous * (1.0 - fraction) ? FitVerdict::keep_operand : FitVerdict::update;
  }
};

/// The I-divergence's relative decrease from one iteration's operand to the next's,
/// (prev - cur) / prev: negative when the fit got worse.
H5DECON_HOST_DEVICE inline double divergence_decrease(double prev, double cur) {
  return prev > 0 ? (prev - cur) / prev : 0.0;
}

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
