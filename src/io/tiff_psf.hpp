#pragma once
// A measured PSF stored as a multi-page TIFF (one page per z plane), read with
// libtiff: serial, on whichever rank reads the file (psf_reader.cpp broadcasts it).

#include <array>
#include <optional>
#include <string>

#include "h5decon/volume.hpp"
#include "io/tiff_reader.hpp"  // has_tiff_signature

namespace h5decon::io::detail {

/// A z stack read from a TIFF file.
struct TiffStack {
  Volume volume;  ///< (z, y, x) = (pages, rows, columns), as float32
  /// Voxel size (z, y, x) in micrometres when the file records all three in a
  /// length unit (ImageJ: XResolution/YResolution, "spacing=" and "unit=" in
  /// the ImageDescription); nullopt otherwise.
  std::optional<std::array<double, 3>> element_size_um;
};

/// Reads every full-resolution page of `file` as one z plane. Pages must share
/// their size and hold one sample per pixel of 8- or 16-bit unsigned integers or
/// 32-bit floats (any compression libtiff decodes; strips or tiles). Throws
/// InputError starting with `what` (e.g. "PSF 'psf.tif'") for a missing file, a
/// file that is not TIFF, RGB/palette or other unsupported pages, pages of
/// different sizes, an ImageJ hyperstack with several channels or frames, or
/// undecodable data.
TiffStack read_tiff_stack(const std::string& file, const std::string& what);

}  // namespace h5decon::io::detail
