// Run-time choice of the compute backend.
#include <fftw3.h>

#include <array>
#include <utility>

#include "backend/cpu/cpu_engine.hpp"
#include "backend/cpu/fftw_plan.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/config.hpp"
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"

namespace h5decon {
namespace {

constexpr std::array<std::pair<std::string_view, FftPlanner>, 3> kPlanners{{
    {"estimate", FftPlanner::estimate},
    {"measure", FftPlanner::measure},
    {"patient", FftPlanner::patient},
}};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(BackendOptions options) : options_(std::move(options)) {}
  std::string name() const override {
    return "cpu (fftw3f, " + std::to_string(cpu::resolve_threads(options_)) + " threads)";
  }
  bool shares_fft_wisdom() const override { return true; }
  std::string export_fft_plans() const override { return cpu::export_wisdom_text(); }
  void import_fft_plans(const std::string& plans) override { cpu::import_wisdom_text(plans); }
  std::unique_ptr<RlEngine> make_engine(const Psf& psf, Shape3 shape, const RlOptions& options,
                                        Shape3 fft) override {
    fft = resolve_fft_shape(shape, psf.kernel.shape, fft);
    return std::make_unique<cpu::CpuEngine>(psf, shape, options, fft, options_);
  }
  std::int64_t engine_bytes(Shape3 psf, Shape3 shape, Shape3 fft,
                            const RlOptions& options) const override {
    return cpu::CpuEngine::planned_bytes(psf, shape, options, resolve_fft_shape(shape, psf, fft),
                                         cpu::resolve_threads(options_));
  }

 private:
  BackendOptions options_;
};

}  // namespace

FftPlanner parse_planner(std::string_view name) {
  for (const auto& [key, value] : kPlanners)
    if (key == name) return value;
  throw InputError(detail::concat("--fft-planner: unknown value '", name,
                                  "'; valid: estimate, measure, patient"));
}

std::string fftw_version() { return fftwf_version; }

std::string compiled_backends() {
  return H5DECON_CUDA ? "cpu (FFTW3, threads), cuda (cuFFT)" : "cpu (FFTW3, threads)";
}

std::string to_string(FftPlanner p) {
  for (const auto& [key, value] : kPlanners)
    if (value == p) return std::string(key);
  return "?";
}

std::unique_ptr<Backend> make_backend(std::string_view kind, const BackendOptions& options) {
  if (kind == "cpu") return std::make_unique<CpuBackend>(options);
  // Without CUDA compiled in, the hooks count no device and refuse "cuda" clearly.
  if (kind == "cuda") return detail::make_cuda_backend(options);
  if (kind == "auto") {
    if (detail::cuda_device_count() > 0) return detail::make_cuda_backend(options);
    return std::make_unique<CpuBackend>(options);
  }
  throw InputError(detail::concat("--backend: unknown value '", kind, "'; valid: auto, cpu, cuda"));
}

}  // namespace h5decon
