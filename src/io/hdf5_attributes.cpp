// HDF5 attributes: text attributes written and read (any string type, one
// or many), the voxel size (`element_size_um`).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "h5decon/error.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io::detail {

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  const TypeHandle type(H5DECON_CHECK_H5(H5Tcopy(H5T_C_S1)));
  H5DECON_CHECK_H5(H5Tset_size(type.get(), H5T_VARIABLE));
  H5DECON_CHECK_H5(H5Tset_cset(type.get(), H5T_CSET_UTF8));
  const SpaceHandle space(H5DECON_CHECK_H5(H5Screate(H5S_SCALAR)));
  const AttributeHandle attr(H5DECON_CHECK_H5(
      H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT)));
  const char* text = value.c_str();
  H5DECON_CHECK_H5(H5Awrite(attr.get(), type.get(), &text));
}

std::optional<std::array<double, 3>> read_element_size_um(hid_t object) {
  const char* name = "element_size_um";
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  const AttributeHandle attr(H5Aopen(object, name, H5P_DEFAULT));
  if (!attr) return std::nullopt;
  const SpaceHandle space(H5Aget_space(attr.get()));
  const TypeHandle type(H5Aget_type(attr.get()));
  if (!space || !type || H5Sget_simple_extent_npoints(space.get()) != 3) return std::nullopt;
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) return std::nullopt;
  std::array<double, 3> v{};
  if (H5Aread(attr.get(), H5T_NATIVE_DOUBLE, v.data()) < 0) return std::nullopt;
  for (const double x : v)
    if (!std::isfinite(x) || x <= 0.0) return std::nullopt;
  return v;
}


namespace {

// One attribute as text: a string (fixed or variable length; an array of
// one-character strings joined), or up to 64 numbers separated by commas.
// nullopt for anything else (compound, references, longer arrays).
std::optional<std::string> attribute_text(hid_t attr) {
  const TypeHandle type(H5Aget_type(attr));
  const SpaceHandle space(H5Aget_space(attr));
  if (!type || !space) return std::nullopt;
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n <= 0) return std::nullopt;
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_STRING) {
    if (H5Tis_variable_str(type.get()) > 0) {
      std::vector<char*> values(static_cast<std::size_t>(n), nullptr);
      const TypeHandle mem(H5Tget_native_type(type.get(), H5T_DIR_ASCEND));
      if (!mem || H5Aread(attr, mem.get(), values.data()) < 0) return std::nullopt;
      std::string out;
      for (std::size_t i = 0; i < values.size(); ++i)
        out += (i ? ", " : "") + std::string(values[i] ? values[i] : "");
      H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, values.data());
      return out;
    }
    std::string out(H5Tget_size(type.get()) * static_cast<std::size_t>(n), '\0');
    if (H5Aread(attr, type.get(), out.data()) < 0) return std::nullopt;
    out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
    return out;
  }
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || n > 64) return std::nullopt;
  std::vector<double> values(static_cast<std::size_t>(n));
  if (H5Aread(attr, H5T_NATIVE_DOUBLE, values.data()) < 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, values[i]).ptr;  // shortest exact
    out.append(i ? "," : "").append(text, end);
  }
  return out;
}

herr_t collect_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto& out = *static_cast<std::map<std::string, std::string>*>(data);
  const AttributeHandle attr(H5Aopen(object, name, H5P_DEFAULT));
  if (!attr) return 0;
  if (std::optional<std::string> text = attribute_text(attr.get())) out[name] = std::move(*text);
  return 0;
}

}  // namespace

std::optional<std::string> text_attribute(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  const AttributeHandle attr(H5Aopen(object, name, H5P_DEFAULT));
  return attr ? attribute_text(attr.get()) : std::nullopt;
}

std::map<std::string, std::string> text_attributes(hid_t object) {
  std::map<std::string, std::string> out;
  hsize_t index = 0;
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &out);
  return out;
}

}  // namespace h5decon::io::detail
