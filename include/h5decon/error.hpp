#pragma once
// Exception types shared by every layer, and the check macro that raises them.

#include <sstream>
#include <stdexcept>
#include <string>

namespace h5decon {

/// Base of every error h5decon raises; what() is a complete, user-facing sentence.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The user's input is wrong: a file, dataset, PSF or option. Exit code 2.
class InputError : public Error {
 public:
  using Error::Error;
};

/// Reading or writing a file failed although the request was valid. Exit code 3.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A compute backend (FFTW, cuFFT, a device) failed. Exit code 4.
class BackendError : public Error {
 public:
  using Error::Error;
};

/// A backend ran out of memory where it computes (device memory for CUDA):
/// what the block runtime answers by shrinking the blocks. Exit code 4.
class OutOfMemoryError : public BackendError {
 public:
  OutOfMemoryError(const std::string& message, long long requested_bytes, long long free_bytes)
      : BackendError(message), requested_(requested_bytes), free_(free_bytes) {}
  /// Bytes the failed allocation asked for (0: unknown).
  long long requested_bytes() const { return requested_; }
  /// Bytes free when it failed (-1: unknown).
  long long free_bytes() const { return free_; }

 private:
  long long requested_, free_;
};

/// The RL iterates stopped being finite: an unmatched back projector or the
/// extrapolation amplified noise without bound (the options, not a fault). Exit code 4.
class DivergedError : public BackendError {
 public:
  DivergedError(const std::string& message, int iteration)
      : BackendError(message), iteration_(iteration) {}
  /// The iteration whose estimate was not finite.
  int iteration() const { return iteration_; }

 private:
  int iteration_;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace h5decon

/// Throws ErrorType with the streamed message when cond is false. Survives Release builds.
#define H5DECON_REQUIRE(cond, ErrorType, ...)                           \
  do {                                                                  \
    if (!(cond)) throw ErrorType(::h5decon::detail::concat(__VA_ARGS__)); \
  } while (false)
