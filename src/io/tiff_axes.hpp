#pragma once
// How the pages of one TIFF file map to (c, t, z): a plain stack, an ImageJ
// hyperstack or an OME-TIFF, with the voxel size and channel names they record.
// Private to src/io.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/tiff_reader.hpp"

namespace h5decon::io::detail {

struct TiffAxes {
  std::string kind = "TIFF stack";  ///< "TIFF stack", "ImageJ hyperstack", "OME-TIFF"
  std::int64_t c = 1, t = 1, z = 1;
  /// The page axes from fastest to slowest varying, e.g. "czt" (ImageJ), "zct"
  /// (OME DimensionOrder XYZCT).
  std::string order = "zct";
  std::optional<std::array<double, 3>> voxel_um;  ///< (z, y, x)
  std::vector<std::string> channel_names;

  /// The 0-based page holding plane z of volume (c, t).
  std::int64_t page(std::int64_t c, std::int64_t t, std::int64_t z) const;
};

/// The axes of `tiff`'s pages: OME-XML in the first ImageDescription (SizeC/T/Z,
/// DimensionOrder, PhysicalSize* with units, Channel names), else ImageJ's
/// (channels=, slices=, frames=, order czt, its calibration), else every page a z
/// plane. Throws InputError naming the file for metadata that does not fit the
/// pages (a count unlike the pages', a plane size unlike SizeX/SizeY, an
/// OME-TIFF whose planes are in other files).
TiffAxes tiff_axes(const TiffReader& tiff, const std::string& file);

}  // namespace h5decon::io::detail
