// FFTW3 plans, threads and wisdom.
#include "backend/cpu/fftw_plan.hpp"

#include <cstdlib>

#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <unistd.h>
#include <mutex>

#include "h5decon/error.hpp"

namespace h5decon::cpu {
namespace {

// FFTW's planner is not re-entrant: every planning call goes through this lock.
// Recursive: a plan destroyed while a PlannerSession unwinds takes it again.
std::recursive_mutex& planner_mutex() {
  static std::recursive_mutex m;
  return m;
}

void init_threads_once() {
  static const bool ok = fftwf_init_threads() != 0;
  H5DECON_REQUIRE(ok, BackendError, "FFTW: fftwf_init_threads failed");
}

unsigned planner_flags(FftPlanner p) {
  switch (p) {
    case FftPlanner::estimate: return FFTW_ESTIMATE;
    case FftPlanner::measure: return FFTW_MEASURE;
    case FftPlanner::patient: return FFTW_PATIENT;
  }
  return FFTW_ESTIMATE;
}

void import_wisdom(const std::string& file, bool cache) {
  std::error_code ec;
  if (file.empty() || !std::filesystem::exists(file, ec)) return;
  if (fftwf_import_wisdom_from_filename(file.c_str()) != 0) return;
  H5DECON_REQUIRE(cache, InputError, "FFTW wisdom file '", file,
                  "' could not be read (not FFTW3 single-precision wisdom?)");
  std::cerr << "h5decon: warning: FFTW wisdom cache '" << file
            << "' could not be read; planning anew and replacing it" << std::endl;
}

// Written beside the file and renamed onto it: runs that share the file (a job
// array's tasks) never read a half-written one.
void export_wisdom(const std::string& file, bool cache) {
  if (file.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  if (cache) fs::create_directories(fs::path(file).parent_path(), ec);
  const std::string temporary = file + ".tmp" + std::to_string(::getpid());
  const bool written = fftwf_export_wisdom_to_filename(temporary.c_str()) != 0;
  if (written) fs::rename(temporary, file, ec);
  if (!written || ec) {
    fs::remove(temporary, ec);
    H5DECON_REQUIRE(cache, IoError, "FFTW wisdom file '", file, "' could not be written");
    std::cerr << "h5decon: warning: FFTW wisdom cache '" << file
              << "' could not be written; later runs will plan anew" << std::endl;
  }
}

}  // namespace

template <class T>
void FftwBuffer<T>::throw_alloc(std::size_t bytes) {
  throw BackendError(detail::concat("out of host memory: could not allocate ", bytes, " bytes"));
}
template class FftwBuffer<float>;
template class FftwBuffer<std::complex<float>>;

FftwPlan::FftwPlan(fftwf_plan p, const char* what) : p_(p) {
  H5DECON_REQUIRE(p_ != nullptr, BackendError, "FFTW could not make the ", what, " plan");
}

FftwPlan& FftwPlan::operator=(FftwPlan&& o) noexcept {
  if (this != &o) {
    this->~FftwPlan();
    p_ = o.p_;
    o.p_ = nullptr;
  }
  return *this;
}

FftwPlan::~FftwPlan() {
  if (p_) {
    std::lock_guard lock(planner_mutex());
    fftwf_destroy_plan(p_);
  }
}

std::size_t spectrum_size(const Shape3& fft) {
  return static_cast<std::size_t>(fft.z * fft.y * (fft.x / 2 + 1));
}

int resolve_threads(const BackendOptions& options) {
  return options.threads > 0 ? options.threads : omp_get_max_threads();
}

PlannerSession::PlannerSession(const BackendOptions& options, int threads)
    : lock_(planner_mutex()),
      wisdom_file_(options.wisdom_file),
      wisdom_is_cache_(options.wisdom_is_cache),
      flags_(planner_flags(options.planner)) {
  init_threads_once();
  import_wisdom(wisdom_file_, wisdom_is_cache_);
  fftwf_plan_with_nthreads(threads);
}

void PlannerSession::finish() const { export_wisdom(wisdom_file_, wisdom_is_cache_); }

FftPair make_fft_pair(const Shape3& fft, float* real_in, std::complex<float>* spectrum,
                      float* real_out, const BackendOptions& options) {
  const PlannerSession session(options, resolve_threads(options));
  const int n[3] = {int(fft.z), int(fft.y), int(fft.x)};
  const unsigned flags = session.flags();
  auto* c = reinterpret_cast<fftwf_complex*>(spectrum);
  FftPair pair{
      FftwPlan(fftwf_plan_dft_r2c(3, n, real_in, c, flags | FFTW_PRESERVE_INPUT), "r2c"),
      FftwPlan(fftwf_plan_dft_c2r(3, n, c, real_out, flags | FFTW_DESTROY_INPUT), "c2r"),
  };
  session.finish();
  return pair;
}

std::string export_wisdom_text() {
  std::lock_guard lock(planner_mutex());
  char* text = fftwf_export_wisdom_to_string();
  H5DECON_REQUIRE(text != nullptr, BackendError, "FFTW could not export its wisdom");
  std::string wisdom(text);
  std::free(text);  // FFTW allocates it with malloc
  return wisdom;
}

void import_wisdom_text(const std::string& wisdom) {
  if (wisdom.empty()) return;
  std::lock_guard lock(planner_mutex());
  // Wisdom of threaded plans names the threads planner, which exists only once
  // FFTW's threads are initialised (repeating it is harmless).
  H5DECON_REQUIRE(fftwf_init_threads() != 0, BackendError, "FFTW: fftwf_init_threads failed");
  H5DECON_REQUIRE(fftwf_import_wisdom_from_string(wisdom.c_str()) != 0, BackendError,
                  "FFTW could not import the wisdom broadcast by rank 0");
}

}  // namespace h5decon::cpu
