// Stored samples -> float32 on the device, with convert_samples()'s checks
// (src/core/samples.cpp is the reference: the same floats, counts and index).
#include <algorithm>
#include <type_traits>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/rl_device.cuh"
#include "backend/cuda/sample_kernels.cuh"

namespace h5decon::cuda {
namespace {

using u64 = unsigned long long;

// Each block ends with at most two atomics: a few thousand blocks fill any
// device and keep the atomics on the one check word few.
constexpr i64 kConvertBlocks = 4096;
constexpr int kWarps = kThreads / 32;

/// Four samples of T in one aligned load.
template <class T>
struct Quad;
template <>
struct Quad<float> {
  using type = float4;
};
template <>
struct Quad<std::uint8_t> {
  using type = uchar4;
};
template <>
struct Quad<std::uint16_t> {
  using type = ushort4;
};
template <>
struct Quad<std::int8_t> {
  using type = char4;  // signed char components
};
template <>
struct Quad<std::int16_t> {
  using type = short4;
};

__device__ inline u64 min_u64(u64 a, u64 b) { return a < b ? a : b; }

/// One thread's share of the check, reduced per block at the end.
struct Tally {
  u64 negatives = 0;
  u64 first = kNoNonfinite;

  // Integers are exact in float32 (16 bits at most); only signed ones can be negative.
  template <class T>
  __device__ float take(T v, i64 /*i*/) {
    if constexpr (std::is_signed_v<T>) {
      negatives += v < 0 ? 1 : 0;
      return v < 0 ? 0.0f : static_cast<float>(v);
    } else {
      return static_cast<float>(v);
    }
  }
  // A NaN or Inf is kept as it is, so that its value can be read back after an
  // in-place conversion; the host leaves such a result unspecified anyway.
  __device__ float take(float v, i64 i) {
    negatives += v < 0.0f ? 1 : 0;
    if (!isfinite(v)) {
      first = min_u64(first, static_cast<u64>(i));
      return v;
    }
    return v < 0.0f ? 0.0f : v;
  }

  // Warp shuffles, then one warp's partials in shared memory: one atomic per
  // block and quantity, none where the block found nothing.
  __device__ void flush(DeviceSampleCheck* check) {
    __shared__ u64 negatives_of[kWarps], first_of[kWarps];
    for (int offset = 16; offset > 0; offset >>= 1) {
      negatives += __shfl_down_sync(0xffffffffu, negatives, offset);
      first = min_u64(first, __shfl_down_sync(0xffffffffu, first, offset));
    }
    const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) {
      negatives_of[warp] = negatives;
      first_of[warp] = first;
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    u64 total = 0, smallest = kNoNonfinite;
    for (unsigned w = 0; w < blockDim.x / 32; ++w) {
      total += negatives_of[w];
      smallest = min_u64(smallest, first_of[w]);
    }
    if (total > 0) atomicAdd(&check->negatives, total);
    if (smallest != kNoNonfinite) atomicMin(&check->first_nonfinite, smallest);
  }
};

// `in` may alias `out` (float32 in place): each element is read, then written,
// by the same thread. Groups of four in one load and one store; the n % 4 tail
// after them.
template <class T>
__global__ void __launch_bounds__(kThreads)
    convert_samples(const T* in, i64 n, float* out, DeviceSampleCheck* check) {
  using Q = typename Quad<T>::type;
  const auto* in4 = reinterpret_cast<const Q*>(in);
  auto* out4 = reinterpret_cast<float4*>(out);
  const i64 quads = n / 4;
  Tally tally;
  for (i64 q = first_index(); q < quads; q += grid_stride()) {
    const Q v = in4[q];
    const i64 i = 4 * q;
    out4[q] = make_float4(tally.take(v.x, i), tally.take(v.y, i + 1), tally.take(v.z, i + 2),
                          tally.take(v.w, i + 3));
  }
  for (i64 i = 4 * quads + first_index(); i < n; i += grid_stride()) out[i] = tally.take(in[i], i);
  tally.flush(check);
}

// Where a NaN or Inf was found, its value (kept in place by the conversion).
__global__ void record_nonfinite_value(const float* values, DeviceSampleCheck* check) {
  const u64 i = check->first_nonfinite;
  if (i != kNoNonfinite) check->nonfinite_value = values[i];
}

template <class T>
void launch(const void* in, i64 n, float* out, DeviceSampleCheck* check, cudaStream_t stream) {
  const i64 quads = n / 4;
  const auto blocks =
      static_cast<unsigned>(std::clamp<i64>((quads + kThreads - 1) / kThreads, 1, kConvertBlocks));
  convert_samples<T><<<blocks, kThreads, 0, stream>>>(static_cast<const T*>(in), n, out, check);
  H5DECON_CHECK_LAUNCH("convert_samples");
}

}  // namespace

void launch_convert_samples(SampleType type, const void* in, std::int64_t n, float* out,
                            DeviceSampleCheck* check, cudaStream_t stream) {
  H5DECON_CHECK_CUDA(cudaMemsetAsync(check, 0, sizeof(DeviceSampleCheck), stream));
  H5DECON_CHECK_CUDA(
      cudaMemsetAsync(&check->first_nonfinite, 0xff, sizeof check->first_nonfinite, stream));
  switch (type) {
    case SampleType::float32:
      launch<float>(in, n, out, check, stream);
      record_nonfinite_value<<<1, 1, 0, stream>>>(out, check);
      H5DECON_CHECK_LAUNCH("record_nonfinite_value");
      return;
    case SampleType::uint8:
      return launch<std::uint8_t>(in, n, out, check, stream);
    case SampleType::uint16:
      return launch<std::uint16_t>(in, n, out, check, stream);
    case SampleType::int8:
      return launch<std::int8_t>(in, n, out, check, stream);
    case SampleType::int16:
      return launch<std::int16_t>(in, n, out, check, stream);
  }
  throw_cuda_error(cudaErrorInvalidValue, "launch_convert_samples: unknown sample type", __FILE__,
                   __LINE__);
}

}  // namespace h5decon::cuda
