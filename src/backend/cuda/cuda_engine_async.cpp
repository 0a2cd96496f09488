// The CUDA engine's overlapped path (RlEngine::deconvolve_async and
// deconvolve_samples_async). Per call k, on three streams of the engine's device:
//   host:     the stored bytes -> the pinned input slot (once the upload before it
//             read the slot)
//   upload:   wait until call k-2's iterations stopped reading its observed buffer;
//             pinned input -> observed (float32; the buffer call k-2 used: two
//             alternate) or -> the samples' buffer (other types); for stored
//             samples, converted and checked into observed (sample_kernels.cuh)
//   compute:  wait for the upload; every iteration, queued at once; wait until
//             call k-1's download left result_; estimate's box -> result_
//   download: wait for the compute; result_ -> a pinned output slot, and the check
// and the ticket copies the output slot to the caller's array. The kernels and
// their order are deconvolve()'s with an observer that does not ask for the
// estimate, so the bits are the same (for stored samples: those of deconvolve()
// on convert_samples()'s floats).
#include <cuda_runtime.h>  // make_cudaPitchedPtr, make_cudaPos, make_cudaExtent

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_engine.hpp"
#include "backend/cuda/rl_kernels.cuh"
#include "backend/cuda/sample_upload.hpp"
#include "rl/iteration.hpp"
#include "h5decon/error.hpp"
#include "h5decon/rl_domain.hpp"

namespace h5decon::cuda {
namespace {

/// A result (and, for stored samples, the check of its input) on its way to the
/// caller through a pinned output slot.
class CudaTicket final : public RlTicket {
 public:
  CudaTicket(std::shared_ptr<PinnedStaging> staging, int slot, std::span<float> result,
             bool checked, cudaStream_t download)
      : staging_(std::move(staging)), slot_(slot), result_(result), checked_(checked) {
    H5DECON_CHECK_CUDA(cudaEventRecord(done_.get(), download));
  }
  CudaTicket(const CudaTicket&) = delete;
  CudaTicket& operator=(const CudaTicket&) = delete;
  ~CudaTicket() override {
    if (finished_) return;
    // Never waited for: the slot is given back only once nothing writes it.
    if (cudaEventSynchronize(done_.get()) != cudaSuccess) (void)cudaGetLastError();
    staging_->give_back(slot_);
  }

  bool ready() override {
    if (finished_) return true;
    const cudaError_t state = cudaEventQuery(done_.get());
    if (state == cudaErrorNotReady) return false;
    H5DECON_CHECK_CUDA(state);
    finish();
    return true;
  }

