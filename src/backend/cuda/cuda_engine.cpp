// Richardson-Lucy on a CUDA device: the executor of rl/iteration.hpp's algorithm,
// its decisions from rl::Schedule, its iterations queued ahead of the host.
#include "backend/cuda/cuda_engine.hpp"

#include <cuda_runtime.h>  // make_cudaPitchedPtr, make_cudaPos, make_cudaExtent

#include <algorithm>
#include <utility>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/rl_kernels.cuh"
#include "h5decon/back_projector.hpp"
#include "h5decon/error.hpp"
#include "h5decon/rl_domain.hpp"
#include "rl/iteration.hpp"
#include "rl/voxel.hpp"

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

Dims dims(Shape3 s) { return {s.z, s.y, s.x}; }

// Bertero: the domain at the origin, no margins (cpu_engine.cpp's make_layout).
RowGeometry geometry_of(Shape3 shape, Shape3 psf, Shape3 fft, const RlOptions& o) {
  if (o.boundary != Boundary::bertero) return make_row_geometry(shape, psf, fft, o.boundary);
  return make_row_geometry(estimate_shape(o.boundary, shape, psf), {1, 1, 1}, fft, Boundary::zero);
}

}  // namespace

CudaEngine::CudaEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft,
                       int device, std::shared_ptr<PinnedStaging> staging)
    : device_(select_device(device)),
      shape_(shape),
      fft_(fft),
      psf_shape_(psf.kernel.shape),
      domain_(estimate_shape(options.boundary, shape, psf.kernel.shape)),
      margin_(estimate_margin(options.boundary, psf.kernel.shape)),
      options_(options),
      map_{dims(shape), dims(margin_), dims(domain_)},
      geometry_(geometry_of(shape, psf.kernel.shape, fft, options)) {
  validate(options_);
  const std::vector<RowCopy> table =
      bertero() ? std::vector<RowCopy>{}
                : margin_row_table(shape, psf_shape_, fft, options.boundary);
  margin_row_count_ = static_cast<std::int64_t>(table.size());
  // Fail fast, before planning, when the buffers alone cannot fit (a block too large).
  require_free_memory(buffer_bytes());
  plans_.emplace(fft_, stream_.get());
  require_free_memory(buffer_bytes() + static_cast<std::int64_t>(plans_->work_bytes()));
  allocate(table);
  plans_->attach_work_area();
  compute_otf(psf.kernel, otf_);
  if (options_.back_projector == BackProjector::wb) {
    back_otf_ = buffer<float2>(spectrum_elements(fft_), "the back projector's OTF");
    compute_otf(back_kernel(psf, options_), back_otf_);
  }
  if (bertero()) compute_weights();
  staging_ = std::move(staging);
  // Its memory counts now, where planning can see it; an engine that can never
  // overlap (--stop-rel-change reads every iteration's change) allocates none.
  if (overlaps()) prepare_async();
}

CudaEngine::~CudaEngine() {
  // Members free their memory after this body: on this engine's device, and only
  // once no queued work (an asynchronous call never waited for) still uses it.
  if (cudaSetDevice(device_) != cudaSuccess) (void)cudaGetLastError();
  for (const std::optional<CudaStream>* s : {&upload_stream_, &download_stream_})
    if (*s && cudaStreamSynchronize((*s)->get()) != cudaSuccess) (void)cudaGetLastError();
  if (cudaStreamSynchronize(stream_.get()) != cudaSuccess) (void)cudaGetLastError();
}

std::int64_t engine_buffer_bytes(Shape3 shape, Shape3 domain, Shape3 fft, const RlOptions& o,
                                 std::int64_t margin_rows) {
  const std::int64_t real = fft.size(), complex = spectrum_elements(fft), n = shape.size();
  const std::int64_t extras = (o.boundary == Boundary::bertero ? 1 : 0) +
                              (o.tv_lambda > 0 ? 1 : 0) +
                              (extrapolates(o.accel) ? 3 : 0) +
                              (rl::Schedule{o}.saves_best_operand() ? 1 : 0) +
                              1;  // + 1: the estimate
  return static_cast<std::int64_t>(
      2 * real * sizeof(float) +
      (2 + (o.back_projector == BackProjector::wb)) * complex * sizeof(float2) + n * sizeof(float) +
      extras * domain.size() * sizeof(float) + margin_rows * sizeof(RowCopy) +
      (kMeanPartials + 1 + kStepScratch + 2 * o.iterations) * sizeof(double) +
      (o.iterations + 1) * sizeof(float));
}

