#pragma once
// RAII ownership of HDF5 identifiers and the check macro that turns HDF5
// failures into h5decon::IoError. Private to src/io.

#include <hdf5.h>

#include <string>
#include <utility>

namespace h5decon::io::detail {

/// Throws IoError naming the failed call, where it was made and HDF5's own reason.
[[noreturn]] void throw_h5_failure(const char* call, const char* file, int line);

/// HDF5's most specific description of the error of the last failed call ("" if none).
std::string hdf5_error_reason();

/// Reports a failed close from a destructor, which must not throw.
void log_close_failure(hid_t id) noexcept;

/// Turns off HDF5's printing of its error stack: users see only our messages.
void silence_hdf5_errors() noexcept;

/// Returns `value`, or throws when HDF5 signalled failure with a negative result.
template <class T>
T check_h5(T value, const char* call, const char* file, int line) {
  if (value < 0) throw_h5_failure(call, file, line);
  return value;
}

/// One owned hid_t, closed with `Close` (the close function of its kind).
/// Move-only; the destructor never throws.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) noexcept : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.release()) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.release();
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }

  /// Gives up ownership without closing.
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }

  /// Closes quietly (destructor path): a failure is logged, not thrown.
  void reset() noexcept {
    const hid_t id = release();
    if (id >= 0 && Close(id) < 0) log_close_failure(id);
  }

  /// Closes and throws IoError on failure: for paths where a failed close means lost data.
  void close() {
    const hid_t id = release();
    if (id >= 0) check_h5(Close(id), "close", __FILE__, __LINE__);
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using FileHandle = Handle<H5Fclose>;
using GroupHandle = Handle<H5Gclose>;
using DatasetHandle = Handle<H5Dclose>;
using SpaceHandle = Handle<H5Sclose>;
using TypeHandle = Handle<H5Tclose>;
using AttributeHandle = Handle<H5Aclose>;
using PlistHandle = Handle<H5Pclose>;
/// Any object opened with H5Oopen (group, dataset or named datatype).
using ObjectHandle = Handle<H5Oclose>;

}  // namespace h5decon::io::detail

/// Evaluates an HDF5 call once; throws h5decon::IoError with file, line and the
/// call's text when it returns a negative value, else yields the value.
#define H5DECON_CHECK_H5(call) ::h5decon::io::detail::check_h5((call), #call, __FILE__, __LINE__)
