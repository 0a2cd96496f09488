#pragma once
// The r2c / c2r cuFFT pair of one padded shape, sharing one work area.

#include <cstdint>

#include "backend/cuda/cuda_resources.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::cuda {

/// Complex elements of the r2c spectrum of `fft`: z * y * (x/2 + 1).
std::int64_t spectrum_elements(const Shape3& fft);

/// cuFFT's estimate of the shared work area of a CudaFftPair for `fft`, made
/// without planning (cufftGetSizeMany64), for memory planning before any engine exists.
std::size_t estimate_work_bytes(const Shape3& fft);

/// Out-of-place 3D transforms of `fft` on one stream, planned once through the
/// 64-bit API with automatic work-area allocation off: both plans use a single
/// work area of the larger of their two sizes, attached by attach_work_area().
class CudaFftPair {
 public:
  CudaFftPair(const Shape3& fft, cudaStream_t stream);

  /// Bytes of the shared work area attach_work_area() will allocate.
  std::size_t work_bytes() const { return work_bytes_; }
  /// Allocates the shared work area and hands it to both plans.
  void attach_work_area();

  /// spectrum = FFT(real). cuFFT keeps the real input of an out-of-place r2c
  /// intact, which the engine relies on (the zeros of the extension stay zero).
  void forward(const float* real, float2* spectrum) const;
  /// real = unnormalised inverse FFT(spectrum); the spectrum is overwritten.
  void inverse(float2* spectrum, float* real) const;

 private:
  CufftPlan r2c_, c2r_;
  std::size_t work_bytes_ = 0;
  DeviceBuffer<unsigned char> work_;
};

}  // namespace h5decon::cuda
