// RAII over CUDA handles.
#include "backend/cuda/cuda_resources.hpp"

#include "backend/cuda/cuda_check.hpp"
#include "h5decon/error.hpp"

namespace h5decon::cuda {

void* device_allocate(std::size_t bytes, const std::string& what) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // not sticky, but clear it so later checks stay truthful
    throw_out_of_memory(bytes, what);
  }
  H5DECON_CHECK_CUDA(err);
  return p;
}

void device_free(void* p) noexcept {
  if (!p) return;
  const cudaError_t err = cudaFree(p);
  if (err != cudaSuccess) log_cleanup_failure("cudaFree", cudaGetErrorString(err));
}

CudaStream::CudaStream() {
  H5DECON_CHECK_CUDA(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
}

CudaStream& CudaStream::operator=(CudaStream&& o) noexcept {
  if (this != &o) {
    reset();
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

CudaStream::~CudaStream() { reset(); }

void CudaStream::reset() noexcept {
  if (!s_) return;
  const cudaError_t err = cudaStreamDestroy(s_);
  if (err != cudaSuccess) log_cleanup_failure("cudaStreamDestroy", cudaGetErrorString(err));
  s_ = nullptr;
}

CudaEvent::CudaEvent() { H5DECON_CHECK_CUDA(cudaEventCreateWithFlags(&e_, cudaEventBlockingSync)); }

CudaEvent& CudaEvent::operator=(CudaEvent&& o) noexcept {
  if (this != &o) {
    reset();
    e_ = std::exchange(o.e_, nullptr);
  }
  return *this;
}

CudaEvent::~CudaEvent() { reset(); }

void CudaEvent::reset() noexcept {
  if (!e_) return;
  const cudaError_t err = cudaEventDestroy(e_);
  if (err != cudaSuccess) log_cleanup_failure("cudaEventDestroy", cudaGetErrorString(err));
  e_ = nullptr;
}

CufftPlan::CufftPlan() {
  H5DECON_CHECK_CUFFT(cufftCreate(&h_));
  valid_ = true;
}

CufftPlan& CufftPlan::operator=(CufftPlan&& o) noexcept {
  if (this != &o) {
    reset();
    h_ = std::exchange(o.h_, 0);
    valid_ = std::exchange(o.valid_, false);
  }
  return *this;
}

CufftPlan::~CufftPlan() { reset(); }

void CufftPlan::reset() noexcept {
  if (!valid_) return;
  const cufftResult err = cufftDestroy(h_);
  if (err != CUFFT_SUCCESS) log_cleanup_failure("cufftDestroy", cufft_error_name(err));
  valid_ = false;
}

}  // namespace h5decon::cuda
