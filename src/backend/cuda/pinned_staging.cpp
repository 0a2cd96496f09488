// Pinned host staging of the CUDA engines' asynchronous path.
#include "backend/cuda/pinned_staging.hpp"

#include "backend/cuda/cuda_check.hpp"
#include "h5decon/error.hpp"

namespace h5decon::cuda {

PinnedBuffer::PinnedBuffer(std::size_t n) : n_(n) {
  if (n == 0) return;
  void* p = nullptr;
  const cudaError_t err = cudaHostAlloc(&p, n, cudaHostAllocPortable);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    throw OutOfMemoryError(
        detail::concat("out of pinned host memory: the staging of a block needs ", n,
                       " bytes (cudaHostAlloc)"),
        static_cast<long long>(n), -1);
  }
  H5DECON_CHECK_CUDA(err);
  p_ = static_cast<std::byte*>(p);
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    reset();
    p_ = std::exchange(o.p_, nullptr);
    n_ = std::exchange(o.n_, 0);
  }
  return *this;
}

PinnedBuffer::~PinnedBuffer() { reset(); }

void PinnedBuffer::reset() noexcept {
  if (!p_) return;
  const cudaError_t err = cudaFreeHost(p_);
  if (err != cudaSuccess) log_cleanup_failure("cudaFreeHost", cudaGetErrorString(err));
  p_ = nullptr;
  n_ = 0;
}

void PinnedBuffer::reserve(std::size_t n) {
  if (n <= n_) return;
  reset();  // free first: old and new together may not fit
  *this = PinnedBuffer(n);
}

std::byte* PinnedStaging::input(std::size_t n) {
  std::lock_guard guard(lock_);
  if (in_pending_) H5DECON_CHECK_CUDA(cudaEventSynchronize(in_read_.get()));
  in_pending_ = false;
  in_.reserve(n);
  return in_.data();
}

void PinnedStaging::input_read_on(cudaStream_t stream) {
  std::lock_guard guard(lock_);
  H5DECON_CHECK_CUDA(cudaEventRecord(in_read_.get(), stream));
  in_pending_ = true;
}

int PinnedStaging::take_output(std::size_t n) {
  std::lock_guard guard(lock_);
  for (int s = 0; s < kOutSlots; ++s) {
    if (out_taken_[s]) continue;
    out_[s].reserve(n * sizeof(float));
    checks_.reserve(kOutSlots * sizeof(DeviceSampleCheck));
    out_taken_[s] = true;
    return s;
  }
  throw Error("CUDA backend: a third deconvolve_async() while two are outstanding; wait() first");
}

void PinnedStaging::give_back(int slot) noexcept {
  std::lock_guard guard(lock_);
  out_taken_[slot] = false;
}

}  // namespace h5decon::cuda
