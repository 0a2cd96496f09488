// The CUDA backend: device discovery and engine creation (detail/cuda_backend.hpp).
#include "h5decon/detail/cuda_backend.hpp"

#include <cstdio>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_engine.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"

namespace h5decon {
namespace cuda {
namespace {

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

class CudaBackend final : public Backend {
 public:
  // The device is the caller's current one: GPU binding (src/dist) selects it per rank.
  CudaBackend() {
    H5DECON_CHECK_CUDA(cudaGetDevice(&device_));
    name_ = describe_device(device_);
  }
  std::string name() const override { return name_; }

  // BackendOptions (threads, FFTW planner, wisdom) do not apply to cuFFT.
  std::unique_ptr<RlEngine> make_engine(const Psf& psf, Shape3 shape, const RlOptions& options,
                                        Shape3 fft) override {
    const Shape3 k = psf.kernel.shape;
    if (fft.size() == 0) fft = padded_shape(shape, k);
    H5DECON_REQUIRE(fits_linear_convolution(fft, shape, k), InputError, "FFT shape ", fft.str(),
                    " is too small for volume ", shape.str(), " and PSF ", k.str(),
                    " (needs volume + 2*(psf/2) per axis, last axis even)");
    return std::make_unique<CudaEngine>(psf, shape, options, fft, device_);
  }

 private:
  int device_ = 0;
  std::string name_;
};

}  // namespace
}  // namespace cuda

namespace detail {

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

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& /*options*/) {
  std::string why;
  if (cuda_device_count(&why) == 0)
    throw InputError(concat("--backend cuda: no CUDA device visible (", why, ")"));
  return std::make_unique<cuda::CudaBackend>();
}

}  // namespace detail
}  // namespace h5decon
