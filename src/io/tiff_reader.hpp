#pragma once
// A multi-page greyscale TIFF read page by page with libtiff: page checks (one
// sample per pixel, uint8/uint16/float32, one size), strip or tile decoding
// (libtiff undoes LZW, deflate, predictors and byte order), and the metadata
// microscopy writers put in the first ImageDescription (ImageJ, OME-XML).
// Serial and local. Private to src/io.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "h5decon/samples.hpp"

namespace h5decon::io::detail {

/// The positive finite number ImageJ's description gives for `key`
/// ("spacing=0.2"); 0 when absent or not such a number.
double imagej_number(const std::map<std::string, std::string>& fields, const std::string& key);

/// True when `file` starts with a TIFF header (classic or BigTIFF, either byte
/// order); false when it does not or cannot be read.
bool has_tiff_signature(const std::string& file);

class TiffReader {
 public:
  /// Opens `file` and walks its pages: every full-resolution page (thumbnails and
  /// pyramid levels are skipped) must be greyscale with one sample per pixel of
  /// 8- or 16-bit unsigned integers or 32-bit floats, all of one size and type.
  /// Throws InputError starting with `what` (e.g. "PSF 'psf.tif'"); `subject`
  /// names what the pages must be in the message ("a PSF", "an image").
  TiffReader(const std::string& file, const std::string& what, const std::string& subject);
  ~TiffReader();
  TiffReader(TiffReader&&) noexcept;
  TiffReader& operator=(TiffReader&&) noexcept;

  const std::string& what() const;
  std::int64_t pages() const;  ///< full-resolution pages
  std::int64_t width() const;
  std::int64_t height() const;
  SampleType sample_type() const;  ///< uint8, uint16 or float32
  /// The first page's ImageDescription ("" when none).
  const std::string& description() const;
  /// "key=value" lines of an ImageJ ImageDescription; empty when not ImageJ's.
  const std::map<std::string, std::string>& imagej() const;
  /// (z, y, x) micrometres from ImageJ's calibration (XResolution/YResolution,
  /// "spacing=" and "unit="); nullopt without a length unit.
  std::optional<std::array<double, 3>> imagej_voxel_size() const;
  /// X and Y resolution tags as micrometres per pixel (y, x), when the file has a
  /// resolution unit of centimetre or inch; nullopt otherwise.
  std::optional<std::array<double, 2>> tag_pixel_size() const;

  /// Reads full-resolution page `page` (0-based) into `out`: width * height
  /// samples of sample_type(), native byte order.
  void read_page(std::int64_t page, std::span<std::byte> out);
  /// read_page() converted to float32.
  void read_page(std::int64_t page, std::span<float> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace h5decon::io::detail