std::int64_t CudaEngine::buffer_bytes() const {
  return engine_buffer_bytes(shape_, domain_, fft_, options_, margin_row_count_);
}

std::int64_t CudaEngine::bytes() const {
  return buffer_bytes() + static_cast<std::int64_t>(plans_ ? plans_->work_bytes() : 0) +
         static_cast<std::int64_t>(observed_spare_.bytes() + result_.bytes()) + samples_.bytes();
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
  const std::int64_t e = domain_.size();
  ext_ = buffer<float>(fft_.size(), "the FFT input array");
  out_ = buffer<float>(fft_.size(), "the FFT output array");
  spectrum_ = buffer<float2>(spectrum_elements(fft_), "the spectrum");
  otf_ = buffer<float2>(spectrum_elements(fft_), "the OTF");
  observed_ = buffer<float>(shape_.size(), "the observed volume");
  estimate_ = buffer<float>(e, "the estimate");
  margin_rows_ = buffer<RowCopy>(margin_row_count_, "the margin-row table");
  mean_ = buffer<double>(kMeanPartials + 1, "the mean's scratch");
  if (bertero()) inv_weights_ = buffer<float>(e, "the Bertero weights");
  if (options_.tv_lambda > 0) tv_factor_ = buffer<float>(e, "the TV factor");
  if (biggs()) {
    x_prev_ = buffer<float>(e, "the previous estimate");
    g_new_ = buffer<float>(e, "the step change");
    g_old_ = buffer<float>(e, "the previous step change");
    // Read (and ignored) before the first write: keep them finite.
    H5DECON_CHECK_CUDA(cudaMemsetAsync(g_old_.data(), 0, g_old_.bytes(), stream_.get()));
  }
  step_scratch_ = buffer<double>(kStepScratch, "the step sums' scratch");
  changes_ = buffer<double>(options_.iterations, "the relative changes");
  divergences_ = buffer<double>(options_.iterations, "the I-divergences");
  if (rl::Schedule{options_}.saves_best_operand()) best_ = buffer<float>(e, "the best operand");
  alphas_ = buffer<float>(options_.iterations + 1, "the Biggs factors");
  if (table.empty()) return;
  H5DECON_CHECK_CUDA(cudaMemcpyAsync(margin_rows_.data(), table.data(), margin_rows_.bytes(),
                                     cudaMemcpyHostToDevice, stream_.get()));
}

void CudaEngine::compute_otf(const Volume& kernel, DeviceBuffer<float2>& otf) {
  const cudaStream_t s = stream_.get();
  DeviceBuffer<float> psf(kernel.data.size(), "the PSF");
  H5DECON_CHECK_CUDA(
      cudaMemcpyAsync(psf.data(), kernel.data.data(), psf.bytes(), cudaMemcpyHostToDevice, s));
  H5DECON_CHECK_CUDA(cudaMemsetAsync(ext_.data(), 0, ext_.bytes(), s));
  const Shape3 k = kernel.shape;
  launch_scatter_psf(psf.data(), {k.z, k.y, k.x}, ext_.data(), {fft_.z, fft_.y, fft_.x}, s);
  plans_->forward(ext_.data(), spectrum_.data());
  // cuFFT is unnormalised, like FFTW: fold 1/N into the OTF once (the CPU engine's float).
  launch_scale_spectrum(otf.data(), spectrum_.data(), spectrum_elements(fft_),
                        1.0f / static_cast<float>(fft_.size()), s);
  // Positions outside the extended volume are never written again: they must be zero.
  H5DECON_CHECK_CUDA(cudaMemsetAsync(ext_.data(), 0, ext_.bytes(), s));
  // Before `psf` and the caller's margin table go away; errors surface here, not later.
  H5DECON_CHECK_CUDA(cudaStreamSynchronize(s));
}

void CudaEngine::compute_weights() {
  const cudaStream_t s = stream_.get();
  launch_mask(geometry_, map_, ext_.data(), s);
  convolve(true);
  launch_inverse_weights(geometry_, out_.data(), rl::weight_floor(options_.back_projector),
                         inv_weights_.data(), s);
  H5DECON_CHECK_CUDA(cudaStreamSynchronize(s));
}

