#pragma once
// Conversion of a block's stored samples (uint8/16, int8/16, float32) to the
// float32 observed volume on the device, with the checks convert_samples()
// makes on the host (samples.hpp): the same floats, the same count of negatives
// and the same first NaN/Inf. Plain declarations: host .cpp files include this.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "h5decon/sample_type.hpp"

namespace h5decon::cuda {

/// first_nonfinite when the samples had no NaN or Inf.
constexpr unsigned long long kNoNonfinite = ~0ull;

/// What a conversion found, as the device writes it (atomics on 64-bit words);
/// also its layout in pinned memory once downloaded.
struct DeviceSampleCheck {
  unsigned long long negatives;        ///< samples below 0, written as 0
  unsigned long long first_nonfinite;  ///< smallest index of a NaN or Inf; kNoNonfinite: none
  float nonfinite_value;               ///< the sample at first_nonfinite (float32 only)
};

/// out[i] = in[i] as float32, 0 where in[i] < 0, for i < n, and `check` (reset
/// here) counts the negatives and finds the first NaN/Inf (float32 only). `in`
/// holds n samples of `type`; for float32 it may be `out` itself (in place).
/// Both are device pointers aligned to 16 bytes (cudaMalloc's are).
void launch_convert_samples(SampleType type, const void* in, std::int64_t n, float* out,
                            DeviceSampleCheck* check, cudaStream_t stream);

}  // namespace h5decon::cuda
