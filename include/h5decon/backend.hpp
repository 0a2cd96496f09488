#pragma once
// The compute-backend interface: one RL engine per (PSF, volume shape, options).

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>

#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/samples.hpp"
#include "h5decon/volume.hpp"

namespace h5decon {

/// How carefully FFT plans are chosen (FFTW's ESTIMATE / MEASURE / PATIENT).
enum class FftPlanner { estimate, measure, patient };
FftPlanner parse_planner(std::string_view name);
std::string to_string(FftPlanner p);

/// The FFTW library's version text ("fftw-3.3.10-sse2-avx"), for --version.
std::string fftw_version();
/// The backends compiled in ("cpu (FFTW3), cuda" or "cpu (FFTW3)"), for --version.
std::string compiled_backends();

/// Settings of a backend that do not change the result's meaning.
struct BackendOptions {
  int threads = 0;  ///< 0: every core the process may use
  FftPlanner planner = FftPlanner::measure;
  std::string wisdom_file;  ///< FFTW wisdom loaded before planning and saved after, if set
  int device = -1;  ///< CUDA device the backend computes on; -1: the calling thread's current one
  /// wisdom_file is the per-user cache (default_wisdom_cache()): unreadable wisdom
  /// there is a warning (it is replaced), not an error.
  bool wisdom_is_cache = false;
};

/// What an engine reports after each finished iteration.
struct IterationReport {
  int iteration = 0;             ///< 1-based
  double relative_change = 0.0;  ///< ||u_k - u_{k-1}||_1 / ||u_{k-1}||_1 over the estimate
  double alpha = 0.0;            ///< Biggs extrapolation factor used for this step (0: none)
  bool stopping = false;         ///< the last iteration: the stop criterion or the count was met
  /// Copies the current estimate (the volume's shape) to its argument; empty where
  /// the engine cannot do it without stalling (the CUDA engine's look-ahead; set
  /// RlOptions::estimate_every_iteration to always have it).
  std::function<void(std::span<float>)> copy_estimate;
  /// I-divergence of this iteration's operand (x_k, or Biggs' prediction) from the data
  /// (RlOptions::stop_divergence, measure_divergence); NaN when not measured.
  double divergence = std::numeric_limits<double>::quiet_NaN();
  /// The run ended on this operand, which fit the data worse than an earlier one: the
  /// result is that best-fitting operand (RlOptions::stop_divergence).
  bool restored = false;
};

/// Called after each finished iteration.
using IterationObserver = std::function<void(const IterationReport&)>;

/// A deconvolution started by RlEngine::deconvolve_async().
class RlTicket {
 public:
  virtual ~RlTicket() = default;
  /// True once the result is complete in the caller's array (never blocks).
  virtual bool ready() = 0;
  /// Blocks until the result is complete in the caller's array; throws the
  /// deconvolution's failure. `poll` runs every few milliseconds while waiting
  /// (it may throw to give up waiting; the work then finishes in the background).
  virtual void wait(const std::function<void()>& poll = {}) = 0;
  /// After wait(): what converting the input found (deconvolve_samples_async()).
  /// Where it found a NaN or Inf, the result is unspecified.
  virtual SampleCheck input_check() const { return {}; }
};

/// Deconvolves volumes of one shape with one PSF; plans and OTF are made once
/// in the constructor and reused for every call.
class RlEngine {
 public:
  virtual ~RlEngine() = default;
  /// Runs RL on `observed` (shape()) and writes the estimate to `result`.
  virtual void deconvolve(std::span<const float> observed, std::span<float> result,
                          const IterationObserver& observer = {}) = 0;
  /// True when deconvolve_async() returns before the work is done, so that the
  /// caller can overlap it with I/O (the CUDA engine); false: it is deconvolve().
  virtual bool overlaps() const { return false; }
  /// Starts RL on `observed`: the same bits as deconvolve() in `result` once the
  /// ticket's wait() returned. `observed` may be reused as soon as this returns;
  /// `result` must stay valid until then. Up to two calls (on any engines of a
  /// backend) may be outstanding; tickets complete in the order they were made
  /// on one engine. The default runs deconvolve() and returns a done ticket.
  virtual std::unique_ptr<RlTicket> deconvolve_async(std::span<const float> observed,
                                                     std::span<float> result);
  /// As deconvolve_async() for samples in the input's stored type (uint16 moves
  /// half the bytes of float32): the engine converts them to float32, setting
  /// negatives to 0, where it computes (a GPU engine on its device). The ticket's
  /// input_check() reports what the conversion found. `observed` may be reused as
  /// soon as this returns. The default converts on the host and, unless the
  /// check found a NaN or Inf, calls deconvolve_async().
  virtual std::unique_ptr<RlTicket> deconvolve_samples_async(SampleView observed,
                                                             std::span<float> result);
  /// Sets the background B of the model d / (Hu + B) for the calls that follow,
  /// in place of the options' (--background auto's estimate from each call's own
  /// data included): a blocked run estimates one B per (c, t) volume and gives it
  /// to every block of that volume.
  virtual void set_background(float background) = 0;
  /// The volume shape this engine was made for.
  virtual Shape3 shape() const = 0;
  /// The FFT shape used internally (after boundary extension and padding).
  virtual Shape3 fft_shape() const = 0;
  /// Bytes this engine holds (buffers, OTF), for memory planning and reports.
  virtual std::int64_t bytes() const = 0;
};

/// A compute backend: makes engines. Chosen at run time by name.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  /// `fft_shape`, when non-zero, overrides the automatic padded shape; it must
  /// satisfy fits_linear_convolution(). The result does not depend on it.
  virtual std::unique_ptr<RlEngine> make_engine(const Psf& psf, Shape3 shape,
                                                const RlOptions& options,
                                                Shape3 fft_shape = {}) = 0;
  /// Bytes an engine for (PSF extent, volume shape, FFT shape, options) would hold
  /// where this backend computes, FFT work areas included, for memory planning.
  /// The default is the decomposition's host estimate, block_bytes().
  virtual std::int64_t engine_bytes(Shape3 psf, Shape3 shape, Shape3 fft_shape,
                                    const RlOptions& options) const;
  /// Bytes this backend's engines may still take on its own memory (a device's
  /// free memory less a safety margin); 0: the backend computes in host memory,
  /// which the caller budgets.
  virtual std::int64_t device_memory_budget() const { return 0; }
  /// True when engines plan FFTs with FFTW, whose plans travel as wisdom: rank 0
  /// plans each shape once and shares it. False for cuFFT (nothing to share).
  virtual bool shares_fft_wisdom() const { return false; }
  /// The FFT plans made so far, as text another process can import (FFTW's
  /// wisdom); empty where there is nothing to share.
  virtual std::string export_fft_plans() const { return {}; }
  /// Makes `plans` (export_fft_plans() of another process) this process's choice
  /// for the shapes they cover, so that both compute the same bits.
  virtual void import_fft_plans(const std::string& /*plans*/) {}
};

/// Returns the backend named `kind` ("cpu"; "cuda" and "auto" once built with
/// CUDA). Throws InputError for an unknown or unavailable backend.
std::unique_ptr<Backend> make_backend(std::string_view kind, const BackendOptions& options);

}  // namespace h5decon
