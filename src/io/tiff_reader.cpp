// A multi-page greyscale TIFF through libtiff, page by page (tiff_reader.hpp).
#include "io/tiff_reader.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "h5decon/error.hpp"
#include "io/length_unit.hpp"

namespace h5decon::io::detail {
namespace {

namespace fs = std::filesystem;

// libtiff reports through handlers: the last error goes into our message,
// warnings (such as unknown private tags, which ImageJ and others write) are dropped.
int keep_error(TIFF*, void* user, const char*, const char* fmt, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, fmt, args);
  *static_cast<std::string*>(user) = text;
  return 1;  // handled: the global handler (stderr) is not called
}

int drop_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* tif) const noexcept { TIFFClose(tif); }
};

/// An open TIFF with the last error libtiff reported on it.
struct OpenTiff {
  std::unique_ptr<std::string> last_error = std::make_unique<std::string>();
  std::unique_ptr<TIFF, TiffCloser> tif;

  /// " (libtiff: ...)" when libtiff said why, else "".
  std::string reason() const {
    return last_error->empty() ? "" : " (libtiff: " + *last_error + ")";
  }
};

OpenTiff open_tiff(const std::string& file, const std::string& what) {
  std::error_code ec;
  const fs::file_status st = fs::status(file, ec);
  H5DECON_REQUIRE(st.type() != fs::file_type::not_found, InputError, what, ": file not found");
  H5DECON_REQUIRE(!ec && fs::is_regular_file(st), InputError, what, ": not a regular file");
  H5DECON_REQUIRE(has_tiff_signature(file), InputError, what,
                  ": not a TIFF file (it does not start with a TIFF header)");
  OpenTiff out;
  struct OptionsFree {
    void operator()(TIFFOpenOptions* o) const noexcept { TIFFOpenOptionsFree(o); }
  };
  const std::unique_ptr<TIFFOpenOptions, OptionsFree> options(TIFFOpenOptionsAlloc());
  H5DECON_REQUIRE(options != nullptr, Error, what, ": out of memory opening the TIFF file");
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), keep_error, out.last_error.get());
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), drop_warning, nullptr);
  out.tif.reset(TIFFOpenExt(file.c_str(), "r", options.get()));
  H5DECON_REQUIRE(out.tif != nullptr, InputError, what, ": cannot be read as TIFF", out.reason());
  return out;
}

/// What one page holds, as far as a PSF plane cares.
struct PageLayout {
  std::uint32_t width = 0, height = 0;
  std::uint16_t bits = 0, format = SAMPLEFORMAT_UINT;
  bool operator==(const PageLayout&) const = default;
};

std::string sample_name(std::uint16_t bits, std::uint16_t format) {
  const char* kind = format == SAMPLEFORMAT_IEEEFP ? "float"
                     : format == SAMPLEFORMAT_INT  ? "signed integer"
                     : format == SAMPLEFORMAT_UINT ? "unsigned integer"
                                                   : "other";
  return std::to_string(bits) + "-bit " + kind;
}

std::string describe(const PageLayout& l) {
  return h5decon::detail::concat(l.width, "x", l.height, " ", sample_name(l.bits, l.format));
}

std::string photometric_name(std::uint16_t p) {
  switch (p) {
    case PHOTOMETRIC_MINISWHITE:
      return "min-is-white (inverted grey)";
    case PHOTOMETRIC_RGB:
      return "RGB";
    case PHOTOMETRIC_PALETTE:
      return "palette colour";
    case PHOTOMETRIC_SEPARATED:
      return "CMYK";
    case PHOTOMETRIC_YCBCR:
      return "YCbCr";
    default:
      return "photometric " + std::to_string(p);
  }
}

// The current page's layout; refuses colour, several samples and unsupported types.
// ImageJ saves a greyscale stack with a display lookup table as "palette": with
// `imagej`, such a page's samples are the data.
PageLayout read_layout(TIFF* tif, const std::string& where, bool imagej,
                       const std::string& subject) {
  PageLayout l;
  std::uint16_t samples = 1, photometric = PHOTOMETRIC_MINISBLACK;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &l.width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &l.height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &l.bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &l.format);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);  // absent: grey, as readers assume
  H5DECON_REQUIRE(samples == 1, InputError, where, " has ", samples, " samples per pixel",
                  photometric == PHOTOMETRIC_RGB ? " (RGB)" : "",
                  "; ", subject, " must be greyscale, one sample per pixel");
  if (imagej && photometric == PHOTOMETRIC_PALETTE) photometric = PHOTOMETRIC_MINISBLACK;
  H5DECON_REQUIRE(photometric == PHOTOMETRIC_MINISBLACK, InputError, where, " is ",
                  photometric_name(photometric), "; ", subject, " must be greyscale (min-is-black)");
  const bool supported = (l.format == SAMPLEFORMAT_UINT && (l.bits == 8 || l.bits == 16)) ||
                         (l.format == SAMPLEFORMAT_IEEEFP && l.bits == 32);
  H5DECON_REQUIRE(supported, InputError, where, " has ", sample_name(l.bits, l.format),
                  " samples; supported: 8- or 16-bit unsigned integer, 32-bit float");
  H5DECON_REQUIRE(l.width > 0 && l.height > 0, InputError, where, " is empty (", l.width, "x",
                  l.height, ")");
  return l;
}

