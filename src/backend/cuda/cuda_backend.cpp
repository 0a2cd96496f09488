// The CUDA backend: device discovery and engine creation (detail/cuda_backend.hpp).
#include "h5decon/detail/cuda_backend.hpp"

#include <cuda_runtime_api.h>
#include <cufft.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <tuple>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_engine.hpp"
#include "backend/cuda/pinned_staging.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"

namespace h5decon {
namespace cuda {
namespace {

/// Device memory left to other users of the device and to what the estimates
/// miss (cuFFT's internal plan data, the CUDA context's growth): 256 MiB + 4%.
std::int64_t safety_margin(std::int64_t total) { return (std::int64_t{256} << 20) + total / 25; }

// nvidia-smi's form, GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, so logs can be matched.
std::string uuid_string(const cudaUUID_t& uuid) {
  char out[64];
  const auto* b = reinterpret_cast<const unsigned char*>(uuid.bytes);
  std::snprintf(out, sizeof out,
                "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}

std::string describe_device(int device) {
  cudaDeviceProp prop{};
  H5DECON_CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
  return detail::concat("cuda (", prop.name, ", device ", device, ", ", uuid_string(prop.uuid),
                        ", sm_", prop.major, prop.minor, ", ",
                        static_cast<double>(prop.totalGlobalMem) / (1 << 30), " GiB)");
}

int select_device(int device) {
  if (device >= 0) H5DECON_CHECK_CUDA(cudaSetDevice(device));
  H5DECON_CHECK_CUDA(cudaGetDevice(&device));
  return device;
}

class CudaBackend final : public Backend {
 public:
  // options.device, else the caller's current one: GPU binding (src/dist) picks it per rank.
  explicit CudaBackend(int device)
      : device_(select_device(device)),
        name_(describe_device(device_)),
        staging_(std::make_shared<PinnedStaging>()) {}
  std::string name() const override { return name_; }

  // BackendOptions (threads, FFTW planner, wisdom) do not apply to cuFFT.
  std::unique_ptr<RlEngine> make_engine(const Psf& psf, Shape3 shape, const RlOptions& options,
                                        Shape3 fft) override {
    fft = resolve_fft_shape(shape, psf.kernel.shape, fft);
    return std::make_unique<CudaEngine>(psf, shape, options, fft, device_, staging_);
  }

  std::int64_t engine_bytes(Shape3 psf, Shape3 shape, Shape3 fft,
                            const RlOptions& options) const override {
    if (fft.size() == 0) fft = padded_shape(shape, psf);
    H5DECON_CHECK_CUDA(cudaSetDevice(device_));
    // The decomposition's search asks for many shapes, often the same FFT again.
    std::lock_guard guard(lock_);
    auto key = std::make_tuple(fft.z, fft.y, fft.x);
    auto it = work_bytes_.find(key);
    if (it == work_bytes_.end())
      it = work_bytes_.emplace(key, static_cast<std::int64_t>(estimate_work_bytes(fft))).first;
    return engine_device_bytes(psf, shape, fft, options, it->second);
  }

  std::int64_t device_memory_budget() const override {
    H5DECON_CHECK_CUDA(cudaSetDevice(device_));
    std::size_t free = 0, total = 0;
    H5DECON_CHECK_CUDA(cudaMemGetInfo(&free, &total));
    return std::max<std::int64_t>(
        0, static_cast<std::int64_t>(free) - safety_margin(static_cast<std::int64_t>(total)));
  }

 private:
  int device_ = 0;
  std::string name_;
  std::shared_ptr<PinnedStaging> staging_;
  mutable std::mutex lock_;
  mutable std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::int64_t> work_bytes_;
};

}  // namespace
}  // namespace cuda

namespace detail {

std::string cuda_versions() {
  auto dotted = [](int v) { return concat(v / 1000, ".", (v % 1000) / 10); };
  int runtime = 0, driver = 0, cufft = 0;
  cudaRuntimeGetVersion(&runtime);
  const bool has_driver = cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0;
  (void)cudaGetLastError();
  cufftGetVersion(&cufft);
  return concat("CUDA runtime ", dotted(runtime), " (built against ", dotted(CUDART_VERSION),
                "), cuFFT ", cufft, ", driver ",
                has_driver ? dotted(driver) : std::string("none found"));
}

int cuda_device_count(std::string* reason) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: an answer, not an error to keep
    if (reason)
      *reason =
          concat("cudaGetDeviceCount: ", cudaGetErrorName(err), ", ", cudaGetErrorString(err));
    return 0;
  }
  if (n == 0 && reason) *reason = "cudaGetDeviceCount found no device";
  return n;
}

CudaDeviceInfo cuda_device_info(int device) {
  cudaDeviceProp prop{};
  H5DECON_CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
  CudaDeviceInfo info{prop.name, cuda::uuid_string(prop.uuid),
                      static_cast<std::int64_t>(prop.totalGlobalMem), 0};
  // Free memory needs a context on `device`; it stays the current device. Switching
  // back to the previous one (device 0 by default) would create a context there in
  // every rank (CUDA 12+ makes one on cudaSetDevice): on exclusive-process GPUs all
  // ranks but one would fail, elsewhere each would hold ~0.5 GiB of GPU 0.
  H5DECON_CHECK_CUDA(cudaSetDevice(device));
  std::size_t free = 0, total = 0;
  H5DECON_CHECK_CUDA(cudaMemGetInfo(&free, &total));
  info.free_bytes = static_cast<std::int64_t>(free);
  return info;
}

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  std::string why;
  const int count = cuda_device_count(&why);
  if (count == 0) throw InputError(concat("--backend cuda: no CUDA device visible (", why, ")"));
  H5DECON_REQUIRE(options.device < count, InputError, "CUDA device ", options.device,
                  " does not exist: ", count, " visible");
  return std::make_unique<cuda::CudaBackend>(options.device);
}

}  // namespace detail
}  // namespace h5decon
