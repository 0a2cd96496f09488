// Stored samples uploaded to the CUDA engine and converted there.
#include "backend/cuda/sample_upload.hpp"

#include "backend/cuda/cuda_check.hpp"
#include "h5decon/error.hpp"

namespace h5decon::cuda {
namespace {

constexpr std::int64_t kWidestIntegerBytes = 2;  // uint16, int16
constexpr int kChecks = 2;

}  // namespace

std::int64_t SampleUpload::device_bytes(std::int64_t n) {
  return n * kWidestIntegerBytes + kChecks * static_cast<std::int64_t>(sizeof(DeviceSampleCheck));
}

SampleUpload::SampleUpload(std::int64_t n)
    : samples_(static_cast<std::size_t>(n * kWidestIntegerBytes), "the stored samples of a block"),
      checks_(kChecks, "the checks of the stored samples") {}

void SampleUpload::copy(SampleView pinned, float* observed, cudaStream_t stream) {
  const std::size_t bytes = pinned.bytes.size();
  H5DECON_REQUIRE(pinned.type == SampleType::float32 || bytes <= samples_.bytes(), Error,
                  "SampleUpload: ", bytes, " bytes of ", to_string(pinned.type),
                  " samples for a buffer of ", samples_.bytes());
  void* to = pinned.type == SampleType::float32 ? static_cast<void*>(observed) : samples_.data();
  H5DECON_CHECK_CUDA(
      cudaMemcpyAsync(to, pinned.bytes.data(), bytes, cudaMemcpyHostToDevice, stream));
}

void SampleUpload::convert(SampleType type, std::int64_t n, float* observed, int parity,
                           cudaStream_t stream) {
  H5DECON_CHECK_CUDA(cudaStreamWaitEvent(stream, check_read_[parity].get(), 0));
  const void* from = type == SampleType::float32 ? static_cast<const void*>(observed)
                                                 : static_cast<const void*>(samples_.data());
  launch_convert_samples(type, from, n, observed, checks_.data() + parity, stream);
}

void SampleUpload::download_check(int parity, DeviceSampleCheck* pinned, cudaStream_t stream) {
  H5DECON_CHECK_CUDA(cudaMemcpyAsync(pinned, checks_.data() + parity, sizeof(DeviceSampleCheck),
                                     cudaMemcpyDeviceToHost, stream));
  H5DECON_CHECK_CUDA(cudaEventRecord(check_read_[parity].get(), stream));
}

SampleCheck to_sample_check(const DeviceSampleCheck& check) {
  SampleCheck out;
  out.negatives = static_cast<std::int64_t>(check.negatives);
  if (check.first_nonfinite != kNoNonfinite) {
    out.first_nonfinite = static_cast<std::int64_t>(check.first_nonfinite);
    out.nonfinite_value = check.nonfinite_value;
  }
  return out;
}

}  // namespace h5decon::cuda
