#pragma once
// Shared by the CUDA backend's tests: whether a GPU is visible, the skip that
// ctest reports as "skipped: no GPU", and quick backend options.

#include <gtest/gtest.h>

#include "h5decon/backend.hpp"
#include "h5decon/detail/cuda_backend.hpp"

namespace h5decon::test {

inline bool gpu_visible() {
  static const bool visible = detail::cuda_device_count() > 0;
  return visible;
}

/// Backend options that plan quickly (FFTW's estimate planner on the CPU side).
inline BackendOptions quick() {
  BackendOptions o;
  o.planner = FftPlanner::estimate;
  return o;
}

}  // namespace h5decon::test

/// Skips the test, saying so in the words ctest's SKIP_REGULAR_EXPRESSION matches.
#define H5DECON_REQUIRE_GPU() \
  if (!::h5decon::test::gpu_visible()) GTEST_SKIP() << "skipped: no GPU"