  void wait(const std::function<void()>& poll) override {
    if (!poll) H5DECON_CHECK_CUDA(cudaEventSynchronize(done_.get()));
    while (!ready()) {
      poll();
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }

  SampleCheck input_check() const override { return check_; }

 private:
  void finish() {
    std::memcpy(result_.data(), staging_->output(slot_), result_.size_bytes());
    if (checked_) check_ = to_sample_check(*staging_->check(slot_));
    staging_->give_back(slot_);
    finished_ = true;
  }

  std::shared_ptr<PinnedStaging> staging_;
  int slot_;
  std::span<float> result_;
  bool checked_;
  SampleCheck check_;
  CudaEvent done_;
  bool finished_ = false;
};

}  // namespace

std::int64_t engine_device_bytes(Shape3 psf, Shape3 shape, Shape3 fft, const RlOptions& options,
                                 std::int64_t work_bytes) {
  const Shape3 domain = estimate_shape(options.boundary, shape, psf);
  // At most one margin-row entry per row of the FFT array; the table itself is
  // not built here (it is large for large blocks).
  const std::int64_t rows = options.boundary == Boundary::bertero ? 0 : fft.z * fft.y;
  // The overlapped path's buffers, only where the engine can overlap (overlaps()).
  const bool can_overlap = !rl::Schedule{options}.may_stop_early();
  const std::int64_t async =
      can_overlap ? 2 * shape.size() * static_cast<std::int64_t>(sizeof(float)) +
                        SampleUpload::device_bytes(shape.size())
                  : 0;
  if (work_bytes < 0) work_bytes = static_cast<std::int64_t>(estimate_work_bytes(fft));
  return engine_buffer_bytes(shape, domain, fft, options, rows) + async + work_bytes;
}

bool CudaEngine::overlaps() const {
  return staging_ != nullptr && !rl::Schedule{options_}.may_stop_early();
}

void CudaEngine::prepare_async() {
  if (upload_stream_) return;
  const std::int64_t n = shape_.size();
  require_free_memory(2 * n * static_cast<std::int64_t>(sizeof(float)) +
                      SampleUpload::device_bytes(n));
  observed_spare_ = DeviceBuffer<float>(static_cast<std::size_t>(n), "the next observed volume");
  result_ = DeviceBuffer<float>(static_cast<std::size_t>(n), "the result on its way to the host");
  samples_ = SampleUpload(n);
  upload_stream_.emplace();
  download_stream_.emplace();
}

// `check`: convert and check the samples (stored samples); otherwise the float32
// values are taken as they are, as deconvolve() takes them.
void CudaEngine::upload_async(SampleView observed, bool check) {
  const std::size_t bytes = observed.bytes.size();
  std::byte* pinned = staging_->input(bytes);
  std::memcpy(pinned, observed.bytes.data(), bytes);
  std::swap(observed_, observed_spare_);  // observed_ is now call k-2's buffer
  const cudaStream_t up = upload_stream_->get();
  const int parity = static_cast<int>(async_calls_ % 2);
  H5DECON_CHECK_CUDA(cudaStreamWaitEvent(up, computed_[parity].get(), 0));
  samples_.copy({observed.type, {pinned, bytes}}, observed_.data(), up);
  staging_->input_read_on(up);
  if (check) samples_.convert(observed.type, shape_.size(), observed_.data(), parity, up);
  // The compute stream waits for the upload (and the conversion).
  CudaEvent uploaded;
  H5DECON_CHECK_CUDA(cudaEventRecord(uploaded.get(), up));
  H5DECON_CHECK_CUDA(cudaStreamWaitEvent(stream_.get(), uploaded.get(), 0));
}

void CudaEngine::result_to_device_async() {
  const cudaStream_t s = stream_.get();
  H5DECON_CHECK_CUDA(cudaStreamWaitEvent(s, downloaded_.get(), 0));
  copy_observed_box_async(result_.data(), cudaMemcpyDeviceToDevice, s);
}

std::unique_ptr<RlTicket> CudaEngine::deconvolve_async(std::span<const float> observed,
                                                       std::span<float> result) {
  if (!overlaps()) return RlEngine::deconvolve_async(observed, result);
  const auto n = static_cast<std::size_t>(shape_.size());
  H5DECON_REQUIRE(observed.size() == n, Error, "CudaEngine: expected volumes of ", shape_.str(),
                  " voxels");
  background_ = resolve_background(options_, observed, shape_);  // as deconvolve() does
  return start_async(SampleView::of(observed), result, false);
}

std::unique_ptr<RlTicket> CudaEngine::deconvolve_samples_async(SampleView observed,
                                                               std::span<float> result) {
  // --background auto is estimated from the floats on the host, before the upload.
  if (!overlaps() || options_.background_auto)
    return RlEngine::deconvolve_samples_async(observed, result);
  background_ = options_.background;  // resolve_background() without the estimate
  return start_async(observed, result, true);
}

// Everything after the background: upload (and, with `check`, conversion),
// iterations, download, queued on the three streams.
std::unique_ptr<RlTicket> CudaEngine::start_async(SampleView observed, std::span<float> result,
                                                  bool check) {
  const auto n = static_cast<std::size_t>(shape_.size());
  const std::size_t stored = n * static_cast<std::size_t>(sample_bytes(observed.type));
  H5DECON_REQUIRE(observed.bytes.size() == stored && result.size() == n, Error,
                  "CudaEngine: expected volumes of ", shape_.str(), " voxels");
  H5DECON_CHECK_CUDA(cudaSetDevice(device_));
  prepare_async();
  const int slot = staging_->take_output(n);
  try {
    upload_async(observed, check);
    const cudaStream_t s = stream_.get();
    H5DECON_CHECK_CUDA(cudaMemsetAsync(alphas_.data(), 0, alphas_.bytes(), s));
    initialise();
    for (int it = 1; it <= options_.iterations; ++it)
      iterate(it, !biggs() && it < options_.iterations);
    H5DECON_CHECK_CUDA(cudaEventRecord(computed_[async_calls_ % 2].get(), s));
    result_to_device_async();
    CudaEvent copied;
    H5DECON_CHECK_CUDA(cudaEventRecord(copied.get(), s));
    const cudaStream_t down = download_stream_->get();
    H5DECON_CHECK_CUDA(cudaStreamWaitEvent(down, copied.get(), 0));
    H5DECON_CHECK_CUDA(cudaMemcpyAsync(staging_->output(slot), result_.data(), result_.bytes(),
                                       cudaMemcpyDeviceToHost, down));
    H5DECON_CHECK_CUDA(cudaEventRecord(downloaded_.get(), down));
    if (check)
      samples_.download_check(static_cast<int>(async_calls_ % 2), staging_->check(slot), down);
    ++async_calls_;
    return std::make_unique<CudaTicket>(staging_, slot, result, check, down);
  } catch (...) {
    // Work of this call may already be queued (its upload, some iterations): wait
    // for all of it before the slot and the buffers can be reused, or the next
    // call's upload could overwrite a volume the queued kernels still read.
    for (cudaStream_t st : {stream_.get(), upload_stream_->get(), download_stream_->get()})
      (void)cudaStreamSynchronize(st);
    (void)cudaGetLastError();  // the failure was reported by the throw; do not keep it
    staging_->give_back(slot);
    throw;
  }
}

}  // namespace h5decon::cuda
