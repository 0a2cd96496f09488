// Error reporting of the CUDA backend.
#include "backend/cuda/cuda_check.hpp"

#include <cstdio>

#include "h5decon/error.hpp"

namespace h5decon::cuda {
namespace {

std::string where(const char* call, const char* file, int line) {
  return detail::concat(file, ":", line, ": ", call);
}

}  // namespace

const char* cufft_error_name(cufftResult err) {
  // Switch on the value: the enumerator list differs between CUDA 12 and 13.
  switch (static_cast<int>(err)) {
    case 0x0:
      return "CUFFT_SUCCESS";
    case 0x1:
      return "CUFFT_INVALID_PLAN";
    case 0x2:
      return "CUFFT_ALLOC_FAILED";
    case 0x3:
      return "CUFFT_INVALID_TYPE";
    case 0x4:
      return "CUFFT_INVALID_VALUE";
    case 0x5:
      return "CUFFT_INTERNAL_ERROR";
    case 0x6:
      return "CUFFT_EXEC_FAILED";
    case 0x7:
      return "CUFFT_SETUP_FAILED";
    case 0x8:
      return "CUFFT_INVALID_SIZE";
    case 0x9:
      return "CUFFT_UNALIGNED_DATA";
    case 0xB:
      return "CUFFT_INVALID_DEVICE";
    case 0xD:
      return "CUFFT_NO_WORKSPACE";
    case 0xE:
      return "CUFFT_NOT_IMPLEMENTED";
    case 0x10:
      return "CUFFT_NOT_SUPPORTED";
    case 0x11:
      return "CUFFT_MISSING_DEPENDENCY";
    case 0x12:
      return "CUFFT_NVRTC_FAILURE";
    case 0x13:
      return "CUFFT_NVJITLINK_FAILURE";
    case 0x14:
      return "CUFFT_NVSHMEM_FAILURE";
    default:
      return "unknown cuFFT error";
  }
}

// Free bytes on the current device; -1 when unknown. Never throws.
static long long free_device_bytes() noexcept {
  std::size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) == cudaSuccess) return static_cast<long long>(free);
  (void)cudaGetLastError();
  return -1;
}

std::string device_memory_report() noexcept {
  try {
    int device = -1;
    std::size_t free = 0, total = 0;
    if (cudaGetDevice(&device) != cudaSuccess || cudaMemGetInfo(&free, &total) != cudaSuccess) {
      (void)cudaGetLastError();  // do not leave this failure for an unrelated later check
      return "device memory unknown";
    }
    return detail::concat("free ", free, " of ", total, " bytes on device ", device);
  } catch (...) {
    return "device memory unknown";
  }
}

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  std::string msg = detail::concat("CUDA error ", cudaGetErrorName(err), " (",
                                   cudaGetErrorString(err), ") in ", where(call, file, line));
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // allocation failures are not sticky: clear it
    msg += detail::concat(" (", device_memory_report(), ")");
    throw OutOfMemoryError(msg, 0, free_device_bytes());
  }
  throw BackendError(msg);
}

void throw_cufft_error(cufftResult err, const char* call, const char* file, int line) {
  std::string msg = detail::concat("cuFFT error ", cufft_error_name(err), " (",
                                   static_cast<int>(err), ") in ", where(call, file, line));
  // cuFFT reports running out of device memory while planning as ALLOC_FAILED, but
  // also as INTERNAL_ERROR or SETUP_FAILED: in planning calls those are treated as
  // out of memory too, so that the blocks shrink (memory_fit.hpp) instead of the
  // run failing; a real internal error fails again at the smallest blocks, naming it.
  const std::string text = call ? call : "";
  const bool planning = text.find("cufftMakePlan") != std::string::npos ||
                        text.find("cufftCreate") != std::string::npos ||
                        text.find("cufftEstimate") != std::string::npos;
  if (err == CUFFT_ALLOC_FAILED ||
      (planning && (err == CUFFT_INTERNAL_ERROR || err == CUFFT_SETUP_FAILED))) {
    msg += detail::concat(" (", device_memory_report(),
                          err == CUFFT_ALLOC_FAILED ? ")" : "; taken as out of memory)");
    throw OutOfMemoryError(msg, 0, free_device_bytes());
  }
  throw BackendError(msg);
}

void throw_out_of_memory(std::size_t requested, const std::string& what) {
  throw OutOfMemoryError(
      detail::concat("out of GPU memory: ", what, " needs ", requested, " bytes (",
                     static_cast<double>(requested) / (1 << 30), " GiB), ",
                     device_memory_report()),
      static_cast<long long>(requested), free_device_bytes());
}

void log_cleanup_failure(const char* call, const char* message) noexcept {
  std::fprintf(stderr, "h5decon: warning: %s failed during cleanup: %s\n", call, message);
}

}  // namespace h5decon::cuda
