#pragma once
// Checks of CUDA runtime and cuFFT calls: a failure throws BackendError naming
// the file, the line and the call's text. The call is evaluated exactly once.

#include <cuda_runtime_api.h>
#include <cufft.h>

#include <cstddef>
#include <string>

namespace h5decon::cuda {

/// Throws BackendError for a failed CUDA runtime call (adds free/total device
/// memory when the failure is an allocation).
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
/// Throws BackendError for a failed cuFFT call (adds device memory on CUFFT_ALLOC_FAILED).
[[noreturn]] void throw_cufft_error(cufftResult err, const char* call, const char* file, int line);

inline void check_cuda(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda_error(err, call, file, line);
}
inline void check_cufft(cufftResult err, const char* call, const char* file, int line) {
  if (err != CUFFT_SUCCESS) throw_cufft_error(err, call, file, line);
}

/// The symbolic name of a cuFFT status (cuFFT has no cudaGetErrorName of its own).
const char* cufft_error_name(cufftResult err);

/// "free F of T bytes on device D" for the current device; never throws, for
/// messages written while something else already failed.
std::string device_memory_report() noexcept;

/// Throws BackendError saying that `requested` bytes for `what` do not fit in
/// the current device's free memory.
[[noreturn]] void throw_out_of_memory(std::size_t requested, const std::string& what);

/// Reports a failure in a destructor, which must not throw: one line on stderr.
void log_cleanup_failure(const char* call, const char* message) noexcept;

}  // namespace h5decon::cuda

/// Evaluates a CUDA runtime call once; throws BackendError (file, line, call) on failure.
#define H5DECON_CHECK_CUDA(call) ::h5decon::cuda::check_cuda((call), #call, __FILE__, __LINE__)
/// Evaluates a cuFFT call once; throws BackendError (file, line, call) on failure.
#define H5DECON_CHECK_CUFFT(call) ::h5decon::cuda::check_cufft((call), #call, __FILE__, __LINE__)
