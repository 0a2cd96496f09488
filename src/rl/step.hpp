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
  /// false: the operand's I-divergence exceeded the step's limit, so the executor left
  /// the estimate as it was (the operand) and the run stops (Schedule::divergence_limit).
  bool updated = true;
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
