#pragma once
// Pinned (page-locked) host memory for the CUDA engines' asynchronous path
// (RlEngine::deconvolve_async): one input slot that a block is copied into
// before its upload, and two output slots that results are downloaded into,
// shared by every engine of one backend so that pinned memory stays bounded by
// the largest block, not by the number of cached engines.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <utility>

#include "backend/cuda/cuda_resources.hpp"

namespace h5decon::cuda {

/// cudaHostAlloc'd floats (uninitialised); cudaFreeHost that logs on destruction.
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
  float* data() const { return p_; }
  std::size_t size() const { return n_; }
  /// Makes room for at least n floats (the contents are lost when it grows).
  void reserve(std::size_t n);

 private:
  void reset() noexcept;
  float* p_ = nullptr;
  std::size_t n_ = 0;
};

/// The backend's staging area. An output slot is taken by deconvolve_async()
/// and given back by its ticket; a third outstanding call is a usage error.
class PinnedStaging {
 public:
  static constexpr int kOutSlots = 2;

  /// The input slot with room for n floats, once the upload that last read it
  /// is done (waits for `input_free`'s event when it was recorded).
  float* input(std::size_t n);
  /// Records, on `stream`, the end of the upload from the input slot.
  void input_read_on(cudaStream_t stream);

  /// A free output slot with room for n floats; throws Error when both are taken.
  int take_output(std::size_t n);
  float* output(int slot) const { return out_[slot].data(); }
  void give_back(int slot) noexcept;

 private:
  std::mutex lock_;
  PinnedBuffer in_;
  CudaEvent in_read_;
  bool in_pending_ = false;
  PinnedBuffer out_[kOutSlots];
  bool out_taken_[kOutSlots] = {false, false};
};

}  // namespace h5decon::cuda
