#pragma once
// A float32 z stack written as a multi-page TIFF that ImageJ/Fiji open as a
// calibrated stack (and read_tiff_stack() reads back with its voxel size).

#include <array>
#include <optional>
#include <string>

#include "h5decon/volume.hpp"

namespace h5decon::io {

/// Writes `volume` (z, y, x) as `file`: one float32 page per z plane, ImageJ's
/// ImageDescription (images, slices, unit=micron, spacing) and X/YResolution from
/// `voxel_um` (z, y, x) when given. Replaces an existing file. Throws IoError
/// naming the file when it cannot be written.
void write_tiff_stack(const std::string& file, const Volume& volume,
                      const std::optional<std::array<double, 3>>& voxel_um);

}  // namespace h5decon::io
