#pragma once
// The named modes of the Richardson-Lucy algorithm (docs/design.md §2) and their parsing.

#include <string>
#include <string_view>

namespace h5decon {

/// How the convolution treats the volume's edge.
enum class Boundary {
  periodic,  ///< circular: the volume wraps around
  zero,      ///< linear convolution, zero outside (scikit-image's richardson_lucy)
  reflect,   ///< mirror about the edge voxel's outer face: ... c b a | a b c ...
  neumann,   ///< edge replication (ITK's ZeroFluxNeumann): ... a a a | a b c ...
  /// Bertero-Boccacci: the estimate lives on the volume extended by psf/2 voxels on
  /// each side, the data term only on observed voxels (linear convolution, no
  /// extension of the data), normalised by the weights H^T M (see rl_domain.hpp).
  bertero,
};

/// Extrapolation of the RL iterates between steps.
enum class Acceleration {
  none,   ///< plain RL
  biggs,  ///< Biggs-Andrews vector extrapolation (MATLAB deconvlucy, cudaDecon)
  /// Biggs-Andrews' alpha, the extrapolation along log u: y = x (x / x_prev)^alpha.
  /// RL is multiplicative, so this step stays positive without a clamp and follows
  /// plain RL's path more closely (docs/quality.md).
  biggs_log,
};

/// Whether `a` extrapolates between steps (keeps x_prev and the steps g).
constexpr bool extrapolates(Acceleration a) { return a != Acceleration::none; }

/// The first estimate u_0.
enum class InitMode {
  observed,  ///< the observed image (ITK)
  constant,  ///< 0.5 everywhere (scikit-image)
  mean,      ///< flat at the observed image's mean
};

/// Parameters of one RL run; identical meaning in every backend.
struct RlOptions {
  int iterations = 20;
  Boundary boundary = Boundary::bertero;
  InitMode init = InitMode::observed;
  /// Guard of the ratio d / max(H u, eps), in the data's units.
  float eps = 1e-6f;
  /// Extrapolation between iterations.
  Acceleration accel = Acceleration::none;
  /// Weight of the total-variation term (Dey et al. RL-TV); 0: plain RL, bit for bit.
  float tv_lambda = 0.0f;
  /// Constant camera offset b inside the model, d / max(H u + b, eps), in the data's units.
  float background = 0.0f;
  /// Estimate b from each observed volume (estimate_background()) instead of `background`.
  bool background_auto = false;
  /// Stop once ||u_k - u_{k-1}||_1 / ||u_{k-1}||_1 < this (0: run every iteration).
  double stop_rel_change = 0.0;
  /// Every IterationReport hands out its estimate (copy_estimate). Engines that
  /// otherwise report an iteration once the next is queued (CUDA's look-ahead)
  /// then wait for each iteration; the result is the same.
  bool estimate_every_iteration = false;
};

/// Parses a boundary name; throws InputError listing the valid names.
Boundary parse_boundary(std::string_view name);
/// Parses an initial-estimate name; throws InputError listing the valid names.
InitMode parse_init(std::string_view name);
/// Parses an acceleration name; throws InputError listing the valid names.
Acceleration parse_acceleration(std::string_view name);
std::string to_string(Boundary b);
std::string to_string(InitMode m);
std::string to_string(Acceleration a);
/// Throws InputError when the options cannot run (iterations < 1, eps <= 0,
/// a negative or non-finite tv_lambda, background or stop_rel_change).
void validate(const RlOptions& options);

}  // namespace h5decon
