// write_tiff_stack(): a float32 z stack as an ImageJ-calibrated multi-page TIFF.
#include "h5decon/io/tiff.hpp"

#include <tiffio.h>

#include <memory>
#include <sstream>

#include "h5decon/error.hpp"

namespace h5decon::io {

void write_tiff_stack(const std::string& file, const Volume& v,
                      const std::optional<std::array<double, 3>>& voxel_um) {
  const Shape3 s = v.shape;
  // Classic TIFF up to 4 GiB, BigTIFF beyond (ImageJ reads both).
  const bool big = double(s.size()) * 4.0 > 3.9e9;
  std::unique_ptr<TIFF, void (*)(TIFF*)> tif(TIFFOpen(file.c_str(), big ? "w8" : "w"),
                                             [](TIFF* t) { if (t) TIFFClose(t); });
  H5DECON_REQUIRE(tif != nullptr, IoError, "cannot create TIFF file '", file, "'");
  std::ostringstream description;
  description << "ImageJ=1.11a\nimages=" << s.z << "\nslices=" << s.z << "\n";
  if (voxel_um) description << "unit=micron\nspacing=" << (*voxel_um)[0] << "\n";
  description << "loop=false\n";
  const std::string text = description.str();
  for (std::int64_t z = 0; z < s.z; ++z) {
    TIFF* t = tif.get();
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(s.x));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(s.y));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<std::uint32_t>(s.y));
    if (z == 0) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, text.c_str());
    if (voxel_um) {
      TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
      TIFFSetField(t, TIFFTAG_XRESOLUTION, static_cast<float>(1.0 / (*voxel_um)[2]));
      TIFFSetField(t, TIFFTAG_YRESOLUTION, static_cast<float>(1.0 / (*voxel_um)[1]));
    }
    const auto bytes = static_cast<tmsize_t>(s.y * s.x * 4);
    const float* plane = v.data.data() + z * s.y * s.x;
    H5DECON_REQUIRE(TIFFWriteEncodedStrip(t, 0, const_cast<float*>(plane), bytes) == bytes,
                    IoError, "cannot write page ", z, " of TIFF file '", file, "' (disk full?)");
    H5DECON_REQUIRE(TIFFWriteDirectory(t) == 1, IoError, "cannot write page ", z,
                    " of TIFF file '", file, "'");
  }
}

}  // namespace h5decon::io
