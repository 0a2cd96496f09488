// Element-wise kernels of the CUDA RL engine. Memory-bound: each is one pass,
// fused so that an iteration touches every array as few times as possible.
#include <algorithm>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/rl_device.cuh"
#include "backend/cuda/rl_kernels.cuh"

namespace h5decon::cuda {
namespace {

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

__global__ void __launch_bounds__(kThreads) partial_sums(const float* d, i64 n, double* partials) {
  __shared__ double s[kThreads];
  double acc = 0.0;
  for (i64 i = first_index(); i < n; i += grid_stride()) acc += d[i];
  const double total = block_sum(s, acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void __launch_bounds__(kMeanPartials) final_sum(double* partials) {
  __shared__ double s[kMeanPartials];
  const double total = block_sum(s, partials[threadIdx.x]);
  if (threadIdx.x == 0) partials[kMeanPartials] = total;
}

// The estimate's domain (the volume, or bertero's extension of it) and the
// observed volume inside it, for row r = z * domain.y + y of the domain.
struct DomainRow {
  DomainMap map;
  __device__ i64 z(i64 r) const { return r / map.domain.y - map.margin.z; }
  __device__ i64 y(i64 r) const { return r % map.domain.y - map.margin.y; }
};

struct InitOp {
  InitMode mode;
  const float* d;
  const double* sum;
  float* u;
  DomainRow rows;  // observed: beyond the volume (bertero), the edge replicated
  i64 nx;          // domain row length
  __device__ float operator()(i64 r, i64 x, i64 /*f*/) const {
    const Dims n = rows.map.volume;
    const float value =
        mode == InitMode::observed
            ? d[(rl::clamp_index(rows.z(r), n.z) * n.y + rl::clamp_index(rows.y(r), n.y)) * n.x +
                rl::clamp_index(x - rows.map.margin.x, n.x)]
            : rl::flat_initial_value(mode, *sum, double(n.z * n.y * n.x));
    u[r * nx + x] = value;
    return value;
  }
};

// r = M d / max(H u + b, eps); M = 1 on the observed box (all of a plain domain).
struct RatioOp {
  const float* d;
  const float* blurred;
  float eps, background;
  DomainRow rows;
  bool masked;
  __device__ float operator()(i64 r, i64 x, i64 f) const {
    const Dims n = rows.map.volume;
    i64 v = r * n.x + x;
    if (masked) {
      const i64 z = rows.z(r), y = rows.y(r), xo = x - rows.map.margin.x;
      if (z < 0 || z >= n.z || y < 0 || y >= n.y || xo < 0 || xo >= n.x) return 0.0f;
      v = (z * n.y + y) * n.x + xo;
    }
    return rl::ratio(d[v], blurred[f], background, eps);
  }
};

struct UpdateOp {
  StepFactors s;
  float* u;
  float* g_new;  // Biggs: x_{k+1} - y
  i64 nx;
  __device__ float operator()(i64 r, i64 x, i64 f) const {
    const i64 v = r * nx + x;
    const float y = u[v], value = y * step_factor(s, v, f);
    if (g_new) g_new[v] = value - y;
    u[v] = value;
    return value;
  }
};

struct PredictOp {
  const float* alpha;
  bool log_domain;
  float* u;
  float* x_prev;
  i64 nx;
  __device__ float operator()(i64 r, i64 x, i64 /*f*/) const {
    const i64 v = r * nx + x;
    const float xk = u[v], xp = x_prev[v], a = *alpha;
    const float pred = log_domain ? rl::predict_log(xk, xp, a) : rl::predict_linear(xk, xp, a);
    x_prev[v] = xk;
    u[v] = pred;
    return pred;
  }
};

struct MaskOp {
  DomainRow rows;
  __device__ float operator()(i64 r, i64 x, i64 /*f*/) const {
    const Dims n = rows.map.volume;
    const i64 z = rows.z(r), y = rows.y(r), xo = x - rows.map.margin.x;
    return z >= 0 && z < n.z && y >= 0 && y < n.y && xo >= 0 && xo < n.x ? 1.0f : 0.0f;
  }
};

// The last iteration's update: no next iteration needs the extended operand.
__global__ void __launch_bounds__(kThreads)
    update_only(RowGeometry g, StepFactors s, float* u, float* g_new) {
  const UpdateOp op{s, u, g_new, g.nx};
  const i64 rows = g.nz * g.ny;
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 off = g.row_offset(r / g.ny, r % g.ny);
    for (i64 x = threadIdx.x; x < g.nx; x += blockDim.x) op(r, x, off + x);
  }
}

__global__ void __launch_bounds__(kThreads)
    inverse_weights(RowGeometry g, const float* weights, float floor, float* inv) {
  const i64 n = g.nz * g.ny * g.nx;
  for (i64 v = first_index(); v < n; v += grid_stride()) {
    const i64 r = v / g.nx, x = v - r * g.nx;
    const float w = weights[g.row_offset(r / g.ny, r % g.ny) + x];
    inv[v] = rl::inverse_weight(w, floor);
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
  final_sum<<<1, kMeanPartials, 0, stream>>>(scratch);
  H5DECON_CHECK_LAUNCH("final_sum");
}

void launch_init(const RowGeometry& g, InitMode mode, const float* d, const double* sum, float* u,
                 const DomainMap& map, float* ext, cudaStream_t stream) {
  extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(
      g, InitOp{mode, d, sum, u, DomainRow{map}, g.nx}, ext);
  H5DECON_CHECK_LAUNCH("extend_rows<InitOp>");
}

void launch_ratio(const RowGeometry& g, const float* d, const float* blurred, float eps,
                  float background, const DomainMap& map, bool masked, float* ext,
                  cudaStream_t stream) {
  extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(
      g, RatioOp{d, blurred, eps, background, DomainRow{map}, masked}, ext);
  H5DECON_CHECK_LAUNCH("extend_rows<RatioOp>");
}

void launch_update(const RowGeometry& g, const StepFactors& s, float* u, float* g_new, float* ext,
                   cudaStream_t stream) {
  if (ext) {
    extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(g, UpdateOp{s, u, g_new, g.nx}, ext);
    H5DECON_CHECK_LAUNCH("extend_rows<UpdateOp>");
  } else {
    update_only<<<row_blocks(g), kThreads, 0, stream>>>(g, s, u, g_new);
    H5DECON_CHECK_LAUNCH("update_only");
  }
}

void launch_predict(const RowGeometry& g, const float* alpha, bool log_domain, float* u,
                    float* x_prev, float* ext, cudaStream_t stream) {
  extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(
      g, PredictOp{alpha, log_domain, u, x_prev, g.nx}, ext);
  H5DECON_CHECK_LAUNCH("extend_rows<PredictOp>");
}

void launch_mask(const RowGeometry& g, const DomainMap& map, float* ext, cudaStream_t stream) {
  extend_rows<<<row_blocks(g), kThreads, 0, stream>>>(g, MaskOp{DomainRow{map}}, ext);
  H5DECON_CHECK_LAUNCH("extend_rows<MaskOp>");
}

void launch_inverse_weights(const RowGeometry& g, const float* weights, float floor, float* inv,
                            cudaStream_t stream) {
  inverse_weights<<<blocks_for(g.nz * g.ny * g.nx), kThreads, 0, stream>>>(g, weights, floor,
                                                                           inv);
  H5DECON_CHECK_LAUNCH("inverse_weights");
}

void launch_margin_rows(const RowGeometry& g, const RowCopy* table, i64 rows, float* ext,
                        cudaStream_t stream) {
  if (rows == 0) return;  // zero boundary, or no PSF extent in z and y
  copy_margin_rows<<<blocks_for(rows * (g.nx + 2 * g.mx)), kThreads, 0, stream>>>(table, rows, g.nx,
                                                                                  g.mx, g.px, ext);
  H5DECON_CHECK_LAUNCH("copy_margin_rows");
}

}  // namespace h5decon::cuda
