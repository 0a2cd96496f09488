#pragma once
// Hooks into the CUDA backend for the backend factory, so that no #ifdef leaks
// into application code: implemented in src/backend/cuda when h5decon is built
// with CUDA, and by a stub that refuses (count 0, "not compiled with CUDA") when not.

#include <cstdint>
#include <memory>
#include <string>

#include "h5decon/backend.hpp"

namespace h5decon::detail {

/// Number of CUDA devices this process can use: 0 when none is visible, when the
/// driver is missing or too old, or when built without CUDA. When it is 0 and
/// `reason` is given, *reason says why.
int cuda_device_count(std::string* reason = nullptr);

/// "CUDA runtime 13.0 (built against 13.0), cuFFT 12000, driver 13.0" or, without a
/// driver, what is known; "not compiled in" for a build without CUDA. Never throws.
std::string cuda_versions();

/// One visible device, as the logs of GPU binding name it.
struct CudaDeviceInfo {
  std::string name;  ///< e.g. "NVIDIA H100 80GB HBM3"
  std::string uuid;  ///< nvidia-smi's form, GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
  std::int64_t total_bytes = 0, free_bytes = 0;
};

/// Name, UUID and memory of device `device` (0 <= device < cuda_device_count()).
/// Throws InputError when built without CUDA, BackendError when the query fails.
/// Name, UUID, total and free memory of `device`, which becomes the calling
/// thread's current device (a rank asks about the device it binds to).
CudaDeviceInfo cuda_device_info(int device);

/// The CUDA backend on options.device, or on the calling thread's current device
/// when it is -1 (the device becomes the thread's current one). Throws InputError
/// when built without CUDA or when no device is visible.
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);

}  // namespace h5decon::detail
