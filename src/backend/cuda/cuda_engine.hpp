#pragma once
// Richardson-Lucy on one CUDA device with cuFFT: the CPU engine's semantics
// (boundary extension, initial estimate, eps guard, PSF centre, adjoint) and
// padded layout, float32 throughout, everything resident on the device.

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "backend/cuda/cuda_fft.hpp"
#include "backend/cuda/cuda_resources.hpp"
#include "backend/cuda/extension_layout.hpp"
#include "backend/cuda/pinned_staging.hpp"
#include "backend/cuda/sample_upload.hpp"
#include "h5decon/backend.hpp"
#include "rl/step.hpp"

namespace h5decon::cuda {

/// Device bytes of the buffers of an engine with this estimate domain (its
/// margin-row table of `margin_rows` entries), without the cuFFT work area.
std::int64_t engine_buffer_bytes(Shape3 shape, Shape3 domain, Shape3 fft, const RlOptions& options,
                                 std::int64_t margin_rows);
/// Device bytes a CudaEngine for these shapes needs at most: buffers, the
/// asynchronous path's two extra volumes and stored samples, and cuFFT's own estimate of its work
/// area (cufftGetSizeMany64; `work_bytes` when >= 0), for the decomposition's memory planning.
std::int64_t engine_device_bytes(Shape3 psf, Shape3 shape, Shape3 fft, const RlOptions& options,
                                 std::int64_t work_bytes = -1);

/// The CUDA RL engine. Made once per (PSF, shape, options): plans, OTF and
/// buffers stay on the device. Per iteration, all on one stream:
///   0. Biggs, from the second iteration: ext = u = max(x + alpha (x - x_prev), 0)
///   1. H u:        r2c(ext) -> spectrum *= OTF -> c2r -> out
///   2. ratio:      ext = M d / max(out + b, eps) on the rows + x margins; margin rows
///      copied; RL-TV: the factor of u
///   3. H^T r:      r2c(ext) -> spectrum *= conj(OTF) -> c2r -> out
///   4. sums:       relative change and Biggs' dot products, in a fixed order;
///      alpha of the next step computed on the device (no host round trip)
///   5. update:     u *= out [/ H^T M] [* TV factor], and ext = u extended as in 2
///      (skipped after the last iteration, and with Biggs: step 0 fills ext)
/// Four FFTs, two spectrum multiplies, three row passes and two (small) margin-row copies.
/// The estimate's domain and layout are the CPU engine's (cpu_engine.hpp): for
/// bertero, the extended volume at the FFT array's origin with no margins.
class CudaEngine final : public RlEngine {
 public:
  /// Runs on `device`; `fft` must satisfy fits_linear_convolution(). Throws
  /// BackendError naming requested and free bytes when the device memory is short.
  /// `staging`, when given, enables deconvolve_async()'s overlapped path.
  CudaEngine(const Psf& psf, Shape3 shape, const RlOptions& options, Shape3 fft, int device,
             std::shared_ptr<PinnedStaging> staging = nullptr);
  ~CudaEngine() override;
  CudaEngine(const CudaEngine&) = delete;
  CudaEngine& operator=(const CudaEngine&) = delete;

  void deconvolve(std::span<const float> observed, std::span<float> result,
                  const IterationObserver& observer) override;
  void set_background(float background) override {
    options_.background = background;
    options_.background_auto = false;
  }
  Shape3 shape() const override { return shape_; }
  Shape3 fft_shape() const override { return fft_; }
  std::int64_t bytes() const override;
  /// With a staging area and no stopping rule: see deconvolve_async().
  bool overlaps() const override;
  /// The overlapped path (cuda_engine_async.cpp): the block is copied to pinned
  /// memory and uploaded on a copy stream while earlier blocks compute; all
  /// iterations are queued at once (the observer-free path of deconvolve(): the
  /// same kernels in the same order, so the same bits); the result is copied on
  /// the device and downloaded on a third stream while the next block computes.
  std::unique_ptr<RlTicket> deconvolve_async(std::span<const float> observed,
                                             std::span<float> result) override;
  /// The same path for stored samples: their bytes are uploaded (uint16: half of
  /// float32's) and converted and checked on the device (sample_kernels.cuh);
  /// the check comes back with the result. RlEngine's host conversion where the
  /// path does not overlap, and for --background auto (estimated from host floats).
  std::unique_ptr<RlTicket> deconvolve_samples_async(SampleView observed,
                                                     std::span<float> result) override;

