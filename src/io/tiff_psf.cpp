// A PSF z stack from a multi-page TIFF through libtiff: page checks (one sample
// per pixel, uint8/uint16/float32, one size), strip or tile decoding (libtiff
// undoes LZW, deflate, predictors and byte order) and the voxel size ImageJ records.
#include "io/tiff_psf.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "h5decon/error.hpp"

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
PageLayout read_layout(TIFF* tif, const std::string& where, bool imagej) {
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
                  "; a PSF must be greyscale, one sample per pixel");
  if (imagej && photometric == PHOTOMETRIC_PALETTE) photometric = PHOTOMETRIC_MINISBLACK;
  H5DECON_REQUIRE(photometric == PHOTOMETRIC_MINISBLACK, InputError, where, " is ",
                  photometric_name(photometric), "; a PSF must be greyscale (min-is-black)");
  const bool supported = (l.format == SAMPLEFORMAT_UINT && (l.bits == 8 || l.bits == 16)) ||
                         (l.format == SAMPLEFORMAT_IEEEFP && l.bits == 32);
  H5DECON_REQUIRE(supported, InputError, where, " has ", sample_name(l.bits, l.format),
                  " samples; supported: 8- or 16-bit unsigned integer, 32-bit float");
  H5DECON_REQUIRE(l.width > 0 && l.height > 0, InputError, where, " is empty (", l.width, "x",
                  l.height, ")");
  return l;
}

// `n` samples of the page's type at `src` as float32 (native order: libtiff swapped them).
void to_floats(const PageLayout& l, const unsigned char* src, std::size_t n, float* dst) {
  if (l.bits == 8) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
  } else if (l.bits == 16) {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint16_t v;
      std::memcpy(&v, src + 2 * i, 2);
      dst[i] = static_cast<float>(v);
    }
  } else {
    std::memcpy(dst, src, 4 * n);
  }
}

void read_strips(TIFF* tif, const PageLayout& l, float* plane, const OpenTiff& t,
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
    to_floats(l, buffer.data(), n, plane + std::size_t(row) * l.width);
  }
}

void read_tiles(TIFF* tif, const PageLayout& l, float* plane, const OpenTiff& t,
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
        to_floats(l, buffer.data() + std::size_t(r) * tile_w * bytes, cols,
                  plane + std::size_t(y + r) * l.width + x);
    }
}

/// "key=value" lines of an ImageJ ImageDescription ("ImageJ=1.54f\nimages=9\n...");
/// empty when the description is not ImageJ's.
std::map<std::string, std::string> imagej_fields(TIFF* tif) {
  std::map<std::string, std::string> fields;
  const char* text = nullptr;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &text) || text == nullptr ||
      std::strncmp(text, "ImageJ=", 7) != 0)
    return fields;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos)
      fields[line.substr(0, eq)] = line.substr(eq + 1);
  return fields;
}

/// Micrometres per `unit` as ImageJ spells it (micron, um, µm, \u00B5m, nm, mm, ...);
/// 0 for "pixel" and anything that is not a length.
double micrometres_per(const std::string& unit) {
  const std::pair<const char*, double> known[] = {
      {"micron", 1},    {"microns", 1},  {"um", 1},    {"\xC2\xB5m", 1},
      {"\xCE\xBCm", 1}, {"\\u00B5m", 1}, {"nm", 1e-3}, {"nanometer", 1e-3},
      {"mm", 1e3},      {"cm", 1e4},     {"m", 1e6},   {"inch", 25400}};
  for (const auto& [name, um] : known)
    if (unit == name) return um;
  return 0;
}

double number_or_zero(const std::map<std::string, std::string>& fields, const std::string& key) {
  const auto it = fields.find(key);
  if (it == fields.end()) return 0;
  try {
    const double v = std::stod(it->second);
    return std::isfinite(v) && v > 0 ? v : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

// ImageJ stores the pixel width as 1/XResolution and the z step as "spacing=",
// both in "unit=". Without ImageJ's unit a resolution says nothing physical
// (generic writers put 72 dpi in every file), so no voxel size is claimed.
std::optional<std::array<double, 3>> imagej_voxel_size(
    TIFF* tif, const std::map<std::string, std::string>& f) {
  const auto unit = f.find("unit");
  const double um = unit == f.end() ? 0 : micrometres_per(unit->second);
  float x_res = 0, y_res = 0;
  const double spacing = number_or_zero(f, "spacing");
  if (um == 0 || spacing == 0 || !TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x_res) ||
      !TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y_res) || !(x_res > 0) || !(y_res > 0))
    return std::nullopt;
  return std::array<double, 3>{spacing * um, um / double(y_res), um / double(x_res)};
}

// A PSF is one z stack: an ImageJ hyperstack with channels or frames is not.
void require_single_stack(const std::map<std::string, std::string>& f, std::int64_t pages,
                          const std::string& what) {
  for (const char* axis : {"channels", "frames"}) {
    const double n = number_or_zero(f, axis);
    H5DECON_REQUIRE(n <= 1, InputError, what, ": an ImageJ hyperstack with ", n, " ", axis,
                    "; a TIFF PSF must be one z stack (one PSF for every channel; give one PSF "
                    "per channel as an HDF5 (c,z,y,x) dataset)");
  }
  const double images = number_or_zero(f, "images");
  H5DECON_REQUIRE(images == 0 || images == double(pages), InputError, what, ": ImageJ says ",
                  images, " images but the file has ", pages,
                  " pages (ImageJ's layout for stacks over 4 GiB); save it as a plain TIFF stack");
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

TiffStack read_tiff_stack(const std::string& file, const std::string& what) {
  const OpenTiff t = open_tiff(file, what);
  TIFF* tif = t.tif.get();
  TiffStack out;
  const std::map<std::string, std::string> imagej = imagej_fields(tif);
  out.element_size_um = imagej_voxel_size(tif, imagej);
  PageLayout first;
  std::vector<float> data;
  std::int64_t pages = 0;
  do {
    if (is_reduced_resolution(tif)) continue;  // thumbnails and pyramid levels
    const std::string where =
        h5decon::detail::concat(what, ": page ", TIFFCurrentDirectory(tif) + 1);
    const PageLayout l = read_layout(tif, where, !imagej.empty());
    if (pages == 0) first = l;
    H5DECON_REQUIRE(l == first, InputError, where, " is ", describe(l), " but page 1 is ",
                    describe(first), "; every page must be a z plane of one size and type");
    const std::size_t plane = std::size_t(l.width) * l.height;
    data.resize(data.size() + plane);
    float* dst = data.data() + data.size() - plane;
    TIFFIsTiled(tif) ? read_tiles(tif, l, dst, t, where) : read_strips(tif, l, dst, t, where);
    ++pages;
  } while (TIFFReadDirectory(tif));
  H5DECON_REQUIRE(t.last_error->empty(), InputError, what, ": cannot read the page after page ",
                  pages, t.reason());
  H5DECON_REQUIRE(pages > 0, InputError, what, ": no full-resolution page");
  require_single_stack(imagej, pages, what);
  out.volume.shape = Shape3{pages, first.height, first.width};
  out.volume.data = std::move(data);
  return out;
}

}  // namespace h5decon::io::detail
