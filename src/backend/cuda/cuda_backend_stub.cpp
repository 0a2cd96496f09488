// The CUDA hooks of a build without CUDA: no device, and a clear refusal.
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"

namespace h5decon::detail {

int cuda_device_count(std::string* reason) {
  if (reason) *reason = "h5decon was not compiled with CUDA";
  return 0;
}

std::string cuda_versions() { return "not compiled in"; }

CudaDeviceInfo cuda_device_info(int /*device*/) {
  throw InputError("h5decon was not compiled with CUDA: no device to describe");
}

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& /*options*/) {
  throw InputError("--backend cuda: h5decon was not compiled with CUDA");
}

}  // namespace h5decon::detail