  /// Device time of each iteration of the last deconvolve(), in ms (CUDA events).
  const std::vector<float>& iteration_ms() const { return iteration_ms_; }
  int device() const { return device_; }

 private:
  std::int64_t buffer_bytes() const;
  void require_free_memory(std::int64_t bytes) const;
  void allocate(const std::vector<RowCopy>& table);
  void compute_otf(const Volume& kernel, DeviceBuffer<float2>& otf);
  void compute_weights();
  void initialise();
  void run_iterations(const IterationObserver& observer);
  /// Queues iteration it; false: the I-divergence rule kept the operand (no update).
  bool iterate(int it, bool refill);
  void convolve(bool adjoint);
  bool finish_iteration(int it, bool look_ahead, bool updated, const IterationObserver& observer);
  void copy_estimate(std::span<float> out) const;
  /// Enqueues on `s` the copy of the estimate's observed box (shape()) to `dst`:
  /// the whole estimate, or with bertero one strided 3D copy out of the domain.
  void copy_observed_box_async(float* dst, cudaMemcpyKind kind, cudaStream_t s) const;
  bool bertero() const { return options_.boundary == Boundary::bertero; }
  bool biggs() const { return extrapolates(options_.accel); }  // biggs or biggs-log
  cudaEvent_t event(int k) const { return events_[static_cast<std::size_t>(k % 3)].get(); }
  void prepare_async();
  std::unique_ptr<RlTicket> start_async(SampleView observed, std::span<float> result, bool check);
  void upload_async(SampleView observed, bool check);
  void result_to_device_async();

  int device_;  // first: selected before any member touches the device
  Shape3 shape_, fft_;
  Shape3 psf_shape_;
  Shape3 domain_, margin_;  // the estimate's domain, the volume's offset in it
  RlOptions options_;
  DomainMap map_;
  RowGeometry geometry_;  // of the domain in the FFT array
  float background_ = 0.0f;
  std::int64_t margin_row_count_ = 0;
  CudaStream stream_;
  std::array<CudaEvent, 3> events_;  // iteration ends; three so two stay readable
  std::optional<CudaFftPair> plans_;
  DeviceBuffer<float> ext_;        // FFT input: the extended operand (zeros elsewhere)
  DeviceBuffer<float> out_;        // FFT output: H u or H^T r
  DeviceBuffer<float2> spectrum_;  // r2c output, c2r input (overwritten by c2r)
  DeviceBuffer<float2> otf_;       // transfer function of the PSF, 1/N folded in
  DeviceBuffer<float2> back_otf_;  // the Wiener-Butterworth back projector's (wb only)
  DeviceBuffer<float> observed_;   // d, uploaded once per deconvolve()
  DeviceBuffer<float> estimate_;   // u, on the domain
  DeviceBuffer<RowCopy> margin_rows_;
  DeviceBuffer<double> mean_;                   // reduction scratch; the mean at [kMeanPartials]
  DeviceBuffer<float> inv_weights_;             // bertero: 1 / max(H^T M, floor)
  DeviceBuffer<float> tv_factor_;               // RL-TV: this iteration's factor
  DeviceBuffer<float> x_prev_, g_new_, g_old_;  // Biggs: x_{k-1}, g_k, g_{k-1}
  DeviceBuffer<double> step_scratch_;           // partial sums of a step
  DeviceBuffer<double> changes_;                // relative change of each iteration
  DeviceBuffer<double> divergences_;            // I-divergence of each iteration's operand
  DeviceBuffer<float> best_;                    // stop_divergence: the best-fitting operand
  rl::DivergenceRule rule_;                     // its state before the next operand
  rl::FitVerdict verdict_ = rl::FitVerdict::update;  // the last operand's
  DeviceBuffer<float> alphas_;                  // [k]: Biggs' alpha for iteration k + 1
  std::vector<float> iteration_ms_;
  // The overlapped path; its two volumes are allocated by the first deconvolve_async().
  std::shared_ptr<PinnedStaging> staging_;
  std::optional<CudaStream> upload_stream_, download_stream_;
  std::array<CudaEvent, 2> computed_;  // [k % 2]: call k's iterations done with its observed
  CudaEvent downloaded_;               // the last download from result_ done
  DeviceBuffer<float> observed_spare_;  // the observed volume of the call before
  DeviceBuffer<float> result_;          // the estimate's observed box, packed, for download
  SampleUpload samples_;                // stored samples on their way to observed_, and checks
  std::int64_t async_calls_ = 0;
};

}  // namespace h5decon::cuda
