#pragma once
// The per-voxel arithmetic of Richardson-Lucy and its extensions (docs/design.md §2),
// written once: the CPU engine and exact mode call these in their loops, the CUDA
// kernels compile them as device code. Each is the whole formula for one voxel, so
// every engine does the same float operations in the same order.

#include <cmath>
#include <cstdint>

#include "h5decon/rl_constants.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/detail/host_device.hpp"
#include "rl/log_extrapolation.hpp"

namespace h5decon::rl {

/// max(a, b) as std::max: b when a < b, else a (a NaN `a` passes through).
H5DECON_HOST_DEVICE inline float max_of(float a, float b) { return a < b ? b : a; }

/// Index i clamped to [0, n): the edge replicated (init=observed beyond the volume).
H5DECON_HOST_DEVICE inline std::int64_t clamp_index(std::int64_t i, std::int64_t n) {
  return i < 0 ? 0 : (i >= n ? n - 1 : i);
}

/// u_0 of a flat initial estimate: 0.5 (constant) or the observed mean (mean);
/// init=observed copies the data instead.
constexpr float kConstantInit = 0.5f;
H5DECON_HOST_DEVICE inline float flat_initial_value(InitMode mode, double sum, double count) {
  return mode == InitMode::mean ? static_cast<float>(sum / count) : kConstantInit;
}

/// The data term r = d / max(H u + b, eps) on an observed voxel (0 outside the
/// observed box under bertero, where no data constrains the estimate).
H5DECON_HOST_DEVICE inline float ratio(float d, float blurred, float background, float eps) {
  return d / max_of(blurred + background, eps);
}

/// One observed voxel's term of the I-divergence (Csiszar) of the data d from the
/// model m = max(H u + b, eps): d log(d / m) - d + m (m where d = 0). Summed over the
/// volume it is what RL minimises: Poisson's negative log-likelihood up to a constant.
H5DECON_HOST_DEVICE inline double divergence_term(float d, float blurred, float background,
                                                  float eps) {
  const double m = max_of(blurred + background, eps);
  return (d > 0.0f ? double(d) * log(double(d) / m) : 0.0) - double(d) + m;
}

/// Whether the update clamps B r at 0: an unmatched back projector (Wiener-
/// Butterworth) has negative lobes, and x_{k+1} = x_k B r must stay >= 0.
H5DECON_HOST_DEVICE inline bool clamps_correction(BackProjector b) {
  return b == BackProjector::wb;
}

/// The multiplicative update of one estimate voxel from B r (B = H^T, or the
/// Wiener-Butterworth back projector): bertero divides by its weight B M
/// (inv_weight = 1 / max(B M, floor); the FFT's rounding may leave B r slightly
/// negative where it is ~0, so it is clamped at 0, as it is for every voxel when
/// `clamp`, clamps_correction()); RL-TV multiplies by its factor. A null pointer:
/// the term does not apply.
H5DECON_HOST_DEVICE inline float update_factor(float correction, const float* inv_weights,
                                               const float* tv, std::int64_t v, bool clamp) {
  const float c0 = inv_weights || clamp ? max_of(correction, 0.0f) : correction;
  const float c = inv_weights ? c0 * inv_weights[v] : c0;
  return tv ? c * tv[v] : c;
}

/// The floor of Bertero's weight B M: kBerteroWeightFloor for RL's H^T M,
/// kWbWeightFloor for the Wiener-Butterworth back projector.
H5DECON_HOST_DEVICE inline float weight_floor(BackProjector b) {
  return b == BackProjector::wb ? kWbWeightFloor : kBerteroWeightFloor;
}

/// Bertero's inverse weight of one domain voxel from B M (weight_floor()).
H5DECON_HOST_DEVICE inline float inverse_weight(float weight, float floor) {
  return 1.0f / max_of(weight, floor);
}

/// Biggs-Andrews' prediction y from x_k and x_{k-1} with factor alpha: along u,
/// max(x + alpha (x - x_prev), 0) (deconvlucy's positivity); along log u,
/// x (x / x_prev)^alpha (log_extrapolation.hpp).
H5DECON_HOST_DEVICE inline float predict_linear(float x, float x_prev, float alpha) {
  return max_of(x + alpha * (x - x_prev), 0.0f);
}
H5DECON_HOST_DEVICE inline float predict_log(float x, float x_prev, float alpha) {
  return log_extrapolation(x, x_prev, alpha);
}
H5DECON_HOST_DEVICE inline float predict(Acceleration a, float x, float x_prev, float alpha) {
  return a == Acceleration::biggs_log ? predict_log(x, x_prev, alpha)
                                      : predict_linear(x, x_prev, alpha);
}

/// RL-TV (Dey et al. 2006): 1 / |grad u|_eps of forward differences, the scale that
/// makes the gradient a unit vector (flat regions: a finite zero direction).
H5DECON_HOST_DEVICE inline float tv_unit_scale(float dx, float dy, float dz) {
  return 1.0f / sqrtf(dx * dx + dy * dy + dz * dz + kTvEpsilon * kTvEpsilon);
}
/// RL-TV's factor from the divergence of the unit gradient (backward differences).
H5DECON_HOST_DEVICE inline float tv_factor(float divergence, float lambda) {
  return 1.0f / max_of(1.0f - lambda * divergence, kTvMinDenominator);
}

}  // namespace h5decon::rl