void CudaEngine::deconvolve(std::span<const float> observed, std::span<float> result,
                            const IterationObserver& observer) {
  const auto n = static_cast<std::size_t>(shape_.size());
  H5DECON_REQUIRE(observed.size() == n && result.size() == n, Error,
                  "CudaEngine: expected volumes of ", shape_.str(), " voxels");
  H5DECON_CHECK_CUDA(cudaSetDevice(device_));
  const cudaStream_t s = stream_.get();
  // On the host, by the CPU engine's function: both backends use the same b.
  background_ = resolve_background(options_, observed, shape_);
  H5DECON_CHECK_CUDA(cudaMemcpyAsync(observed_.data(), observed.data(), observed_.bytes(),
                                     cudaMemcpyHostToDevice, s));
  H5DECON_CHECK_CUDA(cudaMemsetAsync(alphas_.data(), 0, alphas_.bytes(), s));
  initialise();
  run_iterations(observer);
  copy_estimate(result);
}

void CudaEngine::copy_estimate(std::span<float> out) const {
  H5DECON_REQUIRE(static_cast<std::int64_t>(out.size()) == shape_.size(), Error,
                  "copy_estimate: expected ", shape_.str(), " voxels");
  const cudaStream_t s = stream_.get();
  copy_observed_box_async(out.data(), cudaMemcpyDeviceToHost, s);
  H5DECON_CHECK_CUDA(cudaStreamSynchronize(s));
}

void CudaEngine::copy_observed_box_async(float* dst, cudaMemcpyKind kind, cudaStream_t s) const {
  if (!bertero()) {
    H5DECON_CHECK_CUDA(cudaMemcpyAsync(dst, estimate_.data(),
                                       static_cast<std::size_t>(shape_.size()) * sizeof(float),
                                       kind, s));
    return;
  }
  cudaMemcpy3DParms p{};
  p.srcPtr = make_cudaPitchedPtr(estimate_.data(), domain_.x * sizeof(float), domain_.x, domain_.y);
  p.srcPos = make_cudaPos(margin_.x * sizeof(float), margin_.y, margin_.z);
  p.dstPtr = make_cudaPitchedPtr(dst, shape_.x * sizeof(float), shape_.x, shape_.y);
  p.extent = make_cudaExtent(shape_.x * sizeof(float), shape_.y, shape_.z);
  p.kind = kind;
  H5DECON_CHECK_CUDA(cudaMemcpy3DAsync(&p, s));
}

void CudaEngine::initialise() {
  const cudaStream_t s = stream_.get();
  if (options_.init == InitMode::mean)
    launch_mean(observed_.data(), shape_.size(), mean_.data(), s);
  launch_init(geometry_, options_.init, observed_.data(), mean_.data() + kMeanPartials,
              estimate_.data(), map_, ext_.data(), s);
  launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
}

void CudaEngine::run_iterations(const IterationObserver& observer) {
  rule_ = rl::Schedule{options_}.divergence_rule();
  verdict_ = rl::FitVerdict::update;
  iteration_ms_.clear();
  H5DECON_CHECK_CUDA(cudaEventRecord(event(0), stream_.get()));
  const int n = options_.iterations;
  // Stopping on the relative change needs each iteration's sums before the next
  // starts, and an estimate per iteration needs the iteration finished; otherwise
  // report an iteration only once the next one is queued: the device never waits
  // for the host, and the observer still sees finished iterations.
  const bool look_ahead =
      !rl::Schedule{options_}.may_stop_early() && !options_.estimate_every_iteration;
  const rl::Schedule schedule{options_};
  for (int it = 1; it <= n; ++it) {
    const bool updated = iterate(it, schedule.refills(it));  // false only without look-ahead
    H5DECON_CHECK_CUDA(cudaEventRecord(event(it), stream_.get()));
    if (!look_ahead) {
      if (finish_iteration(it, false, updated, observer)) return;
    } else if (it > 1) {
      finish_iteration(it - 1, true, true, observer);
    }
  }
  if (look_ahead) finish_iteration(n, true, true, observer);
}

