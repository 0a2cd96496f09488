#pragma once
// Pieces of the CPU engine beyond plain RL (rl_options.hpp): deterministic
// per-plane sums, the RL-TV factor and the Bertero weights.

#include <cstdint>
#include <vector>

#include "backend/cpu/fft_convolver.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::cpu {

/// Sums of one iteration, accumulated in double per z-plane (each plane by one
/// thread, in a fixed order) and totalled serially: the same bits for any number
/// of threads.
struct PlaneSums {
  std::vector<double> change;  ///< sum |u_new - u_old|
  std::vector<double> norm;    ///< sum |u_old|
  std::vector<double> dot;     ///< Biggs: sum g_new . g_old
  std::vector<double> gg;      ///< Biggs: sum g_old . g_old
  std::vector<double> divergence;  ///< the operand's I-divergence (when measured)
  /// Zeroes every sum, one entry per plane.
  void reset(std::int64_t planes);
  /// The serial total of one of the vectors.
  static double total(const std::vector<double>& v);
};

/// The RL-TV factor of Dey et al. (2006), 1 / max(1 - lambda div(grad u / |grad u|),
/// kTvMinDenominator), with forward differences for the gradient and backward
/// differences for the divergence (its negative adjoint), zero flux at the edges.
class TvFactor {
 public:
  /// For estimates of shape `domain`, computed by up to `threads` threads at once.
  TvFactor(Shape3 domain, int threads);
  /// Writes the factor of plane z of `u` to `out` (one plane, rows of domain.x)
  /// from u's planes z - 1 (`below`), z (`cur`) and z + 1 (`above`); `below` and
  /// `above` are null beyond the domain's first and last plane. Call it from an
  /// OpenMP loop (one scratch per thread).
  void plane(const float* below, const float* cur, const float* above, float lambda,
             float* out) const;
  /// The same, for plane z of a whole domain `u`.
  void plane(const float* u, std::int64_t z, float lambda, float* out) const;
  /// Bytes of the per-thread scratch.
  std::int64_t bytes() const { return std::int64_t(sizeof(float) * scratch_.size()); }

 private:
  void unit_gradient(const float* p, const float* above, float* g) const;
  Shape3 s_;
  std::int64_t plane_;
  mutable std::vector<float> scratch_;  // per thread: unit gradients of two planes
};

/// 1 / max(B M, floor) (rl::weight_floor()) on the estimate's domain (rl_domain.hpp),
/// M = 1 on the observed box at `margin`, by one adjoint convolution of `conv`
/// (whose layout is the domain with no margins). Consumes conv's operand.
std::vector<float> bertero_inverse_weights(FftConvolver& conv, Shape3 volume, Shape3 margin,
                                           float floor);

}  // namespace h5decon::cpu
