#pragma once
// Element-wise kernels of the CUDA RL engine, behind host launchers that take a
// stream and check the launch. Plain declarations: host .cpp files include this.
// Every index is 64-bit: padded volumes pass 2^31 elements.

#include <cuda_runtime_api.h>
#include <vector_types.h>

#include <cstdint>

#include "backend/cuda/extension_layout.cuh"
#include "h5decon/rl_constants.hpp"
#include "h5decon/rl_options.hpp"
#include "rl/voxel.hpp"

namespace h5decon::cuda {

/// Partial sums the mean reduction writes before its final step; the scratch of
/// launch_mean() holds this many doubles plus one for the result.
constexpr int kMeanPartials = 1024;

/// fft_array (zeroed by the caller) receives the PSF `psf` of extent `k`, rolled
/// so that its centre voxel k/2 sits at the origin (docs/design.md §2).
void launch_scatter_psf(const float* psf, Dims k, float* fft_array, Dims fft, cudaStream_t stream);

/// dst[i] = src[i] * scale for i < n (the OTF with FFT normalisation folded in).
void launch_scale_spectrum(float2* dst, const float2* src, std::int64_t n, float scale,
                           cudaStream_t stream);

/// s[i] *= otf[i], or *= conj(otf[i]) when `adjoint` (the mirrored PSF).
void launch_multiply_spectrum(float2* s, const float2* otf, std::int64_t n, bool adjoint,
                              cudaStream_t stream);

/// scratch[kMeanPartials] = the sum of d[0, n) in double in a fixed order (the
/// same bits on every run); rl::flat_initial_value() makes it the mean.
void launch_mean(const float* d, std::int64_t n, double* scratch, cudaStream_t stream);

/// What turns the correction B r (B = H^T or the Wiener-Butterworth back projector) into each estimate voxel's RL factor
/// (rl::update_factor): pointers that do not apply are null.
struct StepFactors {
  const float* correction;   ///< H^T r in the FFT array
  const float* inv_weights;  ///< bertero: 1 / max(B M, rl::weight_floor())
  const float* tv;           ///< RL-TV factor
  bool clamp;                ///< rl::clamps_correction(): B r clamped at 0 (Wiener-Butterworth)
};

#if defined(__CUDACC__)
/// The RL factor of domain voxel v (FFT position f): rl::update_factor().
__device__ inline float step_factor(const StepFactors& s, std::int64_t v, std::int64_t f) {
  return rl::update_factor(s.correction[f], s.inv_weights, s.tv, v, s.clamp);
}
#endif

/// u_0 by `mode` (observed: d, the edge replicated beyond the volume; constant,
/// mean: rl::flat_initial_value() of *sum over the volume's voxels) on the domain
/// rows of g into u and ext, with their x margins.
void launch_init(const RowGeometry& g, InitMode mode, const float* d, const double* sum, float* u,
                 const DomainMap& map, float* ext, cudaStream_t stream);

/// ext = M d / max(blurred + background, eps) on the domain rows and their x
/// margins; M is the observed box when `masked` (bertero), else 1.
void launch_ratio(const RowGeometry& g, const float* d, const float* blurred, float eps,
                  float background, const DomainMap& map, bool masked, float* ext,
                  cudaStream_t stream);

/// u *= step_factor(); Biggs: g_new = the change of u; when ext is not null, also
/// writes the new u into the rows of ext with their x margins (for the next iteration).
void launch_update(const RowGeometry& g, const StepFactors& s, float* u, float* g_new, float* ext,
                   cudaStream_t stream);

/// Biggs: y = max(u + *alpha (u - x_prev), 0), or with `log_domain` (biggs-log)
/// y = u (u / x_prev)^*alpha (u where either is not positive); x_prev = u; u = y;
/// ext rows = y.
void launch_predict(const RowGeometry& g, const float* alpha, bool log_domain, float* u,
                    float* x_prev, float* ext, cudaStream_t stream);

/// Bertero: ext rows = the mask M of the observed box.
void launch_mask(const RowGeometry& g, const DomainMap& map, float* ext, cudaStream_t stream);

/// Bertero: inv = 1 / max(weights, floor) (rl::weight_floor()), weights in the FFT array.
void launch_inverse_weights(const RowGeometry& g, const float* weights, float floor, float* inv,
                            cudaStream_t stream);

/// Doubles of the scratch of launch_step_sums() and launch_finish_step().
constexpr int kStepScratch = 4 * kMeanPartials;

/// Partial sums of one step over the domain, in a fixed order: |x_new - ref|,
/// |ref| (ref null: u itself), and with g_old: (x_new - u) . g_old, g_old . g_old,
/// where x_new = u * step_factor().
void launch_step_sums(const RowGeometry& g, const StepFactors& s, const float* u, const float* ref,
                      const float* g_old, double* scratch, cudaStream_t stream);

/// Totals the sums: *change = |x_new - ref|_1 / |ref|_1 (0 for a zero estimate);
/// with `alpha_valid`, *alpha = clamp(dot / (gg + guard), 0, kBiggsMaxAlpha), else 0.
void launch_finish_step(const double* scratch, bool alpha_valid, double* change, float* alpha,
                        cudaStream_t stream);

/// *divergence = the I-divergence of max(blurred + background, eps) from d over the
/// observed voxels (rl::divergence_term; `blurred` the FFT array of H u, the volume at
/// map.margin in the domain of g), in a fixed order; scratch: kMeanPartials doubles.
void launch_divergence(const RowGeometry& g, const DomainMap& map, const float* d,
                       const float* blurred, float eps, float background, double* scratch,
                       double* divergence, cudaStream_t stream);

/// RL-TV: out = 1 / max(1 - lambda div(grad u / |grad u|_eps), kTvMinDenominator)
/// on a volume of extent `d` (the CPU engine's TvFactor, term for term).
void launch_tv_factor(const float* u, Dims d, float lambda, float* out, cudaStream_t stream);

/// Copies the extended width of each listed margin row from its source row.
void launch_margin_rows(const RowGeometry& g, const RowCopy* table, std::int64_t rows, float* ext,
                        cudaStream_t stream);

}  // namespace h5decon::cuda
