// The BigDataViewer layout's names and its SpimData XML (format read by
// bigdataviewer-core's XmlIoSpimDataMinimal and Hdf5ImageLoader).
#include <array>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <type_traits>

#include "h5decon/error.hpp"
#include "h5decon/io/bdv_export.hpp"

namespace h5decon::io {
namespace {

// Shortest text that reads back as the same double.
std::string number(double v) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

std::string escape(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

// "x y z" from (z, y, x).
template <class T>
std::string xyz(const std::array<T, 3>& zyx) {
  std::string out;
  for (int a = 2; a >= 0; --a) {
    if constexpr (std::is_floating_point_v<T>)
      out += number(zyx[a]);
    else
      out += std::to_string(zyx[a]);
    if (a > 0) out += ' ';
  }
  return out;
}

// Entities <Tag><id>k</id><name>k</name></Tag> for k in [0, n) under <Attributes name="name">.
void attribute_definitions(std::ostream& os, const char* name, const char* tag, std::int64_t n) {
  os << "      <Attributes name=\"" << name << "\">\n";
  for (std::int64_t k = 0; k < n; ++k)
    os << "        <" << tag << ">\n          <id>" << k << "</id>\n          <name>" << k
       << "</name>\n        </" << tag << ">\n";
  os << "      </Attributes>\n";
}

// One setup per channel. Besides the channel, every setup names illumination, tile
// and angle 0, which BigStitcher's full ViewSetup requires (BigDataViewer ignores
// them); every id a setup names is defined in an <Attributes> block.
void view_setups(std::ostream& os, const BdvXmlDescription& d) {
  const Shape3& v = d.shape.volume;
  const std::array<std::int64_t, 3> size{v.z, v.y, v.x};
  os << "    <ViewSetups>\n";
  for (std::int64_t c = 0; c < d.shape.c; ++c)
    os << "      <ViewSetup>\n"
       << "        <id>" << c << "</id>\n"
       << "        <name>channel " << c << "</name>\n"
       << "        <size>" << xyz(size) << "</size>\n"
       << "        <voxelSize>\n"
       << "          <unit>micrometer</unit>\n"
       << "          <size>" << xyz(d.voxel_size_um) << "</size>\n"
       << "        </voxelSize>\n"
       << "        <attributes>\n"
       << "          <illumination>0</illumination>\n"
       << "          <channel>" << c << "</channel>\n"
       << "          <tile>0</tile>\n"
       << "          <angle>0</angle>\n"
       << "        </attributes>\n"
       << "      </ViewSetup>\n";
  attribute_definitions(os, "illumination", "Illumination", 1);
  attribute_definitions(os, "channel", "Channel", d.shape.c);
  attribute_definitions(os, "tile", "Tile", 1);
  attribute_definitions(os, "angle", "Angle", 1);
  os << "    </ViewSetups>\n";
}

// Voxel (i, j, k) -> micrometres: a diagonal scaling, row-major 3x4.
void view_registrations(std::ostream& os, const BdvXmlDescription& d) {
  const auto& s = d.voxel_size_um;
  const std::string affine =
      number(s[2]) + " 0 0 0 0 " + number(s[1]) + " 0 0 0 0 " + number(s[0]) + " 0";
  os << "  <ViewRegistrations>\n";
  for (std::int64_t t = 0; t < d.shape.t; ++t)
    for (std::int64_t c = 0; c < d.shape.c; ++c)
      os << "    <ViewRegistration timepoint=\"" << t << "\" setup=\"" << c << "\">\n"
         << "      <ViewTransform type=\"affine\">\n"
         << "        <Name>calibration</Name>\n"
         << "        <affine>" << affine << "</affine>\n"
         << "      </ViewTransform>\n"
         << "    </ViewRegistration>\n";
  os << "  </ViewRegistrations>\n";
}

}  // namespace

std::string bdv_xml_file(const std::string& h5_file) {
  return std::filesystem::path(h5_file).replace_extension(".xml").string();
}

std::string bdv_setup_path(std::int64_t setup) {
  char path[32];
  std::snprintf(path, sizeof path, "s%02lld", static_cast<long long>(setup));
  return path;
}

std::string bdv_cells_path(std::int64_t timepoint, std::int64_t setup, int level) {
  char path[64];
  std::snprintf(path, sizeof path, "t%05lld/s%02lld/%d/cells", static_cast<long long>(timepoint),
                static_cast<long long>(setup), level);
  return path;
}

std::string bdv_xml(const BdvXmlDescription& d) {
  H5DECON_REQUIRE(d.comment.find("--") == std::string::npos, Error,
                  "an XML comment cannot hold '--': ", d.comment);
  std::ostringstream os;
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
     << "<SpimData version=\"0.2\">\n";
  if (!d.comment.empty()) os << "  <!-- " << d.comment << " -->\n";
  os << "  <BasePath type=\"relative\">.</BasePath>\n"
     << "  <SequenceDescription>\n"
     << "    <ImageLoader format=\"bdv.hdf5\">\n"
     << "      <hdf5 type=\"relative\">" << escape(d.h5_name) << "</hdf5>\n"
     << "    </ImageLoader>\n";
  view_setups(os, d);
  os << "    <Timepoints type=\"range\">\n"
     << "      <first>0</first>\n"
     << "      <last>" << d.shape.t - 1 << "</last>\n"
     << "    </Timepoints>\n"
     << "  </SequenceDescription>\n";
  view_registrations(os, d);
  os << "</SpimData>\n";
  return os.str();
}

}  // namespace h5decon::io
