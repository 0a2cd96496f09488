// What a TIFF file or a set of TIFF files holds as (c, t, z, y, x), and reading
// its planes (h5decon/io/tiff_import.hpp).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "h5decon/error.hpp"
#include "h5decon/io/tiff_import.hpp"
#include "h5decon/natural_order.hpp"
#include "h5decon/samples.hpp"
#include "io/tiff_axes.hpp"
#include "io/tiff_reader.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;

std::string file_what(const std::string& file) { return "TIFF '" + file + "'"; }

// A file-name pattern: "{c}", "{t}", "{z}" capture a number, "*" any text.
struct NamePattern {
  std::string text;
  std::regex regex;
  std::string axes;  // the captured axes in order, e.g. "tcz"

  explicit NamePattern(const std::string& pattern) : text(pattern) {
    std::string re;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      const char ch = pattern[i];
      if (ch == '{' && i + 2 < pattern.size() && pattern[i + 2] == '}' &&
          std::string("ctz").find(pattern[i + 1]) != std::string::npos) {
        H5DECON_REQUIRE(axes.find(pattern[i + 1]) == std::string::npos, InputError, "--pattern '",
                        pattern, "' names {", pattern[i + 1], "} twice");
        axes += pattern[i + 1];
        re += "([0-9]+)";
        i += 2;
      } else if (ch == '*') {
        re += ".*";
      } else {
        H5DECON_REQUIRE(ch != '{' && ch != '}', InputError, "--pattern '", pattern,
                        "': only {c}, {t} and {z} may stand in braces");
        if (std::string(".^$|()[]+?\\").find(ch) != std::string::npos) re += '\\';
        re += ch;
      }
    }
    H5DECON_REQUIRE(!axes.empty(), InputError, "--pattern '", pattern,
                    "' names no axis; use {c}, {t} and/or {z} for the numbers in the file names");
    regex = std::regex(re);
  }

  /// The numbers of `name`'s axes (in `axes` order), or nullopt when it does not match.
  std::optional<std::vector<long long>> match(const std::string& name) const {
    std::smatch m;
    if (!std::regex_match(name, m, regex)) return std::nullopt;
    std::vector<long long> out;
    for (std::size_t g = 1; g < m.size(); ++g) out.push_back(std::stoll(m[g].str()));
    return out;
  }
};

bool is_tiff_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".tif" || ext == ".tiff";
}

// Files named by `inputs`: files as given, folders' files that match (or are TIFF).
std::vector<std::string> list_files(const std::vector<std::string>& inputs,
                                    const std::optional<NamePattern>& pattern) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    const fs::file_status st = fs::status(input, ec);
    H5DECON_REQUIRE(st.type() != fs::file_type::not_found, InputError, "import input '", input,
                    "': not found");
    if (!fs::is_directory(st)) {
      files.push_back(input);
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::directory_iterator(input, ec)) {
      const std::string name = e.path().filename().string();
      if (!e.is_regular_file(ec)) continue;
      if (pattern ? pattern->match(name).has_value() : is_tiff_name(e.path()))
        found.push_back(e.path().string());
    }
    H5DECON_REQUIRE(!ec, InputError, "import input folder '", input, "' cannot be listed (",
                    ec.message(), ")");
    H5DECON_REQUIRE(!found.empty(), InputError, "import input folder '", input, "' has no file ",
                    pattern ? "matching --pattern '" + pattern->text + "'" : "ending in .tif or .tiff");
    files.insert(files.end(), found.begin(), found.end());
  }
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return natural_less(fs::path(a).filename().string(), fs::path(b).filename().string()) ||
           (fs::path(a).filename() == fs::path(b).filename() && a < b);
  });
  return files;
}

// The set's axes from the names: per axis the sorted distinct numbers; every
// combination one file.
void axes_from_names(TiffSet& set, const NamePattern& pattern, std::int64_t pages) {
  std::map<char, std::set<long long>> values;
  std::vector<std::vector<long long>> numbers;
  for (const std::string& file : set.files) {
    const std::string name = fs::path(file).filename().string();
    std::optional<std::vector<long long>> m = pattern.match(name);
    H5DECON_REQUIRE(m.has_value(), InputError, "import input '", file,
                    "' does not match --pattern '", pattern.text, "'");
    for (std::size_t k = 0; k < pattern.axes.size(); ++k) values[pattern.axes[k]].insert((*m)[k]);
    numbers.push_back(std::move(*m));
  }
  const bool z_in_names = pattern.axes.find('z') != std::string::npos;
  H5DECON_REQUIRE(!(z_in_names && pages > 1), InputError, file_what(set.files[0]), " has ", pages,
                  " pages but --pattern '", pattern.text,
                  "' names {z}: files with {z} in their names must be single planes");
  auto count = [&](char axis) { return values.count(axis) ? std::int64_t(values[axis].size()) : 1; };
  set.shape.c = count('c');
  set.shape.t = count('t');
  set.shape.volume.z = z_in_names ? count('z') : pages;
  set.planes.assign(std::size_t(set.shape.c * set.shape.t * set.shape.volume.z), PlaneSource{});
  auto index = [&](char axis, const std::vector<long long>& n) -> std::int64_t {
    const auto k = pattern.axes.find(axis);
    if (k == std::string::npos) return 0;
    const auto& v = values[axis];
    return std::distance(v.begin(), v.find(n[k]));
  };
  for (std::size_t f = 0; f < set.files.size(); ++f) {
    const std::int64_t c = index('c', numbers[f]), t = index('t', numbers[f]);
    for (std::int64_t p = 0; p < (z_in_names ? 1 : pages); ++p) {
      const std::int64_t z = z_in_names ? index('z', numbers[f]) : p;
      PlaneSource& slot = set.planes[std::size_t((c * set.shape.t + t) * set.shape.volume.z + z)];
      H5DECON_REQUIRE(slot.file < 0, InputError, "import inputs '", set.files[std::size_t(slot.file)],
                      "' and '", set.files[f], "' are the same (c, t, z) under --pattern '",
                      pattern.text, "'");
      slot = PlaneSource{std::int32_t(f), p};
    }
  }
  for (std::int64_t c = 0; c < set.shape.c; ++c)
    for (std::int64_t t = 0; t < set.shape.t; ++t)
      for (std::int64_t z = 0; z < set.shape.volume.z; ++z) {
        if (set.plane(c, t, z).file >= 0) continue;
        auto nth = [&](char axis, std::int64_t i) {
          return values.count(axis) ? std::to_string(*std::next(values[axis].begin(), i)) : "-";
        };
        throw InputError(h5decon::detail::concat(
            "import: no file for c=", nth('c', c), ", t=", nth('t', t), ", z=",
            z_in_names ? nth('z', z) : std::to_string(z), " under --pattern '", pattern.text, "' (",
            set.files.size(), " files for ", set.shape.c, " c x ", set.shape.t, " t x ",
            z_in_names ? set.shape.volume.z : 1, " z values)"));
      }
}

}  // namespace

