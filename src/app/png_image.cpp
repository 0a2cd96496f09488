// encode_png() and write_png(): greyscale PNG with zlib's deflate and crc32.
#include "png_image.hpp"

#include <zlib.h>

#include <fstream>
#include <string_view>

#include "h5decon/error.hpp"

namespace h5decon::app {
namespace {

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
}

// Appends one chunk: length, type, data, CRC-32 of type and data.
void put_chunk(std::vector<std::uint8_t>& out, std::string_view type,
               const std::vector<std::uint8_t>& data) {
  put_u32(out, std::uint32_t(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  const auto crc = crc32(crc32(0L, Z_NULL, 0), out.data() + start, uInt(out.size() - start));
  put_u32(out, std::uint32_t(crc));
}

std::vector<std::uint8_t> deflate_rows(const GreyImage& image) {
  std::vector<std::uint8_t> raw;
  raw.reserve(std::size_t(image.height * (image.width + 1)));
  for (std::int64_t y = 0; y < image.height; ++y) {
    raw.push_back(0);  // filter type 0 (none)
    const auto row = image.pixels.begin() + std::ptrdiff_t(y * image.width);
    raw.insert(raw.end(), row, row + std::ptrdiff_t(image.width));
  }
  uLongf size = compressBound(uLong(raw.size()));
  std::vector<std::uint8_t> packed(size);
  H5DECON_REQUIRE(compress2(packed.data(), &size, raw.data(), uLong(raw.size()), 6) == Z_OK,
                  Error, "PNG: zlib compression failed");
  packed.resize(size);
  return packed;
}

}  // namespace

std::vector<std::uint8_t> encode_png(const GreyImage& image) {
  H5DECON_REQUIRE(image.width > 0 && image.height > 0 &&
                      image.pixels.size() == std::size_t(image.width * image.height),
                  Error, "PNG: an image of ", image.width, "x", image.height, " is not valid");
  std::vector<std::uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<std::uint8_t> header;
  put_u32(header, std::uint32_t(image.width));
  put_u32(header, std::uint32_t(image.height));
  header.insert(header.end(), {8, 0, 0, 0, 0});  // depth 8, grey, deflate, filter 0, no interlace
  put_chunk(out, "IHDR", header);
  put_chunk(out, "IDAT", deflate_rows(image));
  put_chunk(out, "IEND", {});
  return out;
}

void write_png(const std::string& path, const GreyImage& image) {
  const std::vector<std::uint8_t> bytes = encode_png(image);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  file.close();
  H5DECON_REQUIRE(file.good(), IoError, "cannot write '", path, "'");
}

}  // namespace h5decon::app