bool CudaEngine::finish_iteration(int it, bool look_ahead, bool updated,
                                  const IterationObserver& observer) {
  H5DECON_CHECK_CUDA(cudaEventSynchronize(event(it)));  // also raises kernel faults
  float ms = 0.0f;
  H5DECON_CHECK_CUDA(cudaEventElapsedTime(&ms, event(it - 1), event(it)));
  iteration_ms_.push_back(ms);
  double change = 0.0;
  float alpha = 0.0f;
  // The legacy default stream does not wait for stream_ (non-blocking): these copies
  // return at once even while the next iteration runs; their slots are final.
  if (updated) {  // a step kept by the I-divergence rule wrote neither
    H5DECON_CHECK_CUDA(
        cudaMemcpy(&change, changes_.data() + (it - 1), sizeof change, cudaMemcpyDeviceToHost));
    H5DECON_CHECK_CUDA(
        cudaMemcpy(&alpha, alphas_.data() + (it - 1), sizeof alpha, cudaMemcpyDeviceToHost));
  }
  const rl::Schedule schedule{options_};
  rl::require_finite(it, change);
  double divergence = 0.0;
  if (schedule.measures_divergence())
    H5DECON_CHECK_CUDA(cudaMemcpy(&divergence, divergences_.data() + (it - 1), sizeof divergence,
                                  cudaMemcpyDeviceToHost));
  const bool stopping = !updated || schedule.stops(it, change);
  if (observer) {
    IterationReport r{it, change, schedule.predicts(it) ? double(alpha) : 0.0, stopping, {}};
    if (!look_ahead) r.copy_estimate = [this](std::span<float> out) { copy_estimate(out); };
    if (schedule.measures_divergence()) r.divergence = divergence;
    r.restored = !updated && verdict_ == rl::FitVerdict::restore_best;
    observer(r);
  }
  return stopping;
}

bool CudaEngine::iterate(int it, bool refill) {
  const cudaStream_t s = stream_.get();
  const rl::Schedule schedule{options_};
  const bool predicted = schedule.predicts(it);
  if (predicted) {
    launch_predict(geometry_, alphas_.data() + (it - 1),
                   options_.accel == Acceleration::biggs_log, estimate_.data(), x_prev_.data(),
                   ext_.data(), s);
    launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
  }
  convolve(false);
  if (schedule.measures_divergence()) {  // of H u in out_, which the ratio only reads
    launch_divergence(geometry_, map_, observed_.data(), out_.data(), options_.eps, background_,
                      step_scratch_.data(), divergences_.data() + (it - 1), s);
    if (rule_.active) {  // the host decides: wait for this operand's fit
      double fit = 0.0;
      H5DECON_CHECK_CUDA(cudaMemcpyAsync(&fit, divergences_.data() + (it - 1), sizeof fit,
                                         cudaMemcpyDeviceToHost, s));
      H5DECON_CHECK_CUDA(cudaStreamSynchronize(s));
      verdict_ = rule_.verdict(fit);
      rule_ = rule_.after(fit);
      if (verdict_ == rl::FitVerdict::restore_best)
        H5DECON_CHECK_CUDA(cudaMemcpyAsync(estimate_.data(), best_.data(), best_.bytes(),
                                           cudaMemcpyDeviceToDevice, s));
      if (verdict_ == rl::FitVerdict::keep_operand || verdict_ == rl::FitVerdict::restore_best)
        return false;  // no update: the run ends
      if (verdict_ == rl::FitVerdict::save_and_update)
        H5DECON_CHECK_CUDA(cudaMemcpyAsync(best_.data(), estimate_.data(), best_.bytes(),
                                           cudaMemcpyDeviceToDevice, s));
    }
  }
  launch_ratio(geometry_, observed_.data(), out_.data(), options_.eps, background_, map_, bertero(),
               ext_.data(), s);
  launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
  if (options_.tv_lambda > 0)
    launch_tv_factor(estimate_.data(), {domain_.z, domain_.y, domain_.x}, options_.tv_lambda,
                     tv_factor_.data(), s);
  convolve(true);
  const StepFactors f{out_.data(), bertero() ? inv_weights_.data() : nullptr,
                      options_.tv_lambda > 0 ? tv_factor_.data() : nullptr,
                      rl::clamps_correction(options_.back_projector)};
  launch_step_sums(geometry_, f, estimate_.data(), predicted ? x_prev_.data() : nullptr,
                   biggs() ? g_old_.data() : nullptr, step_scratch_.data(), s);
  launch_finish_step(step_scratch_.data(), schedule.alpha_valid(it), changes_.data() + (it - 1),
                     alphas_.data() + it, s);
  launch_update(geometry_, f, estimate_.data(), biggs() ? g_new_.data() : nullptr,
                refill ? ext_.data() : nullptr, s);
  if (refill) launch_margin_rows(geometry_, margin_rows_.data(), margin_row_count_, ext_.data(), s);
  if (biggs()) std::swap(g_new_, g_old_);
  return true;
}

void CudaEngine::convolve(bool adjoint) {
  plans_->forward(ext_.data(), spectrum_.data());
  const float2* h = adjoint && options_.back_projector == BackProjector::wb ? back_otf_.data()
                                                                            : otf_.data();
  launch_multiply_spectrum(spectrum_.data(), h, spectrum_elements(fft_), adjoint, stream_.get());
  plans_->inverse(spectrum_.data(), out_.data());
}

}  // namespace h5decon::cuda
