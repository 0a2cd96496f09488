// Kernels of the RL extensions on the device: the fixed-order sums of a step
// (relative change, Biggs' alpha) and the RL-TV factor.
#include <cmath>

#include "backend/cuda/rl_device.cuh"
#include "backend/cuda/rl_kernels.cuh"
#include "rl/step.hpp"
#include "rl/voxel.hpp"

namespace h5decon::cuda {
namespace {

constexpr int kSums = 4;

// Block sums of kSums values, one after the other through one shared array; the
// barrier keeps a sum's result readable until every thread has it.
template <int N>
__device__ void block_sums(double* s, const double (&v)[N], double (&out)[N]) {
  for (int k = 0; k < N; ++k) {
    out[k] = block_sum(s, v[k]);
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kThreads)
    step_sums(RowGeometry g, StepFactors sf, const float* u, const float* ref, const float* g_old,
              double* partials) {
  __shared__ double s[kThreads];
  double acc[kSums] = {0.0, 0.0, 0.0, 0.0};
  const i64 n = g.nz * g.ny * g.nx;
  for (i64 v = first_index(); v < n; v += grid_stride()) {
    const i64 r = v / g.nx, x = v - r * g.nx;
    const float y = u[v], xn = y * step_factor(sf, v, g.row_offset(r / g.ny, r % g.ny) + x);
    const float base = ref ? ref[v] : y;
    acc[0] += rl::change_term(xn, base);
    acc[1] += rl::norm_term(base);
    if (g_old) {
      const float go = g_old[v];
      acc[2] += double(xn - y) * go;
      acc[3] += double(go) * go;
    }
  }
  double total[kSums];
  block_sums(s, acc, total);
  if (threadIdx.x == 0)
    for (int k = 0; k < kSums; ++k) partials[k * kMeanPartials + blockIdx.x] = total[k];
}

__global__ void __launch_bounds__(kMeanPartials)
    finish_step(const double* partials, bool alpha_valid, double* change, float* alpha) {
  __shared__ double s[kMeanPartials];
  double v[kSums], t[kSums];
  for (int k = 0; k < kSums; ++k) v[k] = partials[k * kMeanPartials + threadIdx.x];
  block_sums(s, v, t);
  if (threadIdx.x != 0) return;
  *change = rl::relative_change(t[0], t[1]);
  *alpha = rl::biggs_alpha(t[2], t[3], alpha_valid);
}

__global__ void __launch_bounds__(kThreads)
    divergence_sums(RowGeometry g, DomainMap map, const float* d, const float* blurred, float eps,
                    float background, double* partials) {
  __shared__ double s[kThreads];
  const Dims n = map.volume;
  const i64 count = n.z * n.y * n.x;
  double acc = 0.0;
  for (i64 v = first_index(); v < count; v += grid_stride()) {
    const i64 x = v % n.x, t = v / n.x, y = t % n.y, z = t / n.y;
    const i64 f = g.row_offset(z + map.margin.z, y + map.margin.y) + x + map.margin.x;
    acc += rl::divergence_term(d[v], blurred[f], background, eps);
  }
  const double total = block_sum(s, acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void __launch_bounds__(kMeanPartials)
    finish_divergence(const double* partials, double* divergence) {
  __shared__ double s[kMeanPartials];
  const double total = block_sum(s, partials[threadIdx.x]);
  if (threadIdx.x == 0) *divergence = total;
}

// grad u / sqrt(|grad u|^2 + eps^2) at (z, y, x), forward differences, 0 at each
// axis' last voxel; the component along `axis` (0: z, 1: y, 2: x).
__device__ float unit_gradient(const float* u, Dims d, i64 z, i64 y, i64 x, int axis) {
  const float* p = u + (z * d.y + y) * d.x + x;
  const float dx = x + 1 < d.x ? p[1] - p[0] : 0.0f;
  const float dy = y + 1 < d.y ? p[d.x] - p[0] : 0.0f;
  const float dz = z + 1 < d.z ? p[d.y * d.x] - p[0] : 0.0f;
  return (axis == 0 ? dz : axis == 1 ? dy : dx) * rl::tv_unit_scale(dx, dy, dz);
}

__global__ void __launch_bounds__(kThreads)
    tv_factor(const float* u, Dims d, float lambda, float* out) {
  const i64 n = d.z * d.y * d.x;
  for (i64 v = first_index(); v < n; v += grid_stride()) {
    const i64 x = v % d.x, t = v / d.x, y = t % d.y, z = t / d.y;
    // Backward differences of the unit gradient; the component before the first voxel is 0.
    const float div =
        unit_gradient(u, d, z, y, x, 2) - (x > 0 ? unit_gradient(u, d, z, y, x - 1, 2) : 0.0f) +
        unit_gradient(u, d, z, y, x, 1) - (y > 0 ? unit_gradient(u, d, z, y - 1, x, 1) : 0.0f) +
        unit_gradient(u, d, z, y, x, 0) - (z > 0 ? unit_gradient(u, d, z - 1, y, x, 0) : 0.0f);
    out[v] = rl::tv_factor(div, lambda);
  }
}

}  // namespace

void launch_step_sums(const RowGeometry& g, const StepFactors& s, const float* u, const float* ref,
                      const float* g_old, double* scratch, cudaStream_t stream) {
  // A fixed grid and a fixed tree: the same summation order, so the same bits, every run.
  step_sums<<<kMeanPartials, kThreads, 0, stream>>>(g, s, u, ref, g_old, scratch);
  H5DECON_CHECK_LAUNCH("step_sums");
}

void launch_finish_step(const double* scratch, bool alpha_valid, double* change, float* alpha,
                        cudaStream_t stream) {
  finish_step<<<1, kMeanPartials, 0, stream>>>(scratch, alpha_valid, change, alpha);
  H5DECON_CHECK_LAUNCH("finish_step");
}

void launch_divergence(const RowGeometry& g, const DomainMap& map, const float* d,
                       const float* blurred, float eps, float background, double* scratch,
                       double* divergence, cudaStream_t stream) {
  divergence_sums<<<kMeanPartials, kThreads, 0, stream>>>(g, map, d, blurred, eps, background,
                                                           scratch);
  H5DECON_CHECK_LAUNCH("divergence_sums");
  finish_divergence<<<1, kMeanPartials, 0, stream>>>(scratch, divergence);
  H5DECON_CHECK_LAUNCH("finish_divergence");
}

void launch_tv_factor(const float* u, Dims d, float lambda, float* out, cudaStream_t stream) {
  tv_factor<<<blocks_for(d.z * d.y * d.x), kThreads, 0, stream>>>(u, d, lambda, out);
  H5DECON_CHECK_LAUNCH("tv_factor");
}

}  // namespace h5decon::cuda
