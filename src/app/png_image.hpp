#pragma once
// A minimal PNG encoder: 8-bit greyscale, deflated with zlib.

#include <cstdint>
#include <string>
#include <vector>

namespace h5decon::app {

/// An 8-bit greyscale image, rows top to bottom, x fastest.
struct GreyImage {
  std::int64_t width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  ///< width * height values

  GreyImage() = default;
  /// A width x height image filled with `fill`.
  GreyImage(std::int64_t w, std::int64_t h, std::uint8_t fill = 0)
      : width(w), height(h), pixels(std::size_t(w * h), fill) {}
  /// The pixel at column x, row y.
  std::uint8_t& at(std::int64_t x, std::int64_t y) { return pixels[std::size_t(y * width + x)]; }
};

/// The PNG file's bytes: signature, IHDR (bit depth 8, colour type 0), one IDAT
/// (filter 0 on every row, zlib deflate) and IEND, with zlib's CRC-32 on each chunk.
std::vector<std::uint8_t> encode_png(const GreyImage& image);

/// Writes encode_png(image) to `path`; throws IoError naming the file on failure.
void write_png(const std::string& path, const GreyImage& image);

}  // namespace h5decon::app
