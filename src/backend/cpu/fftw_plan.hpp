#pragma once
// RAII over FFTW3 (single precision): aligned buffers, plans, threads and wisdom.

#include <fftw3.h>

#include <complex>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "h5decon/backend.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::cpu {

/// Deleter for memory from fftwf_malloc.
struct FftwFree {
  void operator()(void* p) const noexcept { fftwf_free(p); }
};

/// An fftwf_malloc'd (SIMD-aligned) array of T.
template <class T>
class FftwBuffer {
 public:
  FftwBuffer() = default;
  explicit FftwBuffer(std::size_t n) : n_(n), p_(static_cast<T*>(fftwf_malloc(n * sizeof(T)))) {
    if (n > 0 && !p_) throw_alloc(n * sizeof(T));
  }
  T* data() const { return p_.get(); }
  std::size_t size() const { return n_; }
  T& operator[](std::size_t i) const { return p_.get()[i]; }

 private:
  [[noreturn]] static void throw_alloc(std::size_t bytes);
  std::size_t n_ = 0;
  std::unique_ptr<T, FftwFree> p_;
};

/// A move-only fftwf_plan.
class FftwPlan {
 public:
  FftwPlan() = default;
  explicit FftwPlan(fftwf_plan p, const char* what);
  FftwPlan(FftwPlan&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  FftwPlan& operator=(FftwPlan&& o) noexcept;
  FftwPlan(const FftwPlan&) = delete;
  FftwPlan& operator=(const FftwPlan&) = delete;
  ~FftwPlan();

  /// Runs the plan on the arrays it was made for.
  void execute() const { fftwf_execute(p_); }
  /// The plan, for FFTW's new-array execute functions (arrays of the planned alignment).
  fftwf_plan get() const { return p_; }

 private:
  fftwf_plan p_ = nullptr;
};

/// The pair of transforms an RL engine needs for one padded shape: out-of-place
/// r2c (real -> spectrum, input preserved) and c2r (spectrum -> real, spectrum destroyed).
struct FftPair {
  FftwPlan forward;
  FftwPlan inverse;
};

/// Number of complex elements of the r2c spectrum of `fft`.
std::size_t spectrum_size(const Shape3& fft);

/// Holds FFTW's (non re-entrant) planner while a series of plans is made: takes
/// the planner lock, imports options.wisdom_file and sets the planner's thread
/// count; finish() exports the wisdom (not the destructor: that may fail).
class PlannerSession {
 public:
  PlannerSession(const BackendOptions& options, int threads);
  /// FFTW planner flags of options.planner.
  unsigned flags() const { return flags_; }
  /// Saves the wisdom gathered so far to options.wisdom_file, if set.
  void finish() const;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  std::string wisdom_file_;
  bool wisdom_is_cache_ = false;
  unsigned flags_;
};

/// Makes the plans for `fft` on the given arrays, serialised across threads, with
/// options.threads threads; imports/exports options.wisdom_file around planning.
/// Planning with measure/patient overwrites the arrays.
FftPair make_fft_pair(const Shape3& fft, float* real_in, std::complex<float>* spectrum,
                      float* real_out, const BackendOptions& options);

/// FFTW's accumulated wisdom as text, under the planner lock (BackendError on failure).
std::string export_wisdom_text();
/// Adds `wisdom` (export_wisdom()'s text from another process) to FFTW's, under
/// the planner lock; nothing for empty text (BackendError when FFTW refuses it).
void import_wisdom_text(const std::string& wisdom);

/// Threads a backend with these options will use (options.threads, or all available).
int resolve_threads(const BackendOptions& options);

}  // namespace h5decon::cpu
