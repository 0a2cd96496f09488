#pragma once
// Hooks into the CUDA backend for the backend factory, so that no #ifdef leaks
// into application code: implemented in src/backend/cuda when h5decon is built
// with CUDA, and by a stub that refuses (count 0, "not compiled with CUDA") when not.

#include <memory>
#include <string>

#include "h5decon/backend.hpp"

namespace h5decon::detail {

/// Number of CUDA devices this process can use: 0 when none is visible, when the
/// driver is missing or too old, or when built without CUDA. When it is 0 and
/// `reason` is given, *reason says why.
int cuda_device_count(std::string* reason = nullptr);

/// The CUDA backend on the calling thread's current device. Throws InputError
/// when built without CUDA or when no device is visible.
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);

}  // namespace h5decon::detail