// One page's strips into `out` (its samples as stored, native order).
void read_strips(TIFF* tif, const PageLayout& l, std::byte* out, const OpenTiff& t,
                 const std::string& where) {
  std::uint32_t rows_per_strip = l.height;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::clamp<std::uint32_t>(rows_per_strip, 1, l.height);
  const std::size_t bytes = l.bits / 8;
  std::vector<unsigned char> buffer(
      static_cast<std::size_t>(std::max<tmsize_t>(TIFFStripSize(tif), 0)));
  for (std::uint32_t row = 0; row < l.height; row += rows_per_strip) {
    const std::uint32_t rows = std::min(rows_per_strip, l.height - row);
    const std::size_t n = std::size_t(rows) * l.width;
    H5DECON_REQUIRE(buffer.size() >= n * bytes, InputError, where,
                    ": strips smaller than declared");
    const tmsize_t got = TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, row, 0), buffer.data(),
                                              static_cast<tmsize_t>(n * bytes));
    H5DECON_REQUIRE(got == static_cast<tmsize_t>(n * bytes), InputError, where, ": rows from ", row,
                    " cannot be decoded", t.reason());
    std::memcpy(out + std::size_t(row) * l.width * bytes, buffer.data(), n * bytes);
  }
}

// One page's tiles into `out`, cropped at the right and bottom edges.
void read_tiles(TIFF* tif, const PageLayout& l, std::byte* out, const OpenTiff& t,
                const std::string& where) {
  std::uint32_t tile_w = 0, tile_h = 0;
  TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w);
  TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_h);
  H5DECON_REQUIRE(tile_w > 0 && tile_h > 0, InputError, where, ": tiles of size 0");
  const std::size_t bytes = l.bits / 8;
  std::vector<unsigned char> buffer(std::size_t(tile_w) * tile_h * bytes);
  H5DECON_REQUIRE(TIFFTileSize(tif) == static_cast<tmsize_t>(buffer.size()), InputError, where,
                  ": unexpected tile size", t.reason());
  for (std::uint32_t y = 0; y < l.height; y += tile_h)
    for (std::uint32_t x = 0; x < l.width; x += tile_w) {
      H5DECON_REQUIRE(TIFFReadTile(tif, buffer.data(), x, y, 0, 0) >= 0, InputError, where,
                      ": the tile at x=", x, ", y=", y, " cannot be decoded", t.reason());
      const std::uint32_t rows = std::min(tile_h, l.height - y),
                          cols = std::min(tile_w, l.width - x);
      for (std::uint32_t r = 0; r < rows; ++r)
        std::memcpy(out + (std::size_t(y + r) * l.width + x) * bytes,
                    buffer.data() + std::size_t(r) * tile_w * bytes, cols * bytes);
    }
}

std::string description_of(TIFF* tif) {
  const char* text = nullptr;
  return TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &text) && text ? text : "";
}

/// "key=value" lines of an ImageJ ImageDescription ("ImageJ=1.54f\nimages=9\n...");
/// empty when the description is not ImageJ's.
std::map<std::string, std::string> imagej_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  if (!text.starts_with("ImageJ=")) return fields;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos)
      fields[line.substr(0, eq)] = line.substr(eq + 1);
  return fields;
}

}  // namespace

double imagej_number(const std::map<std::string, std::string>& fields, const std::string& key) {
  const auto it = fields.find(key);
  if (it == fields.end()) return 0;
  try {
    const double v = std::stod(it->second);
    return std::isfinite(v) && v > 0 ? v : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

namespace {

// ImageJ stores the pixel width as 1/XResolution and the z step as "spacing=",
// both in "unit=". Without ImageJ's unit a resolution says nothing physical
// (generic writers put 72 dpi in every file), so no voxel size is claimed.
std::optional<std::array<double, 3>> imagej_calibration(
    TIFF* tif, const std::map<std::string, std::string>& f) {
  const auto unit = f.find("unit");
  const double um = unit == f.end() ? 0 : micrometres_per(unit->second);
  float x_res = 0, y_res = 0;
  const double spacing = imagej_number(f, "spacing");
  if (um == 0 || spacing == 0 || !TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x_res) ||
      !TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y_res) || !(x_res > 0) || !(y_res > 0))
    return std::nullopt;
  return std::array<double, 3>{spacing * um, um / double(y_res), um / double(x_res)};
}

bool is_reduced_resolution(TIFF* tif) {
  std::uint32_t subfile = 0;
  return TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & FILETYPE_REDUCEDIMAGE);
}

}  // namespace

bool has_tiff_signature(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char head[4] = {};
  if (!in.read(reinterpret_cast<char*>(head), 4)) return false;
  const bool little =
      head[0] == 'I' && head[1] == 'I' && head[3] == 0 && (head[2] == 42 || head[2] == 43);
  const bool big =
      head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43);
  return little || big;
}

