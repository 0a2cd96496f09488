// Element-wise kernels of the CUDA RL engine. Memory-bound: each is one pass,
// fused so that an iteration touches every array as few times as possible.
#include <algorithm>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/rl_kernels.cuh"

/// Checks that the launch just made was accepted (bad configuration, no device).
#define H5DECON_CHECK_LAUNCH(kernel) \
  ::h5decon::cuda::check_cuda(cudaGetLastError(), "launch of " kernel, __FILE__, __LINE__)

namespace h5decon::cuda {
namespace {

using i64 = std::int64_t;

constexpr int kThreads = 256;
// Grid-stride loops cover any size; this caps the grid well below gridDim.x's limit.
constexpr i64 kMaxBlocks = i64{1} << 20;

unsigned blocks_for(i64 n) {
  return static_cast<unsigned>(std::clamp<i64>((n + kThreads - 1) / kThreads, 1, kMaxBlocks));
}

// First index and stride of a 1D grid-stride loop, in 64 bits (the 32-bit
// product blockIdx.x * blockDim.x overflows past 2^32 elements).
__device__ inline i64 first_index() {
  return static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline i64 grid_stride() { return static_cast<i64>(gridDim.x) * blockDim.x; }

__global__ void __launch_bounds__(kThreads)
    scatter_psf(const float* psf, i64 kz, i64 ky, i64 kx, float* out, i64 fz, i64 fy, i64 fx) {
  const i64 n = kz * ky * kx;
  for (i64 i = first_index(); i < n; i += grid_stride()) {
    const i64 x = i % kx, t = i / kx, y = t % ky, z = t / ky;
    const i64 pz = positive_mod(z - kz / 2, fz);
    const i64 py = positive_mod(y - ky / 2, fy);
    const i64 px = positive_mod(x - kx / 2, fx);
    out[(pz * fy + py) * fx + px] = psf[i];
  }
}

__global__ void __launch_bounds__(kThreads)
    scale_spectrum(float2* dst, const float2* src, i64 n, float scale) {
  for (i64 i = first_index(); i < n; i += grid_stride()) {
    const float2 v = src[i];
    dst[i] = make_float2(v.x * scale, v.y * scale);
  }
}

// sign = -1 multiplies by the conjugate OTF: the transfer function of the mirrored PSF.
__global__ void __launch_bounds__(kThreads)
    multiply_spectrum(float2* s, const float2* otf, i64 n, float sign) {
  for (i64 i = first_index(); i < n; i += grid_stride()) {
    const float2 a = s[i], h = otf[i];
    const float hy = sign * h.y;
    s[i] = make_float2(a.x * h.x - a.y * hy, a.x * hy + a.y * h.x);
  }
}

// Tree sum of one block's doubles in shared memory; blockDim.x is a power of two.
__device__ double block_sum(double* s, double value) {
  s[threadIdx.x] = value;
  __syncthreads();
  for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
    __syncthreads();
  }
  return s[0];
}

__global__ void __launch_bounds__(kThreads) partial_sums(const float* d, i64 n, double* partials) {
  __shared__ double s[kThreads];
  double acc = 0.0;
  for (i64 i = first_index(); i < n; i += grid_stride()) acc += d[i];
  const double total = block_sum(s, acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void __launch_bounds__(kMeanPartials) final_mean(double* partials, i64 n) {
  __shared__ double s[kMeanPartials];
  const double total = block_sum(s, partials[threadIdx.x]);
  if (threadIdx.x == 0) partials[kMeanPartials] = total / static_cast<double>(n);
}

// One block per volume row (grid-stride over rows): the block writes the row's
// values into ext, then, after a barrier that makes them visible to the whole
// block, fills the row's x margins from them. Core and margin positions are
// disjoint (P >= n + 2m), so the margin pass never reads what it writes.
template <class CoreOp>
__global__ void __launch_bounds__(kThreads) extend_rows(RowGeometry g, CoreOp op, float* ext) {
  const i64 rows = g.nz * g.ny;
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 z = r / g.ny, y = r - z * g.ny;
    const i64 off = g.row_offset(z, y);
    float* row = ext + off;
    for (i64 x = threadIdx.x; x < g.nx; x += blockDim.x) row[x] = op(r * g.nx + x, off + x);
    __syncthreads();
    for (i64 k = threadIdx.x; k < 2 * g.mx; k += blockDim.x) {
      const i64 j = k < g.mx ? k - g.mx : g.nx + (k - g.mx);
      const i64 s = boundary_source(g.boundary, j, g.nx);
      if (s >= 0) row[positive_mod(j, g.px)] = row[s];
    }
  }
}

struct InitOp {
  InitMode mode;
  const float* d;
  const double* mean;
  float* u;
  __device__ float operator()(i64 v, i64 /*f*/) const {
    const float value = mode == InitMode::observed   ? d[v]
                        : mode == InitMode::constant ? 0.5f
                                                     : static_cast<float>(*mean);
    u[v] = value;
    return value;
  }
};

struct RatioOp {
  const float* d;
  const float* blurred;
  float eps;
  __device__ float operator()(i64 v, i64 f) const {
    const float hu = blurred[f];
    return d[v] / (hu < eps ? eps : hu);  // std::max(hu, eps), as the CPU engine
  }
};

struct UpdateOp {
  const float* correction;
  float* u;
  __device__ float operator()(i64 v, i64 f) const {
    const float value = u[v] * correction[f];
    u[v] = value;
    return value;
  }
};

// The last iteration's update: no next iteration needs the extended operand.
__global__ void __launch_bounds__(kThreads)
    update_only(RowGeometry g, const float* correction, float* u) {
  const i64 rows = g.nz * g.ny;
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* c = correction + g.row_offset(r / g.ny, r % g.ny);
    for (i64 x = threadIdx.x; x < g.nx; x += blockDim.x) u[r * g.nx + x] *= c[x];
  }
}

// Source rows are volume rows, never margin rows, so no copy depends on another.
__global__ void __launch_bounds__(kThreads)
    copy_margin_rows(const RowCopy* table, i64 rows, i64 nx, i64 mx, i64 px, float* ext) {
  const i64 width = nx + 2 * mx;  // the extended row; positions between stay zero
  const i64 n = rows * width;
  for (i64 i = first_index(); i < n; i += grid_stride()) {
    const i64 r = i / width;
    const i64 pos = positive_mod(i - r * width - mx, px);
    const RowCopy c = table[r];
    ext[c.dst + pos] = ext[c.src + pos];
  }
}

unsigned row_blocks(const RowGeometry& g) {
  return static_cast<unsigned>(std::clamp<i64>(g.nz * g.ny, 1, kMaxBlocks));
}

}  // namespace

void launch_scatter_psf(const float* psf, Dims k, float* fft_array, Dims fft, cudaStream_t stream) {
  scatter_psf<<<blocks_for(k.z * k.y * k.x), kThreads, 0, stream>>>(psf, k.z, k.y, k.x, fft_array,
                                                                    fft.z, fft.y, fft.x);
  H5DECON_CHECK_LAUNCH("scatter_psf");
}

void launch_scale_spectrum(float2* dst, const float2* src, i64 n, float scale,
                           cudaStream_t stream) {
  scale_spectrum<<<blocks_for(n), kThreads, 0, stream>>>(dst, src, n, scale);
  H5DECON_CHECK_LAUNCH("scale_spectrum");
}

void launch_multiply_spectrum(float2* s, const float2* otf, i64 n, bool adjoint,
                              cudaStream_t stream) {
  multiply_spectrum<<<blocks_for(n), kThreads, 0, stream>>>(s, otf, n, adjoint ? -1.0f : 1.0f);
  H5DECON_CHECK_LAUNCH("multiply_spectrum");
}

void launch_mean(const float* d, i64 n, double* scratch, cudaStream_t stream) {
  // A fixed grid and a fixed tree: the same summation order, so the same bits, every run.
  partial_sums<<<kMeanPartials, kThreads, 0, stream>>>(d, n, scratch);
  H5DECON_CHECK_LAUNCH("partial_sums");
  final_mean<<<1, kMeanPartials, 0, stream>>>(scratch, n);
  H5DECON_CHECK_LAUNCH("final_mean");
}

void launch_init(const RowGeometry& g, InitMode mode, const float* d, const double* mean, float* u,
                 float* ext, cudaStream_t stream) {
  extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(g, InitOp{mode, d, mean, u}, ext);
  H5DECON_CHECK_LAUNCH("extend_rows<InitOp>");
}

void launch_ratio(const RowGeometry& g, const float* d, const float* blurred, float eps, float* ext,
                  cudaStream_t stream) {
  extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(g, RatioOp{d, blurred, eps}, ext);
  H5DECON_CHECK_LAUNCH("extend_rows<RatioOp>");
}

void launch_update(const RowGeometry& g, const float* correction, float* u, float* ext,
                   cudaStream_t stream) {
  if (ext) {
    extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(g, UpdateOp{correction, u}, ext);
    H5DECON_CHECK_LAUNCH("extend_rows<UpdateOp>");
  } else {
    update_only<<<row_blocks(g), kThreads, 0, stream>>>(g, correction, u);
    H5DECON_CHECK_LAUNCH("update_only");
  }
}

void launch_margin_rows(const RowGeometry& g, const RowCopy* table, i64 rows, float* ext,
                        cudaStream_t stream) {
  if (rows == 0) return;  // zero boundary, or no PSF extent in z and y
  copy_margin_rows<<<blocks_for(rows * (g.nx + 2 * g.mx)), kThreads, 0, stream>>>(table, rows, g.nx,
                                                                                  g.mx, g.px, ext);
  H5DECON_CHECK_LAUNCH("copy_margin_rows");
}

}  // namespace h5decon::cuda
