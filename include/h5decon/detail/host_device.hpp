#pragma once
// H5DECON_HOST_DEVICE: a function the CPU engines call and the CUDA kernels
// compile as device code (src/rl, boundary_index.hpp); such headers are plain
// C++17 for nvcc.

#if defined(__CUDACC__)
#define H5DECON_HOST_DEVICE __host__ __device__
#else
#define H5DECON_HOST_DEVICE
#endif
