#pragma once
// Element-wise kernels of the CUDA RL engine, behind host launchers that take a
// stream and check the launch. Plain declarations: host .cpp files include this.
// Every index is 64-bit: padded volumes pass 2^31 elements.

#include <cuda_runtime_api.h>
#include <vector_types.h>

#include <cstdint>

#include "backend/cuda/extension_layout.cuh"
#include "h5decon/rl_options.hpp"

namespace h5decon::cuda {

/// Partial sums the mean reduction writes before its final step; the scratch of
/// launch_mean() holds this many doubles plus one for the result.
constexpr int kMeanPartials = 1024;

/// fft_array (zeroed by the caller) receives the PSF `psf` of extent `k`, rolled
/// so that its centre voxel k/2 sits at the origin (DESIGN.md §2).
void launch_scatter_psf(const float* psf, Dims k, float* fft_array, Dims fft, cudaStream_t stream);

/// dst[i] = src[i] * scale for i < n (the OTF with FFT normalisation folded in).
void launch_scale_spectrum(float2* dst, const float2* src, std::int64_t n, float scale,
                           cudaStream_t stream);

/// s[i] *= otf[i], or *= conj(otf[i]) when `adjoint` (the mirrored PSF).
void launch_multiply_spectrum(float2* s, const float2* otf, std::int64_t n, bool adjoint,
                              cudaStream_t stream);

/// scratch[kMeanPartials] = mean of d[0, n), summed in double in a fixed order
/// (the same bits on every run).
void launch_mean(const float* d, std::int64_t n, double* scratch, cudaStream_t stream);

/// u_0 by `mode` (observed: d; constant: 0.5; mean: *mean) into u and into the
/// volume rows of ext, with their x margins.
void launch_init(const RowGeometry& g, InitMode mode, const float* d, const double* mean, float* u,
                 float* ext, cudaStream_t stream);

/// ext = d / max(blurred, eps) on the volume rows and their x margins.
void launch_ratio(const RowGeometry& g, const float* d, const float* blurred, float eps, float* ext,
                  cudaStream_t stream);

/// u *= correction; when ext is not null, also writes the new u into the volume
/// rows of ext with their x margins (for the next iteration).
void launch_update(const RowGeometry& g, const float* correction, float* u, float* ext,
                   cudaStream_t stream);

/// Copies the extended width of each listed margin row from its source row.
void launch_margin_rows(const RowGeometry& g, const RowCopy* table, std::int64_t rows, float* ext,
                        cudaStream_t stream);

}  // namespace h5decon::cuda
