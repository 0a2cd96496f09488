// Richardson-Lucy iterations on a CUDA device.
#include "backend/cuda/cuda_engine.hpp"

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/rl_kernels.cuh"
#include "h5decon/error.hpp"

namespace h5decon::cuda {
namespace {

int select_device(int device) {
  H5DECON_CHECK_CUDA(cudaSetDevice(device));
  return device;
}

template <class T>
DeviceBuffer<T> buffer(std::int64_t n, const char* what) {
  return DeviceBuffer<T>(static_cast<std::size_t>(n), what);
}

}  // namespace

CudaEngine::CudaEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft,
                       int device)
    : device_(select_device(device)),
      shape_(shape),
      fft_(fft),
      psf_shape_(psf.kernel.shape),
      options_(options),
      geometry_(make_row_geometry(shape, psf.kernel.shape, fft, options.boundary)) {
  validate(options_);
  const std::vector<RowCopy> table = margin_row_table(shape, psf_shape_, fft, options.boundary);
  margin_row_count_ = static_cast<std::int64_t>(table.size());
  // Fail fast, before planning, when the buffers alone cannot fit (a block too large).
  require_free_memory(buffer_bytes());
  plans_.emplace(fft_, stream_.get());
  require_free_memory(buffer_bytes() + static_cast<std::int64_t>(plans_->work_bytes()));
  allocate(table);
  plans_->attach_work_area();
  compute_otf(psf.kernel);
}

CudaEngine::~CudaEngine() {
  // Members free their memory after this body: on this engine's device.
  if (cudaSetDevice(device_) != cudaSuccess) (void)cudaGetLastError();
}

std::int64_t CudaEngine::buffer_bytes() const {
  const std::int64_t real = fft_.size(), complex = spectrum_elements(fft_), n = shape_.size();
  return static_cast<std::int64_t>(2 * real * sizeof(float) + 2 * complex * sizeof(float2) +
                                   2 * n * sizeof(float) + margin_row_count_ * sizeof(RowCopy) +
                                   (kMeanPartials + 1) * sizeof(double));
}

std::int64_t CudaEngine::bytes() const {
  return buffer_bytes() + static_cast<std::int64_t>(plans_ ? plans_->work_bytes() : 0);
}

void CudaEngine::require_free_memory(std::int64_t bytes) const {
  std::size_t free = 0, total = 0;
  H5DECON_CHECK_CUDA(cudaMemGetInfo(&free, &total));
  if (static_cast<std::size_t>(bytes) <= free) return;
  throw_out_of_memory(
      static_cast<std::size_t>(bytes),
      detail::concat("the RL engine for volume ", shape_.str(), " (FFT shape ", fft_.str(),
                     ", PSF ", psf_shape_.str(), "; use smaller blocks)"));
}

void CudaEngine::allocate(const std::vector<RowCopy>& table) {
  ext_ = buffer<float>(fft_.size(), "the FFT input array");
  out_ = buffer<float>(fft_.size(), "the FFT output array");
  spectrum_ = buffer<float2>(spectrum_elements(fft_), "the spectrum");
  otf_ = buffer<float2>(spectrum_elements(fft_), "the OTF");
  observed_ = buffer<float>(shape_.size(), "the observed volume");
  estimate_ = buffer<float>(shape_.size(), "the estimate");
  margin_rows_ = buffer<RowCopy>(margin_row_count_, "the margin-row table");
  mean_ = buffer<double>(kMeanPartials + 1, "the mean's scratch");
  if (table.empty()) return;
  H5DECON_CHECK_CUDA(cudaMemcpyAsync(margin_rows_.data(), table.data(), margin_rows_.bytes(),
                                     cudaMemcpyHostToDevice, stream_.get()));
}

