// Imaris (.ims) input: /DataSet/ResolutionLevel 0/TimePoint T/Channel C/Data as
// the (c, t) volumes, cropped to the image size (datasets are padded to whole
// chunks), the voxel size from the extents ExtMin/ExtMax.
#include <algorithm>
#include <cmath>
#include <string>

#include "h5decon/error.hpp"
#include "io/hdf5_common.hpp"
#include "io/length_unit.hpp"
#include "io/volume_layout.hpp"

namespace h5decon::io::detail {
namespace {

// Imaris writes attribute values as text: an array of one-character strings
// ("1024" as '1','0','2','4'), which text_attribute() joins.
double number_attribute(hid_t object, const char* name, const std::string& what) {
  const std::optional<std::string> text = text_attribute(object, name);
  H5DECON_REQUIRE(text.has_value(), InputError, what, ": attribute ", name, " is missing");
  try {
    return std::stod(*text);
  } catch (const std::exception&) {
    throw InputError(what + ": attribute " + name + " = '" + *text + "' is not a number");
  }
}

// How many groups "<prefix>0", "<prefix>1", ... exist under `group`.
std::int64_t count_numbered(hid_t file, const std::string& group, const std::string& prefix) {
  std::int64_t n = 0;
  while (H5Lexists(file, (group + "/" + prefix + std::to_string(n)).c_str(), H5P_DEFAULT) > 0) ++n;
  return n;
}

}  // namespace

VolumeLayout read_imaris_layout(const std::string& ims_file) {
  const std::string what = "Imaris file '" + ims_file + "'";
  silence_hdf5_errors();
  H5DECON_REQUIRE(is_hdf5_file(ims_file), InputError, what,
                  ": not found or not an HDF5 file (Imaris 5.5 or later writes HDF5)");
  const FileHandle file(H5Fopen(ims_file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  H5DECON_REQUIRE(file, InputError, what, ": HDF5 cannot open it (", hdf5_error_reason(), ")");
  const std::string level = "/DataSet/ResolutionLevel 0";
  H5DECON_REQUIRE(H5Lexists(file.get(), "/DataSet", H5P_DEFAULT) > 0 &&
                      H5Lexists(file.get(), level.c_str(), H5P_DEFAULT) > 0,
                  InputError, what, ": no '", level, "' group; not an Imaris file");
  H5DECON_REQUIRE(H5Lexists(file.get(), "/DataSetInfo", H5P_DEFAULT) > 0 &&
                      H5Lexists(file.get(), "/DataSetInfo/Image", H5P_DEFAULT) > 0,
                  InputError, what, ": no '/DataSetInfo/Image' group with the image size");
  const GroupHandle image(H5Gopen(file.get(), "/DataSetInfo/Image", H5P_DEFAULT));
  const std::string image_what = what + " /DataSetInfo/Image";
  const double x = number_attribute(image.get(), "X", image_what);
  const double y = number_attribute(image.get(), "Y", image_what);
  const double z = number_attribute(image.get(), "Z", image_what);
  H5DECON_REQUIRE(x >= 1 && y >= 1 && z >= 1 && x == std::floor(x) && y == std::floor(y) &&
                      z == std::floor(z),
                  InputError, image_what, ": image size X=", x, " Y=", y, " Z=", z,
                  " is not three positive integers");
  VolumeLayout layout;
  layout.format = "Imaris";
  layout.data_file = ims_file;
  layout.extent = Shape3{std::int64_t(z), std::int64_t(y), std::int64_t(x)};
  layout.times = count_numbered(file.get(), level, "TimePoint ");
  H5DECON_REQUIRE(layout.times > 0, InputError, what, ": no '", level, "/TimePoint 0'");
  layout.channels = count_numbered(file.get(), level + "/TimePoint 0", "Channel ");
  H5DECON_REQUIRE(layout.channels > 0, InputError, what, ": no '", level,
                  "/TimePoint 0/Channel 0'");
  for (std::int64_t c = 0; c < layout.channels; ++c)
    for (std::int64_t t = 0; t < layout.times; ++t)
      layout.paths.push_back(level + "/TimePoint " + std::to_string(t) + "/Channel " +
                             std::to_string(c) + "/Data");
  // The voxel size: the extent (ExtMax - ExtMin) over the voxel count, in Unit.
  const double um = micrometres_per(text_attribute(image.get(), "Unit").value_or("um"));
  std::array<double, 3> voxel{};
  bool known = um > 0;
  const double counts[3] = {z, y, x};
  for (int a = 0; a < 3 && known; ++a) {
    const std::string axis = std::to_string(2 - a);  // ExtMin0 is x
    const auto lo = text_attribute(image.get(), ("ExtMin" + axis).c_str());
    const auto hi = text_attribute(image.get(), ("ExtMax" + axis).c_str());
    try {
      voxel[a] = lo && hi ? (std::stod(*hi) - std::stod(*lo)) / counts[a] * um : 0;
    } catch (const std::exception&) {
      voxel[a] = 0;
    }
    known = std::isfinite(voxel[a]) && voxel[a] > 0;
  }
  if (known) layout.element_size_um = voxel;
  for (std::int64_t c = 0; c < layout.channels; ++c) {
    const std::string group = "/DataSetInfo/Channel " + std::to_string(c);
    std::string name = "channel " + std::to_string(c);
    if (H5Lexists(file.get(), group.c_str(), H5P_DEFAULT) > 0) {
      const GroupHandle g(H5Gopen(file.get(), group.c_str(), H5P_DEFAULT));
      if (g) name = text_attribute(g.get(), "Name").value_or(name);
    }
    layout.channel_names.push_back(name);
  }
  layout.summary = std::to_string(layout.channels) + " channel(s) x " +
                   std::to_string(layout.times) + " time point(s)";
  return layout;
}

}  // namespace h5decon::io::detail
