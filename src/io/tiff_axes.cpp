// The (c, t, z) of a TIFF file's pages from its OME-XML or ImageJ description.
#include "io/tiff_axes.hpp"

#include <cmath>
#include <filesystem>

#include "h5decon/error.hpp"
#include "io/length_unit.hpp"
#include "io/xml_scan.hpp"

namespace h5decon::io::detail {
namespace {

std::int64_t count_field(const std::map<std::string, std::string>& f, const std::string& key,
                         const std::string& what) {
  const auto it = f.find(key);
  if (it == f.end()) return 0;
  try {
    std::size_t used = 0;
    const long long n = std::stoll(it->second, &used);
    H5DECON_REQUIRE(n >= 1, InputError, what, ": ImageJ's ", key, "=", it->second);
    return n;
  } catch (const std::logic_error&) {
    throw InputError(what + ": ImageJ's " + key + "=" + it->second + " is not a count");
  }
}

TiffAxes imagej_axes(const TiffReader& tiff) {
  const auto& f = tiff.imagej();
  const std::string& what = tiff.what();
  TiffAxes a;
  a.kind = "ImageJ hyperstack";
  a.order = "czt";  // ImageJ stores channels fastest, then slices, then frames
  a.c = std::max<std::int64_t>(1, count_field(f, "channels", what));
  a.t = std::max<std::int64_t>(1, count_field(f, "frames", what));
  const std::int64_t images = count_field(f, "images", what);
  H5DECON_REQUIRE(images == 0 || images == tiff.pages(), InputError, what, ": ImageJ says ", images,
                  " images but the file has ", tiff.pages(),
                  " pages (ImageJ's raw layout for stacks over 4 GiB); save it from Fiji as "
                  "OME-TIFF or as a TIFF sequence in a folder");
  const std::int64_t slices = count_field(f, "slices", what);
  a.z = slices > 0 ? slices : tiff.pages() / (a.c * a.t);
  H5DECON_REQUIRE(a.c * a.t * a.z == tiff.pages(), InputError, what, ": ImageJ's channels=", a.c,
                  " x slices=", a.z, " x frames=", a.t, " is not the file's ", tiff.pages(),
                  " pages");
  if (a.c == 1 && a.t == 1) a.kind = "ImageJ stack";
  a.voxel_um = tiff.imagej_voxel_size();
  return a;
}

double physical_size(const XmlElement& pixels, const char* axis) {
  const std::string name = std::string("PhysicalSize") + axis;
  const std::optional<std::string> value = pixels.attribute(name);
  if (!value) return 0;
  const double um = micrometres_per(pixels.attribute(name + "Unit").value_or("\xC2\xB5m"));
  try {
    const double v = std::stod(*value) * um;
    return std::isfinite(v) && v > 0 ? v : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

std::int64_t ome_size(const XmlElement& pixels, const char* key, const std::string& what) {
  const std::optional<std::string> text = pixels.attribute(key);
  H5DECON_REQUIRE(text.has_value(), InputError, what, ": OME-XML <Pixels> has no ", key);
  try {
    const long long n = std::stoll(*text);
    H5DECON_REQUIRE(n >= 1, InputError, what, ": OME-XML ", key, "=\"", *text, "\"");
    return n;
  } catch (const std::logic_error&) {
    throw InputError(what + ": OME-XML " + key + "=\"" + *text + "\" is not a count");
  }
}

TiffAxes ome_axes(const TiffReader& tiff, const std::string& file) {
  const std::string& what = tiff.what();
  const std::vector<XmlElement> images = xml_elements(tiff.description(), "Image");
  H5DECON_REQUIRE(!images.empty(), InputError, what, ": OME-XML without an <Image>");
  const std::vector<XmlElement> found = images[0].children("Pixels");
  H5DECON_REQUIRE(!found.empty(), InputError, what, ": OME-XML <Image> without <Pixels>");
  const XmlElement& pixels = found[0];
  TiffAxes a;
  a.kind = "OME-TIFF";
  const std::string dims = pixels.attribute("DimensionOrder").value_or("XYZCT");
  H5DECON_REQUIRE(dims.size() == 5 && dims.starts_with("XY"), InputError, what,
                  ": OME-XML DimensionOrder \"", dims, "\"");
  a.order.clear();
  for (const char ch : dims.substr(2)) a.order += static_cast<char>(std::tolower(ch));
  a.c = ome_size(pixels, "SizeC", what);
  a.t = ome_size(pixels, "SizeT", what);
  a.z = ome_size(pixels, "SizeZ", what);
  const std::int64_t x = ome_size(pixels, "SizeX", what), y = ome_size(pixels, "SizeY", what);
  H5DECON_REQUIRE(x == tiff.width() && y == tiff.height(), InputError, what, ": OME-XML says ", x,
                  "x", y, " but the pages are ", tiff.width(), "x", tiff.height());
  const std::string name = std::filesystem::path(file).filename().string();
  for (const XmlElement& data : pixels.children("TiffData"))
    for (const XmlElement& uuid : data.children("UUID")) {
      const std::string other = uuid.attribute("FileName").value_or(name);
      H5DECON_REQUIRE(other == name, InputError, what, ": an OME-TIFF whose planes are also in '",
                      other, "'; import the set's files as a folder with --pattern, or save it "
                      "as one OME-TIFF file");
    }
  H5DECON_REQUIRE(a.c * a.t * a.z == tiff.pages(), InputError, what, ": OME-XML SizeC=", a.c,
                  " x SizeT=", a.t, " x SizeZ=", a.z, " is not the file's ", tiff.pages(),
                  " pages (several samples per pixel, or planes in other files?)");
  const double pz = physical_size(pixels, "Z"), py = physical_size(pixels, "Y"),
               px = physical_size(pixels, "X");
  if (pz > 0 && py > 0 && px > 0) a.voxel_um = std::array<double, 3>{pz, py, px};
  for (const XmlElement& channel : pixels.children("Channel"))
    a.channel_names.push_back(channel.attribute("Name").value_or(""));
  if (std::int64_t(a.channel_names.size()) != a.c) a.channel_names.clear();
  return a;
}

}  // namespace

std::int64_t TiffAxes::page(std::int64_t ci, std::int64_t ti, std::int64_t zi) const {
  std::int64_t index = 0, stride = 1;
  for (const char axis : order) {
    const std::int64_t value = axis == 'c' ? ci : axis == 't' ? ti : zi;
    const std::int64_t size = axis == 'c' ? c : axis == 't' ? t : z;
    index += value * stride;
    stride *= size;
  }
  return index;
}

TiffAxes tiff_axes(const TiffReader& tiff, const std::string& file) {
  const std::string& text = tiff.description();
  if (text.find("<OME") != std::string::npos || text.find(":OME") != std::string::npos)
    return ome_axes(tiff, file);
  if (!tiff.imagej().empty()) return imagej_axes(tiff);
  TiffAxes a;
  a.z = tiff.pages();
  return a;
}

}  // namespace h5decon::io::detail
