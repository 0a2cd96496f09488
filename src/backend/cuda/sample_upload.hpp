#pragma once
// The way of a block's stored samples from the pinned input slot to the CUDA
// engine's float32 observed volume (the overlapped path, cuda_engine_async.cpp):
// the stored bytes are uploaded (uint16: half the PCIe traffic of float32) and
// converted on the device, and what the conversion found is downloaded beside
// the result. Two checks alternate, one per outstanding call.

#include <array>
#include <cstdint>

#include "backend/cuda/cuda_resources.hpp"
#include "backend/cuda/sample_kernels.cuh"
#include "h5decon/samples.hpp"

namespace h5decon::cuda {

/// The device side of stored-sample uploads for volumes of n voxels.
class SampleUpload {
 public:
  /// Bytes of device memory it holds: n samples of the widest integer type
  /// (float32 converts in place, in the observed volume) and the two checks.
  static std::int64_t device_bytes(std::int64_t n);

  SampleUpload() = default;
  explicit SampleUpload(std::int64_t n);
  std::int64_t bytes() const {
    return static_cast<std::int64_t>(samples_.bytes() + checks_.bytes());
  }

  /// Queues on `stream` the upload of `pinned` (pinned host memory): float32
  /// straight into `observed` (its n floats), other types into the sample buffer.
  void copy(SampleView pinned, float* observed, cudaStream_t stream);
  /// Queues on `stream`, after copy(): `observed` = the converted samples, and
  /// check `parity` (0 or 1) what the conversion found. It first waits until
  /// the download of that check by the call two before is done.
  void convert(SampleType type, std::int64_t n, float* observed, int parity, cudaStream_t stream);
  /// Queues on `stream` the download of check `parity` to `pinned`.
  void download_check(int parity, DeviceSampleCheck* pinned, cudaStream_t stream);

 private:
  DeviceBuffer<std::byte> samples_;
  DeviceBuffer<DeviceSampleCheck> checks_;
  std::array<CudaEvent, 2> check_read_;  // [parity]: its last download done
};

/// The host's form (samples.hpp) of a check the device wrote.
SampleCheck to_sample_check(const DeviceSampleCheck& check);

}  // namespace h5decon::cuda
