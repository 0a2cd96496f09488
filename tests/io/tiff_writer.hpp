#pragma once
// Writes small TIFF files with libtiff for the TIFF PSF tests: any page layout,
// compression, strips or tiles, and the tags ImageJ uses for its calibration.

#include <gtest/gtest.h>
#include <tiffio.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace h5decon::io::test {

/// The layout and metadata of every page of a test TIFF.
struct TiffSpec {
  std::uint32_t width = 5, height = 4;
  std::uint16_t bits = 16, format = SAMPLEFORMAT_UINT, samples = 1;
  std::uint16_t photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t compression = COMPRESSION_NONE;
  std::uint32_t rows_per_strip = 0;  ///< 0: the whole page in one strip
  std::uint32_t tile = 0;            ///< tile edge (a multiple of 16); 0: strips
  std::string description;           ///< first page's ImageDescription; "" for none
  float x_resolution = 0, y_resolution = 0;
  std::uint16_t resolution_unit = RESUNIT_NONE;
};

/// Writes one page per entry of `pages`, each width * height * samples values of
/// type T (which must match spec.bits and spec.format).
template <class T>
void write_tiff(const std::string& path, const TiffSpec& spec,
                const std::vector<std::vector<T>>& pages) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr) << path;
  for (std::size_t p = 0; p < pages.size(); ++p) {
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, spec.width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, spec.height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, spec.bits);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, spec.format);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, spec.samples);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, spec.photometric);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, spec.compression);
    if (spec.photometric == PHOTOMETRIC_PALETTE) {
      std::vector<std::uint16_t> map(std::size_t(1) << spec.bits, 0);
      TIFFSetField(tif, TIFFTAG_COLORMAP, map.data(), map.data(), map.data());
    }
    if (p == 0 && !spec.description.empty())
      TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, spec.description.c_str());
    if (spec.x_resolution > 0) {
      TIFFSetField(tif, TIFFTAG_XRESOLUTION, spec.x_resolution);
      TIFFSetField(tif, TIFFTAG_YRESOLUTION, spec.y_resolution);
      TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, spec.resolution_unit);
    }
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(tif, TIFFTAG_PAGENUMBER, std::uint16_t(p), std::uint16_t(pages.size()));
    const std::size_t row = std::size_t(spec.width) * spec.samples;
    const std::vector<T>& page = pages[p];
    ASSERT_EQ(page.size(), row * spec.height);
    if (spec.tile > 0) {
      TIFFSetField(tif, TIFFTAG_TILEWIDTH, spec.tile);
      TIFFSetField(tif, TIFFTAG_TILELENGTH, spec.tile);
      std::vector<T> buffer(std::size_t(spec.tile) * spec.tile * spec.samples);
      for (std::uint32_t y = 0; y < spec.height; y += spec.tile)
        for (std::uint32_t x = 0; x < spec.width; x += spec.tile) {
          std::fill(buffer.begin(), buffer.end(), T{});
          for (std::uint32_t r = 0; r < spec.tile && y + r < spec.height; ++r)
            for (std::uint32_t c = 0; c < spec.tile && x + c < spec.width; ++c)
              for (std::uint16_t s = 0; s < spec.samples; ++s)
                buffer[(std::size_t(r) * spec.tile + c) * spec.samples + s] =
                    page[(y + r) * row + (x + c) * spec.samples + s];
          ASSERT_GE(TIFFWriteTile(tif, buffer.data(), x, y, 0, 0), 0);
        }
    } else {
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP,
                   spec.rows_per_strip ? spec.rows_per_strip : spec.height);
      for (std::uint32_t y = 0; y < spec.height; ++y) {
        std::vector<T> line(page.begin() + std::ptrdiff_t(y * row),
                            page.begin() + std::ptrdiff_t((y + 1) * row));
        ASSERT_GE(TIFFWriteScanline(tif, line.data(), y, 0), 0);
      }
    }
    ASSERT_TRUE(TIFFWriteDirectory(tif));
  }
  TIFFClose(tif);
}

}  // namespace h5decon::io::test
