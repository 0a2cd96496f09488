// BigDataViewer / mesoSPIM input: the SpimData XML's setups and time points as
// the (c, t) volumes of an HDF5 file in the bdv.hdf5 layout, and find_volume_layout().
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "h5decon/error.hpp"
#include "h5decon/io/bdv_export.hpp"
#include "io/hdf5_common.hpp"
#include "io/length_unit.hpp"
#include "io/volume_layout.hpp"
#include "io/xml_scan.hpp"

namespace h5decon::io::detail {
namespace {

namespace fs = std::filesystem;

struct Setup {
  std::int64_t id = 0;
  std::string name;
  std::array<std::int64_t, 3> size_xyz{0, 0, 0};
  std::optional<std::array<double, 3>> voxel_um;  // (z, y, x)
};

std::string read_text_file(const std::string& file, const std::string& what) {
  std::error_code ec;
  H5DECON_REQUIRE(fs::exists(file, ec), InputError, what, ": file not found");
  std::ifstream in(file, std::ios::binary);
  H5DECON_REQUIRE(in, InputError, what, ": cannot be read (check its permissions)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<double> numbers(const std::string& text, const std::string& what) {
  std::istringstream in(text);
  std::vector<double> out;
  for (std::string word; in >> word;) {
    try {
      std::size_t used = 0;
      out.push_back(std::stod(word, &used));
      H5DECON_REQUIRE(used == word.size(), InputError, what, ": '", word, "' is not a number");
    } catch (const std::logic_error&) {
      throw InputError(what + ": '" + word + "' is not a number");
    }
  }
  return out;
}

std::int64_t integer(const std::optional<std::string>& text, const std::string& what) {
  H5DECON_REQUIRE(text.has_value(), InputError, what, " is missing");
  const std::vector<double> v = numbers(*text, what);
  H5DECON_REQUIRE(v.size() == 1 && v[0] == std::floor(v[0]) && v[0] >= 0, InputError, what,
                  ": '", *text, "' is not a non-negative integer");
  return static_cast<std::int64_t>(v[0]);
}

Setup read_setup(const XmlElement& e, const std::string& what) {
  Setup s;
  s.id = integer(e.child_text("id"), what + ": a ViewSetup's <id>");
  const std::string where = what + ": ViewSetup " + std::to_string(s.id);
  s.name = e.child_text("name").value_or("setup " + std::to_string(s.id));
  const std::optional<std::string> size = e.child_text("size");
  H5DECON_REQUIRE(size.has_value(), InputError, where, " has no <size>");
  const std::vector<double> xyz = numbers(*size, where + "'s <size>");
  H5DECON_REQUIRE(xyz.size() == 3 && xyz[0] >= 1 && xyz[1] >= 1 && xyz[2] >= 1, InputError,
                  where, ": <size> '", *size, "' is not three positive extents (x y z)");
  for (int a = 0; a < 3; ++a) s.size_xyz[a] = static_cast<std::int64_t>(xyz[a]);
  const std::vector<XmlElement> voxel = e.children("voxelSize");
  if (!voxel.empty()) {
    const std::string unit = voxel[0].child_text("unit").value_or("micrometer");
    const double um = micrometres_per(unit);
    const std::vector<double> v = numbers(voxel[0].child_text("size").value_or(""), where);
    if (um > 0 && v.size() == 3 && v[0] > 0 && v[1] > 0 && v[2] > 0)
      s.voxel_um = std::array<double, 3>{v[2] * um, v[1] * um, v[0] * um};
  }
  return s;
}

// Time points: type "range" (<first>, <last>), "pattern" (<integerpattern>: "0-9",
// "0,2,5", "0-10:2") or "list" (one <id> each; older files).
std::vector<std::int64_t> read_timepoints(const std::string& xml, const std::string& what) {
  const std::vector<XmlElement> found = xml_elements(xml, "Timepoints");
  H5DECON_REQUIRE(!found.empty(), InputError, what, ": no <Timepoints>");
  const XmlElement& e = found.front();
  const std::string type = e.attribute("type").value_or("range");
  std::vector<std::int64_t> out;
  if (type == "range") {
    const std::int64_t first = integer(e.child_text("first"), what + ": <Timepoints><first>");
    const std::int64_t last = integer(e.child_text("last"), what + ": <Timepoints><last>");
    H5DECON_REQUIRE(last >= first, InputError, what, ": time points ", first, " to ", last);
    for (std::int64_t t = first; t <= last; ++t) out.push_back(t);
  } else if (type == "pattern") {
    std::string pattern = e.child_text("integerpattern").value_or("");
    std::replace(pattern.begin(), pattern.end(), ',', ' ');
    std::istringstream in(pattern);
    for (std::string part; in >> part;) {
      std::int64_t a = 0, b = 0, step = 1;
      char dash = 0, colon = 0;
      std::istringstream p(part);
      if (!(p >> a)) throw InputError(what + ": time-point pattern part '" + part + "'");
      b = a;
      if (p >> dash && dash == '-') {
        p >> b;
        if (p >> colon && colon == ':') p >> step;
      }
      H5DECON_REQUIRE(b >= a && step >= 1, InputError, what, ": time-point pattern part '", part,
                      "'");
      for (std::int64_t t = a; t <= b; t += step) out.push_back(t);
    }
  } else if (type == "list") {
    for (const XmlElement& id : e.children("id")) out.push_back(integer(xml_text(id.content), what));
  } else {
    throw InputError(what + ": <Timepoints type=\"" + type +
                     "\"> is not supported (range, pattern, list)");
  }
  H5DECON_REQUIRE(!out.empty(), InputError, what, ": no time points");
  return out;
}

// The HDF5 file the loader names, relative to the XML's folder and <BasePath>.
std::string loader_file(const std::string& xml, const std::string& xml_file,
                        const std::string& what) {
  const std::vector<XmlElement> loader = xml_elements(xml, "ImageLoader");
  H5DECON_REQUIRE(!loader.empty(), InputError, what, ": no <ImageLoader>");
  const std::string format = loader[0].attribute("format").value_or("");
  H5DECON_REQUIRE(format == "bdv.hdf5", InputError, what, ": image loader format '", format,
                  "' is not supported; h5decon reads the HDF5 layout (bdv.hdf5): resave the "
                  "data as HDF5 in BigDataViewer or BigStitcher");
  const std::vector<XmlElement> h5 = loader[0].children("hdf5");
  H5DECON_REQUIRE(!h5.empty(), InputError, what, ": the image loader names no <hdf5> file");
  const fs::path name = xml_text(h5[0].content);
  if (h5[0].attribute("type").value_or("relative") == "absolute") return name.string();
  fs::path base = fs::path(xml_file).parent_path();
  const std::vector<XmlElement> base_path = xml_elements(xml, "BasePath");
  if (!base_path.empty()) {
    const fs::path b = xml_text(base_path[0].content);
    base = base_path[0].attribute("type").value_or("relative") == "absolute" ? b : base / b;
  }
  return (base / name).lexically_normal().string();
}

// "t00000/s00/0/cells"-style paths for the setups (as c) and time points.
void fill_paths(VolumeLayout& layout, const std::vector<std::int64_t>& setups,
                const std::vector<std::int64_t>& timepoints) {
  layout.channels = static_cast<std::int64_t>(setups.size());
  layout.times = static_cast<std::int64_t>(timepoints.size());
  for (const std::int64_t s : setups)
    for (const std::int64_t t : timepoints) layout.paths.push_back(std::string("/").append(bdv_cells_path(t, s, 0)));
  layout.int16_holds_uint16 = true;
  layout.summary = std::to_string(setups.size()) + " setup(s) x " +
                   std::to_string(timepoints.size()) + " time point(s)";
}

bool link_exists(hid_t file, const std::string& path) {
  std::string prefix;
  std::istringstream in(path);
  for (std::string part; std::getline(in, part, '/');) {
    if (part.empty()) continue;
    prefix += "/" + part;
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return !prefix.empty();
}

// Root-group names "<letter><digits>" (s00, t00000) as their numbers, sorted.
std::vector<std::int64_t> numbered_groups(hid_t file, char letter) {
  std::vector<std::int64_t> out;
  H5G_info_t info{};
  if (H5Gget_info(file, &info) < 0) return out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    char name[256] = "";
    if (H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                           H5P_DEFAULT) < 0)
      continue;
    const std::string n = name;
    if (n.size() > 1 && n[0] == letter &&
        std::all_of(n.begin() + 1, n.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
      out.push_back(std::stoll(n.substr(1)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

VolumeLayout read_bdv_xml(const std::string& xml_file) {
  const std::string what = "BigDataViewer XML '" + xml_file + "'";
  const std::string xml = read_text_file(xml_file, what);
  H5DECON_REQUIRE(xml.find("<SpimData") != std::string::npos, InputError, what,
                  ": not a SpimData XML (no <SpimData> element)");
  VolumeLayout layout;
  layout.format = "BigDataViewer";
  layout.data_file = loader_file(xml, xml_file, what);
  std::vector<Setup> setups;
  for (const XmlElement& e : xml_elements(xml, "ViewSetup")) setups.push_back(read_setup(e, what));
  H5DECON_REQUIRE(!setups.empty(), InputError, what, ": no <ViewSetup>");
  std::sort(setups.begin(), setups.end(), [](const Setup& a, const Setup& b) { return a.id < b.id; });
  std::vector<std::int64_t> ids;
  for (const Setup& s : setups) {
    const Setup& first = setups.front();
    H5DECON_REQUIRE(s.size_xyz == first.size_xyz, InputError, what, ": setup ", s.id, " is ",
                    s.size_xyz[0], "x", s.size_xyz[1], "x", s.size_xyz[2], " (x y z) but setup ",
                    first.id, " is ", first.size_xyz[0], "x", first.size_xyz[1], "x",
                    first.size_xyz[2], "; the setups of one input must share a size");
    H5DECON_REQUIRE(s.voxel_um == first.voxel_um, InputError, what, ": setup ", s.id,
                    " has another voxel size than setup ", first.id,
                    "; the setups of one input must share a voxel size");
    ids.push_back(s.id);
    layout.channel_names.push_back(s.name);
  }
  layout.element_size_um = setups.front().voxel_um;
  layout.extent = Shape3{setups[0].size_xyz[2], setups[0].size_xyz[1], setups[0].size_xyz[0]};
  fill_paths(layout, ids, read_timepoints(xml, what));
  return layout;
}

std::optional<VolumeLayout> find_volume_layout(const DatasetRef& ref,
                                               const std::string& default_path) {
  const std::string ext = fs::path(ref.file).extension().string();
  if (ext == ".xml" || ext == ".XML") return read_bdv_xml(ref.file);
  if (ref.path != default_path) return std::nullopt;
  if (ext == ".ims" || ext == ".IMS") return read_imaris_layout(ref.file);
  // A BigDataViewer .h5 given by itself: no default dataset, but s00 and t00000.
  std::error_code ec;
  if (!fs::is_regular_file(ref.file, ec)) return std::nullopt;
  silence_hdf5_errors();
  if (!is_hdf5_file(ref.file)) return std::nullopt;
  const FileHandle file(H5Fopen(ref.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file || link_exists(file.get(), ref.path)) return std::nullopt;
  const std::vector<std::int64_t> setups = numbered_groups(file.get(), 's');
  const std::vector<std::int64_t> times = numbered_groups(file.get(), 't');
  if (setups.empty() || times.empty() || !link_exists(file.get(), std::string("/").append(bdv_cells_path(times[0], setups[0], 0))))
    return std::nullopt;
  const std::string xml = bdv_xml_file(ref.file);
  if (fs::exists(xml, ec)) {
    VolumeLayout layout = read_bdv_xml(xml);
    H5DECON_REQUIRE(fs::equivalent(layout.data_file, ref.file, ec), InputError,
                    "BigDataViewer XML '", xml, "' beside '", ref.file, "' describes '",
                    layout.data_file, "', another file; pass the XML as --input");
    return layout;
  }
  VolumeLayout layout;  // no XML: the groups say what there is, the voxel size is unknown
  layout.format = "BigDataViewer";
  layout.data_file = ref.file;
  fill_paths(layout, setups, times);
  layout.summary += " (no XML beside it: voxel size unknown)";
  return layout;
}

}  // namespace h5decon::io::detail
