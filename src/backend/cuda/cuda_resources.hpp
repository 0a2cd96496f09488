#pragma once
// RAII over the CUDA handles the engine owns: device buffers, streams, events
// and cuFFT plans. Move-only; destructors never throw (a failure is logged).

#include <cuda_runtime_api.h>
#include <cufft.h>

#include <cstddef>
#include <string>
#include <utility>

namespace h5decon::cuda {

/// cudaMalloc of `bytes` (nullptr for 0); out of memory throws BackendError
/// naming `what`, the requested bytes and the device's free memory.
void* device_allocate(std::size_t bytes, const std::string& what);
/// cudaFree that logs instead of throwing.
void device_free(void* p) noexcept;

/// An uninitialised device array of n elements of T.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t n, const std::string& what)
      : p_(static_cast<T*>(device_allocate(n * sizeof(T), what))), n_(n) {}
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { device_free(p_); }

  T* data() const { return p_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

/// A non-blocking stream (no implicit synchronisation with the legacy default stream).
class CudaStream {
 public:
  CudaStream();
  CudaStream(CudaStream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  CudaStream& operator=(CudaStream&& o) noexcept;
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  ~CudaStream();
  cudaStream_t get() const { return s_; }

 private:
  void reset() noexcept;
  cudaStream_t s_ = nullptr;
};

/// A timing event whose synchronisation sleeps instead of spinning, so that a
/// waiting rank leaves its CPU core to I/O and communication.
class CudaEvent {
 public:
  CudaEvent();
  CudaEvent(CudaEvent&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  CudaEvent& operator=(CudaEvent&& o) noexcept;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent();
  cudaEvent_t get() const { return e_; }

 private:
  void reset() noexcept;
  cudaEvent_t e_ = nullptr;
};

/// A cuFFT plan handle (cufftCreate'd, not yet made).
class CufftPlan {
 public:
  CufftPlan();
  CufftPlan(CufftPlan&& o) noexcept
      : h_(std::exchange(o.h_, 0)), valid_(std::exchange(o.valid_, false)) {}
  CufftPlan& operator=(CufftPlan&& o) noexcept;
  CufftPlan(const CufftPlan&) = delete;
  CufftPlan& operator=(const CufftPlan&) = delete;
  ~CufftPlan();
  cufftHandle get() const { return h_; }

 private:
  void reset() noexcept;
  cufftHandle h_ = 0;
  bool valid_ = false;  // 0 is a valid handle value: track ownership explicitly
};

}  // namespace h5decon::cuda