struct TiffReader::Impl {
  std::string file, what;
  OpenTiff tiff;
  PageLayout layout;
  std::vector<tdir_t> directories;  // of the full-resolution pages
  std::string description;
  std::map<std::string, std::string> imagej;
  std::optional<std::array<double, 3>> voxel;
  std::optional<std::array<double, 2>> tag_pixel;
};

TiffReader::TiffReader(const std::string& file, const std::string& what,
                       const std::string& subject)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.file = file;
  d.what = what;
  d.tiff = open_tiff(file, what);
  TIFF* tif = d.tiff.tif.get();
  d.description = description_of(tif);
  d.imagej = imagej_fields(d.description);
  d.voxel = imagej_calibration(tif, d.imagej);
  std::uint16_t unit = RESUNIT_NONE;
  float x_res = 0, y_res = 0;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if ((unit == RESUNIT_CENTIMETER || unit == RESUNIT_INCH) &&
      TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x_res) && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y_res) &&
      x_res > 0 && y_res > 0) {
    const double um = unit == RESUNIT_CENTIMETER ? 1e4 : 25400;
    d.tag_pixel = std::array<double, 2>{um / y_res, um / x_res};
  }
  do {
    if (is_reduced_resolution(tif)) continue;  // thumbnails and pyramid levels
    const std::string where = h5decon::detail::concat(what, ": page ", d.directories.size() + 1);
    const PageLayout l = read_layout(tif, where, !d.imagej.empty(), subject);
    if (d.directories.empty()) d.layout = l;
    H5DECON_REQUIRE(l == d.layout, InputError, where, " is ", describe(l), " but page 1 is ",
                    describe(d.layout), "; every page must be a plane of one size and type");
    d.directories.push_back(TIFFCurrentDirectory(tif));
  } while (TIFFReadDirectory(tif));
  H5DECON_REQUIRE(d.tiff.last_error->empty(), InputError, what,
                  ": cannot read the page after page ", d.directories.size(), d.tiff.reason());
  H5DECON_REQUIRE(!d.directories.empty(), InputError, what, ": no full-resolution page");
}

TiffReader::~TiffReader() = default;
TiffReader::TiffReader(TiffReader&&) noexcept = default;
TiffReader& TiffReader::operator=(TiffReader&&) noexcept = default;

const std::string& TiffReader::what() const { return impl_->what; }
std::int64_t TiffReader::pages() const { return std::int64_t(impl_->directories.size()); }
std::int64_t TiffReader::width() const { return impl_->layout.width; }
std::int64_t TiffReader::height() const { return impl_->layout.height; }
SampleType TiffReader::sample_type() const {
  const PageLayout& l = impl_->layout;
  return l.bits == 8 ? SampleType::uint8 : l.bits == 16 ? SampleType::uint16 : SampleType::float32;
}
const std::string& TiffReader::description() const { return impl_->description; }
const std::map<std::string, std::string>& TiffReader::imagej() const { return impl_->imagej; }
std::optional<std::array<double, 3>> TiffReader::imagej_voxel_size() const { return impl_->voxel; }
std::optional<std::array<double, 2>> TiffReader::tag_pixel_size() const { return impl_->tag_pixel; }

void TiffReader::read_page(std::int64_t page, std::span<std::byte> out) {
  Impl& d = *impl_;
  const std::size_t bytes = std::size_t(d.layout.width) * d.layout.height * (d.layout.bits / 8);
  H5DECON_REQUIRE(page >= 0 && page < pages() && out.size() == bytes, Error, "reading page ",
                  page, " of ", d.what, " into ", out.size(), " bytes");
  TIFF* tif = d.tiff.tif.get();
  const std::string where = h5decon::detail::concat(d.what, ": page ", page + 1);
  H5DECON_REQUIRE(TIFFSetDirectory(tif, d.directories[std::size_t(page)]) == 1, InputError, where,
                  " cannot be read", d.tiff.reason());
  TIFFIsTiled(tif) ? read_tiles(tif, d.layout, out.data(), d.tiff, where)
                   : read_strips(tif, d.layout, out.data(), d.tiff, where);
}

void TiffReader::read_page(std::int64_t page, std::span<float> out) {
  const std::size_t n = std::size_t(width()) * std::size_t(height());
  H5DECON_REQUIRE(out.size() == n, Error, "reading page ", page, " of ", impl_->what, " into ",
                  out.size(), " floats");
  const SampleType type = sample_type();
  std::vector<std::byte> samples(n * std::size_t(sample_bytes(type)));
  read_page(page, std::span<std::byte>(samples));
  // Raw values, negatives and all: whoever uses them checks them (prepare_psf).
  if (type == SampleType::float32) {
    std::memcpy(out.data(), samples.data(), n * 4);
  } else if (type == SampleType::uint8) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(std::to_integer<std::uint8_t>(samples[i]));
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint16_t v;
      std::memcpy(&v, samples.data() + 2 * i, 2);
      out[i] = static_cast<float>(v);
    }
  }
}

}  // namespace h5decon::io::detail