void CudaEngine::compute_otf(const Volume& kernel) {
  const cudaStream_t s = stream_.get();
  DeviceBuffer<float> psf(kernel.data.size(), "the PSF");
  H5DECON_CHECK_CUDA(
      cudaMemcpyAsync(psf.data(), kernel.data.data(), psf.bytes(), cudaMemcpyHostToDevice, s));
  H5DECON_CHECK_CUDA(cudaMemsetAsync(ext_.data(), 0, ext_.bytes(), s));
  const Shape3 k = kernel.shape;
  launch_scatter_psf(psf.data(), {k.z, k.y, k.x}, ext_.data(), {fft_.z, fft_.y, fft_.x}, s);
  plans_->forward(ext_.data(), spectrum_.data());
  // cuFFT is unnormalised, like FFTW: fold 1/N into the OTF once (the CPU engine's float).
  launch_scale_spectrum(otf_.data(), spectrum_.data(), spectrum_elements(fft_),
                        1.0f / static_cast<float>(fft_.size()), s);
  // Positions outside the extended volume are never written again: they must be zero.
  H5DECON_CHECK_CUDA(cudaMemsetAsync(ext_.data(), 0, ext_.bytes(), s));
  // Before `psf` and the caller's margin table go away; errors surface here, not later.
  H5DECON_CHECK_CUDA(cudaStreamSynchronize(s));
}

void CudaEngine::deconvolve(std::span<const float> observed, std::span<float> result,
                            const IterationObserver& observer) {
  const auto n = static_cast<std::size_t>(shape_.size());
  H5DECON_REQUIRE(observed.size() == n && result.size() == n, Error,
                  "CudaEngine: expected volumes of ", shape_.str(), " voxels");
  H5DECON_CHECK_CUDA(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  H5DECON_CHECK_CUDA(cudaMemcpyAsync(observed_.data(), observed.data(), observed_.bytes(),
                                     cudaMemcpyHostToDevice, s));
  initialise();
  run_iterations(observer);
  H5DECON_CHECK_CUDA(cudaMemcpyAsync(result.data(), estimate_.data(), estimate_.bytes(),
                                     cudaMemcpyDeviceToHost, s));
  H5DECON_CHECK_CUDA(cudaStreamSynchronize(s));
}

void CudaEngine::initialise() {
  const cudaStream_t s = stream_.get();
  if (options_.init == InitMode::mean)
    launch_mean(observed_.data(), shape_.size(), mean_.data(), s);
  launch_init(geometry_, options_.init, observed_.data(), mean_.data() + kMeanPartials,
              estimate_.data(), ext_.data(), s);
  launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
}

void CudaEngine::run_iterations(const IterationObserver& observer) {
  iteration_ms_.clear();
  H5DECON_CHECK_CUDA(cudaEventRecord(event(0), stream_.get()));
  const int n = options_.iterations;
  for (int it = 1; it <= n; ++it) {
    iterate(it < n);
    H5DECON_CHECK_CUDA(cudaEventRecord(event(it), stream_.get()));
    // Report an iteration only once the next one is queued: the device never
    // waits for the host, and the observer still sees finished iterations.
    if (it > 1) finish_iteration(it - 1, observer);
  }
  finish_iteration(n, observer);
}

void CudaEngine::finish_iteration(int it, const IterationObserver& observer) {
  H5DECON_CHECK_CUDA(cudaEventSynchronize(event(it)));  // also raises kernel faults
  float ms = 0.0f;
  H5DECON_CHECK_CUDA(cudaEventElapsedTime(&ms, event(it - 1), event(it)));
  iteration_ms_.push_back(ms);
  if (observer) observer(IterationReport{it, 0.0, 0.0, it == options_.iterations, {}});
}

void CudaEngine::iterate(bool refill) {
  const cudaStream_t s = stream_.get();
  convolve(false);
  launch_ratio(geometry_, observed_.data(), out_.data(), options_.eps, ext_.data(), s);
  launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
  convolve(true);
  launch_update(geometry_, out_.data(), estimate_.data(), refill ? ext_.data() : nullptr, s);
  if (refill) launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
}

void CudaEngine::convolve(bool adjoint) {
  plans_->forward(ext_.data(), spectrum_.data());
  launch_multiply_spectrum(spectrum_.data(), otf_.data(), spectrum_elements(fft_), adjoint,
                           stream_.get());
  plans_->inverse(spectrum_.data(), out_.data());
}

}  // namespace h5decon::cuda
