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
