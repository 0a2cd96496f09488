// write_attributes(): numbers and strings on an existing object, serially.
#include "h5decon/io/attributes.hpp"

#include <filesystem>

#include "h5decon/error.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io {
namespace {

using detail::FileHandle;
using detail::SpaceHandle;

// Creates (or replaces) attribute `name` of `object` and writes `buffer` into it.
void write_one(hid_t object, const std::string& name, hid_t file_type, hid_t memory_type,
               hid_t space, const void* buffer, const std::string& where) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  const hid_t attr =
      H5Acreate2(object, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  const herr_t written = attr < 0 ? -1 : H5Awrite(attr, memory_type, buffer);
  if (attr >= 0) H5Aclose(attr);
  H5DECON_REQUIRE(written >= 0, IoError, "writing attribute '", name, "' of '", where,
                  "' failed");
}

void write_number(hid_t object, const std::string& name, const std::vector<double>& values,
                  const std::string& where) {
  const hsize_t n = values.size();
  const SpaceHandle space(H5DECON_CHECK_H5(
      n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr)));
  write_one(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), values.data(), where);
}

void write_string(hid_t object, const std::string& name, const std::string& text,
                  const std::string& where) {
  const hid_t type = H5DECON_CHECK_H5(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const SpaceHandle space(H5DECON_CHECK_H5(H5Screate(H5S_SCALAR)));
  const char* c = text.c_str();
  try {
    write_one(object, name, type, type, space.get(), &c, where);
  } catch (...) {
    H5Tclose(type);
    throw;
  }
  H5Tclose(type);
}

}  // namespace

void write_attributes(const std::string& file, const std::string& path, const AttributeSet& set) {
  detail::silence_hdf5_errors();
  H5DECON_REQUIRE(std::filesystem::exists(file), IoError, "cannot add attributes: '", file,
                  "' does not exist");
  FileHandle f(H5DECON_CHECK_H5(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)));
  const hid_t object = H5DECON_CHECK_H5(H5Oopen(f.get(), path.c_str(), H5P_DEFAULT));
  const std::string where = file + ":" + path;
  try {
    for (const auto& [name, values] : set.numbers) write_number(object, name, values, where);
    for (const auto& [name, text] : set.strings) write_string(object, name, text, where);
  } catch (...) {
    H5Oclose(object);
    throw;
  }
  H5Oclose(object);
  f.close();
}

}  // namespace h5decon::io
