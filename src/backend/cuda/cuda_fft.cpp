// cuFFT plans with a shared work area.
#include "backend/cuda/cuda_fft.hpp"

#include <algorithm>

#include "backend/cuda/cuda_check.hpp"

namespace h5decon::cuda {
namespace {

// Makes `plan` a dense 3D transform of `fft`; returns its work-area size.
std::size_t make_plan(const CufftPlan& plan, const Shape3& fft, cufftType type,
                      cudaStream_t stream) {
  // Without this, each plan would allocate its own work area at creation.
  H5DECON_CHECK_CUFFT(cufftSetAutoAllocation(plan.get(), 0));
  long long n[3] = {fft.z, fft.y, fft.x};
  std::size_t work = 0;
  H5DECON_CHECK_CUFFT(
      cufftMakePlanMany64(plan.get(), 3, n, nullptr, 1, 0, nullptr, 1, 0, type, 1, &work));
  H5DECON_CHECK_CUFFT(cufftSetStream(plan.get(), stream));
  return work;
}

}  // namespace

std::size_t estimate_work_bytes(const Shape3& fft) {
  long long n[3] = {fft.z, fft.y, fft.x};
  std::size_t most = 0;
  for (const cufftType type : {CUFFT_R2C, CUFFT_C2R}) {
    const CufftPlan plan;
    std::size_t work = 0;
    H5DECON_CHECK_CUFFT(
        cufftGetSizeMany64(plan.get(), 3, n, nullptr, 1, 0, nullptr, 1, 0, type, 1, &work));
    most = std::max(most, work);
  }
  return most;
}

std::int64_t spectrum_elements(const Shape3& fft) { return fft.z * fft.y * (fft.x / 2 + 1); }

CudaFftPair::CudaFftPair(const Shape3& fft, cudaStream_t stream) {
  const std::size_t a = make_plan(r2c_, fft, CUFFT_R2C, stream);
  const std::size_t b = make_plan(c2r_, fft, CUFFT_C2R, stream);
  work_bytes_ = std::max(a, b);
}

void CudaFftPair::attach_work_area() {
  // The plans run one after the other on one stream, so one area serves both.
  work_ = DeviceBuffer<unsigned char>(work_bytes_, "the cuFFT work area");
  if (work_bytes_ == 0) return;  // small transforms may need none
  H5DECON_CHECK_CUFFT(cufftSetWorkArea(r2c_.get(), work_.data()));
  H5DECON_CHECK_CUFFT(cufftSetWorkArea(c2r_.get(), work_.data()));
}

void CudaFftPair::forward(const float* real, float2* spectrum) const {
  // cufftExecR2C takes a non-const input although an out-of-place r2c only reads it.
  H5DECON_CHECK_CUFFT(cufftExecR2C(r2c_.get(), const_cast<float*>(real), spectrum));
}

void CudaFftPair::inverse(float2* spectrum, float* real) const {
  H5DECON_CHECK_CUFFT(cufftExecC2R(c2r_.get(), spectrum, real));
}

}  // namespace h5decon::cuda
