// Serial writing of a whole array in one of our element types (synth, tests).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <sstream>

#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io {
namespace {

using detail::DatasetHandle;
using detail::FileHandle;
using detail::PlistHandle;
using detail::SpaceHandle;

// Rounds to nearest and clamps to [0, hi] here rather than leaving it to HDF5,
// whose float-to-integer conversion truncates and whose overflow handling
// depends on the library's exception callbacks. NaN becomes 0.
template <class T>
std::vector<T> round_and_clamp(std::span<const float> data, float hi) {
  std::vector<T> out(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    const float v = data[i];
    out[i] = !(v > 0.0f) ? T{0} : v >= hi ? static_cast<T>(hi) : static_cast<T>(std::round(v));
  }
  return out;
}

FileHandle open_for_writing(const std::string& file, bool truncate_file) {
  // The default (sec2) driver: this is a one-process write, no MPI-IO needed.
  if (!truncate_file && std::filesystem::exists(file))
    return FileHandle(H5DECON_CHECK_H5(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)));
  return FileHandle(
      H5DECON_CHECK_H5(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)));
}

// An existing dataset at `path` is replaced, so synth can be rerun into one file.
void unlink_if_present(hid_t file, const std::string& path) {
  std::stringstream in(path);
  std::string prefix;
  for (std::string part; std::getline(in, part, '/');) {
    if (part.empty()) continue;
    prefix += "/" + part;
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return;
  }
  if (!prefix.empty()) H5DECON_CHECK_H5(H5Ldelete(file, prefix.c_str(), H5P_DEFAULT));
}

hid_t file_type_of(DType t) {
  switch (t) {
    case DType::uint8:
      return H5T_STD_U8LE;
    case DType::uint16:
      return H5T_STD_U16LE;
    case DType::int8:
      return H5T_STD_I8LE;
    case DType::int16:
      return H5T_STD_I16LE;
    case DType::float64:
      return H5T_IEEE_F64LE;
    case DType::float32:
      break;
  }
  return H5T_IEEE_F32LE;
}

void write_converted(hid_t dataset, std::span<const float> data, DType stored_as) {
  if (stored_as == DType::uint8) {
    const auto v = round_and_clamp<std::uint8_t>(data, 255.0f);
    H5DECON_CHECK_H5(H5Dwrite(dataset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()));
  } else if (stored_as == DType::uint16) {
    const auto v = round_and_clamp<std::uint16_t>(data, 65535.0f);
    H5DECON_CHECK_H5(H5Dwrite(dataset, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()));
  } else {
    H5DECON_CHECK_H5(
        H5Dwrite(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()));
  }
}

}  // namespace

void write_array(const std::string& file, const std::string& path, std::span<const float> data,
                 const std::vector<std::int64_t>& dims, DType stored_as, bool truncate_file) {
  detail::silence_hdf5_errors();
  const std::string what = "writing '" + file + ":" + path + "'";
  H5DECON_REQUIRE(!dims.empty() && dims.size() <= H5S_MAX_RANK, Error, what, ": rank ", dims.size(),
                  " is not supported");
  std::int64_t elements = 1;
  for (const std::int64_t n : dims) {
    H5DECON_REQUIRE(n >= 0, Error, what, ": negative extent ", n);
    elements *= n;
  }
  H5DECON_REQUIRE(static_cast<std::size_t>(elements) == data.size(), Error, what, ": dims hold ",
                  elements, " elements but the data has ", data.size());

  FileHandle f = open_for_writing(file, truncate_file);
  unlink_if_present(f.get(), path);
  const std::vector<hsize_t> extent(dims.begin(), dims.end());
  const SpaceHandle space(
      H5DECON_CHECK_H5(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr)));
  const PlistHandle lcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  H5DECON_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  // No modification times in the file: the same data gives the same bytes.
  const PlistHandle dcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  H5DECON_CHECK_H5(H5Pset_obj_track_times(dcpl.get(), false));
  DatasetHandle dataset(
      H5DECON_CHECK_H5(H5Dcreate2(f.get(), path.c_str(), file_type_of(stored_as), space.get(),
                                  lcpl.get(), dcpl.get(), H5P_DEFAULT)));
  if (!data.empty()) write_converted(dataset.get(), data, stored_as);
  dataset.close();  // closing flushes: report a failure instead of logging it
  f.close();
}

}  // namespace h5decon::io

namespace h5decon::io {

void write_number_attribute(const std::string& file, const std::string& path,
                            const std::string& name, double value) {
  detail::silence_hdf5_errors();
  FileHandle f = open_for_writing(file, false);
  const hid_t object = H5DECON_CHECK_H5(H5Oopen(f.get(), path.c_str(), H5P_DEFAULT));
  const SpaceHandle scalar(H5DECON_CHECK_H5(H5Screate(H5S_SCALAR)));
  const hid_t attr = H5Acreate2(object, name.c_str(), H5T_IEEE_F64LE, scalar.get(), H5P_DEFAULT,
                                H5P_DEFAULT);
  const herr_t written = attr < 0 ? -1 : H5Awrite(attr, H5T_NATIVE_DOUBLE, &value);
  if (attr >= 0) H5Aclose(attr);
  H5Oclose(object);
  H5DECON_REQUIRE(written >= 0, IoError, "writing attribute '", name, "' of '", file, ":", path,
                  "' failed");
  f.close();
}

}  // namespace h5decon::io
