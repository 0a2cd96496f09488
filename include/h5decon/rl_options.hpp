#pragma once
// The named modes of the Richardson-Lucy algorithm (docs/design.md §2) and their parsing.

#include <array>
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

/// What carries the data term back onto the estimate: x_{k+1} = x_k * B r.
enum class BackProjector {
  traditional,  ///< B = H^T, the PSF mirrored (Richardson-Lucy)
  /// Guo et al. (Nature Biotechnology 2020): B a Wiener-Butterworth filter of the
  /// PSF, an unmatched back projector that reaches in a few iterations what RL
  /// reaches in tens (back_projector.hpp).
  wb,
};

/// The Wiener-Butterworth back projector's parameters, named as in Guo et al. 2020
/// (their code's defaults: alpha 0.05, beta from the OTF, order 10, the cut-off at
/// the PSF's FWHM).
struct WienerButterworth {
  /// alpha: the Wiener filter's regulariser, conj(H) / (|H|^2 + alpha), H the OTF
  /// normalised to a maximum of 1.
  double alpha = 0.05;
  /// beta: the back projector's gain at the cut-off frequency (relative to its gain at
  /// 0); 0: the traditional back projector's gain there (the OTF's, the paper's beta = 1).
  double beta = 0.0;
  /// n: order of the Butterworth filter 1 / sqrt(1 + ee w^n), w = sum (k_i / kc_i)^2.
  int order = 10;
  /// Resolution (z, y, x) in voxels; the cut-off frequency is its inverse on each axis.
  /// 0 on an axis: the PSF's full width at half maximum there.
  std::array<double, 3> resolution{0.0, 0.0, 0.0};
};
inline bool operator==(const WienerButterworth& a, const WienerButterworth& b) {
  return a.alpha == b.alpha && a.beta == b.beta && a.order == b.order &&
         a.resolution == b.resolution;
}

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
  /// B in x_{k+1} = x_k * B r; wb needs the Psf's back kernel (attach_back_projector()).
  BackProjector back_projector = BackProjector::traditional;
  WienerButterworth wb;
  /// Stop once ||u_k - u_{k-1}||_1 / ||u_{k-1}||_1 < this (0: run every iteration).
  double stop_rel_change = 0.0;
  /// Stop once kFitPatience operands in a row improve the I-divergence of the model from
  /// the data by less than this fraction over the best one, and return that best one
  /// (rl::DivergenceRule; 0: never). Unlike the relative change it levels off with
  /// acceleration and the Wiener-Butterworth back projector too (docs/quality.md).
  double stop_divergence = 0.0;
  /// Measure the I-divergence every iteration (IterationReport::divergence) even when
  /// stop_divergence is 0; the result is the same.
  bool measure_divergence = false;
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
/// Parses a back projector name (traditional, wb); throws InputError listing the valid names.
BackProjector parse_back_projector(std::string_view name);
std::string to_string(Boundary b);
std::string to_string(BackProjector b);
std::string to_string(InitMode m);
std::string to_string(Acceleration a);
/// Throws InputError when the options cannot run (iterations < 1, eps <= 0,
/// a negative or non-finite tv_lambda, background or stop_rel_change, Wiener-Butterworth
/// parameters out of range).
void validate(const RlOptions& options);

}  // namespace h5decon
