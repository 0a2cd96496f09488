// HDF5 failure reporting for the check macro and the RAII handles.
#include "io/hdf5_handle.hpp"

#include <cstdio>
#include <string>

#include "h5decon/error.hpp"

namespace h5decon::io::detail {
namespace {

// Keeps the innermost (most specific) description on HDF5's error stack:
// "unable to open file" says more to a user than the API-level "not a file".
herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* client) {
  auto* out = static_cast<std::string*>(client);
  if (n == 0 && err != nullptr && err->desc != nullptr) *out = err->desc;
  return 0;
}

}  // namespace

std::string hdf5_error_reason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &reason);
  return reason;
}

void throw_h5_failure(const char* call, const char* file, int line) {
  const std::string reason = hdf5_error_reason();
  throw IoError(::h5decon::detail::concat("HDF5 call ", call, " failed at ", file, ":", line,
                                          reason.empty() ? "" : ": ", reason));
}

void log_close_failure(hid_t id) noexcept {
  std::fprintf(stderr, "h5decon: warning: closing HDF5 identifier %lld failed\n",
               static_cast<long long>(id));
}

void silence_hdf5_errors() noexcept { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

}  // namespace h5decon::io::detail
