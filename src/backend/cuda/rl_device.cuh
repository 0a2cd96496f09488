#pragma once
// Device-side helpers shared by the CUDA engine's kernel files: grid-stride
// loops, a fixed-order block sum and the row-extension kernel template.
// Included only by .cu files, inside namespace h5decon::cuda.

#include <algorithm>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/extension_layout.cuh"

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

// One block per volume row r (grid-stride over rows): the block writes the row's
// values op(r, x, position in ext) into ext, then, after a barrier that makes them visible to the
// whole block, fills the row's x margins from them. Core and margin positions are disjoint (P >= n
// + 2m), so the margin pass never reads what it writes.
template <class CoreOp>
__global__ void __launch_bounds__(kThreads) extend_rows(RowGeometry g, CoreOp op, float* ext) {
  const i64 rows = g.nz * g.ny;
  for (i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const i64 z = r / g.ny, y = r - z * g.ny;
    const i64 off = g.row_offset(z, y);
    float* row = ext + off;
    for (i64 x = threadIdx.x; x < g.nx; x += blockDim.x) row[x] = op(r, x, off + x);
    __syncthreads();
    for (i64 k = threadIdx.x; k < 2 * g.mx; k += blockDim.x) {
      const i64 j = k < g.mx ? k - g.mx : g.nx + (k - g.mx);
      const i64 s = boundary_source(g.boundary, j, g.nx);
      if (s >= 0) row[positive_mod(j, g.px)] = row[s];
    }
  }
}

unsigned row_blocks(const RowGeometry& g) {
  return static_cast<unsigned>(std::clamp<i64>(g.nz * g.ny, 1, kMaxBlocks));
}

}  // namespace
}  // namespace h5decon::cuda
