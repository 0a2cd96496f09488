#pragma once
// Pinned (page-locked) host memory for the CUDA engines' asynchronous path
// (RlEngine::deconvolve_async): one input slot that a block's stored samples
// are copied into before their upload (bytes: a uint16 block takes half the room
// of float32), and two output slots that results and the checks of their input
// are downloaded into, shared by every engine of one backend so that pinned
// memory stays bounded by the largest block, not by the number of cached engines.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <utility>

#include "backend/cuda/cuda_resources.hpp"
#include "backend/cuda/sample_kernels.cuh"

namespace h5decon::cuda {

/// cudaHostAlloc'd bytes (uninitialised, aligned for any element type);
/// cudaFreeHost that logs on destruction.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t n);
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer();
  std::byte* data() const { return p_; }
  std::size_t bytes() const { return n_; }
  /// Makes room for at least n bytes (the contents are lost when it grows).
  void reserve(std::size_t n);

 private:
  void reset() noexcept;
  std::byte* p_ = nullptr;
  std::size_t n_ = 0;
};

/// The backend's staging area. An output slot is taken by deconvolve_async()
/// and given back by its ticket; a third outstanding call is a usage error.
class PinnedStaging {
 public:
  static constexpr int kOutSlots = 2;

  /// The input slot with room for n bytes, once the upload that last read it
  /// is done (waits for input_read_on()'s event when it was recorded).
  std::byte* input(std::size_t n);
  /// Records, on `stream`, the end of the upload from the input slot.
  void input_read_on(cudaStream_t stream);

  /// A free output slot with room for n floats; throws Error when both are taken.
  int take_output(std::size_t n);
  float* output(int slot) const { return reinterpret_cast<float*>(out_[slot].data()); }
  /// Where the check of the slot's input is downloaded to, beside its result.
  DeviceSampleCheck* check(int slot) const {
    return reinterpret_cast<DeviceSampleCheck*>(checks_.data()) + slot;
  }
  void give_back(int slot) noexcept;

 private:
  std::mutex lock_;
  PinnedBuffer in_;
  CudaEvent in_read_;
  bool in_pending_ = false;
  PinnedBuffer out_[kOutSlots];
  PinnedBuffer checks_;  // kOutSlots DeviceSampleChecks
  bool out_taken_[kOutSlots] = {false, false};
};

}  // namespace h5decon::cuda