TiffSet describe_tiff_file(const std::string& file) {
  const detail::TiffReader reader(file, file_what(file), "an image");
  const detail::TiffAxes axes = detail::tiff_axes(reader, file);
  TiffSet set;
  set.files = {file};
  set.shape = Shape5{axes.c, axes.t, Shape3{axes.z, reader.height(), reader.width()}};
  set.type = reader.sample_type();
  set.voxel_um = axes.voxel_um;
  set.channel_names = axes.channel_names;
  set.kind = axes.kind;
  for (std::int64_t c = 0; c < axes.c; ++c)
    for (std::int64_t t = 0; t < axes.t; ++t)
      for (std::int64_t z = 0; z < axes.z; ++z) set.planes.push_back({0, axes.page(c, t, z)});
  set.summary = h5decon::detail::concat(axes.kind, " '", file, "': ", reader.pages(),
                                        " pages as c=", axes.c, " t=", axes.t, " z=", axes.z,
                                        " (pages in ", axes.order, " order)");
  return set;
}

TiffSet describe_tiff_files(const std::vector<std::string>& inputs, const std::string& pattern) {
  H5DECON_REQUIRE(!inputs.empty(), InputError, "import: no input file");
  std::optional<NamePattern> names;
  if (!pattern.empty()) names.emplace(pattern);
  TiffSet set;
  set.files = list_files(inputs, names);
  if (set.files.size() == 1 && !names) return describe_tiff_file(set.files[0]);
  const detail::TiffReader first(set.files[0], file_what(set.files[0]), "an image");
  set.type = first.sample_type();
  set.pages_per_file = first.pages();
  set.kind = "TIFF files";
  set.shape.volume.y = first.height();
  set.shape.volume.x = first.width();
  if (first.pages() > 1) set.voxel_um = first.imagej_voxel_size();
  if (names) {
    axes_from_names(set, *names, first.pages());
  } else {
    // Naturally sorted: single planes are z, stacks are time points.
    const auto n = std::int64_t(set.files.size());
    const bool planes = first.pages() == 1;
    set.shape.c = 1;
    set.shape.t = planes ? 1 : n;
    set.shape.volume.z = planes ? n : first.pages();
    for (std::int64_t f = 0; f < n; ++f)
      for (std::int64_t p = 0; p < first.pages(); ++p) set.planes.push_back({std::int32_t(f), p});
  }
  set.summary = h5decon::detail::concat(
      set.files.size(), " TIFF files (", set.files.front(), " ... ", set.files.back(), ") of ",
      first.pages(), first.pages() == 1 ? " plane" : " pages", " each as c=", set.shape.c,
      " t=", set.shape.t, " z=", set.shape.volume.z,
      names ? " from --pattern '" + pattern + "'" : std::string(" in natural order"));
  return set;
}

struct TiffPlaneReader::Impl {
  const TiffSet* set = nullptr;
  std::int32_t open_file = -1;
  std::optional<detail::TiffReader> reader;
};

TiffPlaneReader::TiffPlaneReader(const TiffSet& set) : impl_(std::make_unique<Impl>()) {
  impl_->set = &set;
}
TiffPlaneReader::~TiffPlaneReader() = default;

void TiffPlaneReader::read(std::int64_t c, std::int64_t t, std::int64_t z,
                           std::span<std::byte> out) {
  Impl& d = *impl_;
  const TiffSet& set = *d.set;
  const PlaneSource& source = set.plane(c, t, z);
  const std::string& file = set.files[std::size_t(source.file)];
  if (source.file != d.open_file) {
    d.reader.reset();
    d.open_file = -1;
    d.reader.emplace(file, file_what(file), "an image");
    d.open_file = source.file;
    const detail::TiffReader& r = *d.reader;
    H5DECON_REQUIRE(r.width() == set.shape.volume.x && r.height() == set.shape.volume.y &&
                        r.sample_type() == set.type,
                    InputError, file_what(file), " is ", r.width(), "x", r.height(), " ",
                    to_string(r.sample_type()), " but '", set.files[0], "' is ", set.shape.volume.x,
                    "x", set.shape.volume.y, " ", to_string(set.type),
                    "; every file of a set must have one plane size and type");
    H5DECON_REQUIRE(set.pages_per_file == 0 || r.pages() == set.pages_per_file, InputError,
                    file_what(file), " has ", r.pages(), " pages but '", set.files[0], "' has ",
                    set.pages_per_file, "; every file of a set must have as many");
  }
  d.reader->read_page(source.page, out);
}

}  // namespace h5decon::io
