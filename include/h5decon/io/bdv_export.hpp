#pragma once
// `h5decon export --layout bdv`: a (c, t, z, y, x) dataset as a BigDataViewer
// HDF5 file (a multi-resolution pyramid of 16-bit chunks) and the XML beside it
// that Fiji's BigDataViewer opens.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/pyramid.hpp"

namespace h5decon::io {

/// How to export.
struct BdvExportOptions {
  std::string axes;  ///< stored axes of a rank-3/4 input ("zyx", "czyx", "tzyx"); "" = ctzyx
  int levels = 0;    ///< pyramid levels; 0: until the largest extent is small (plan_pyramid)
  /// The input value stored as 65535. Unset: the dataset's maximum for float
  /// inputs, 65535 (values kept as they are) for uint8/uint16 inputs.
  std::optional<double> max_value;
  bool overwrite = false;    ///< replace an existing export (.h5 and .xml)
  int deflate = 0;           ///< HDF5 deflate (gzip) level of the cells, 1-9; 0: none
  std::string command_line;  ///< recorded in the .h5's attributes
};

/// What was exported, for the log.
struct BdvExportReport {
  Shape5 shape;
  std::vector<PyramidLevel> levels;
  double max_value = 0;  ///< input value stored as 65535
  double scale = 1;      ///< stored = round(clamp(value, 0, max_value) * scale)
  std::array<double, 3> voxel_size_um{1, 1, 1};  ///< (z, y, x)
  bool voxel_size_known = false;                 ///< from the input's element_size_um
  std::string h5_file, xml_file;
  std::int64_t voxels_written = 0;  ///< all levels of all volumes
};

/// The .xml beside a BigDataViewer .h5: the name with its extension replaced.
std::string bdv_xml_file(const std::string& h5_file);

/// The layout's data paths: "s00/resolutions", "t00000/s00/0/cells", ...
std::string bdv_setup_path(std::int64_t setup);
std::string bdv_cells_path(std::int64_t timepoint, std::int64_t setup, int level);

/// What the SpimData XML describes.
struct BdvXmlDescription {
  std::string h5_name;                           ///< the .h5 relative to the XML's folder
  Shape5 shape;                                  ///< setups = channels, time points = t
  std::array<double, 3> voxel_size_um{1, 1, 1};  ///< (z, y, x)
  std::string comment;                           ///< an XML comment (no "--" in it)
};

/// The SpimData 0.2 XML text: ImageLoader "bdv.hdf5" with the .h5 relative to the
/// XML, one ViewSetup per channel (size and voxel size in x y z order, attribute
/// channel), time points 0..t-1, and per view a registration that scales voxels
/// to micrometres.
std::string bdv_xml(const BdvXmlDescription& description);

/// Serial (one process; HDF5's default driver, which also reads the virtual
/// dataset of a merged shard set). Reads `input` twice when its maximum is needed
/// (the scale), else once, in slabs of z planes; writes
/// `output_h5` and its XML through "<name>.partial" files renamed when complete
/// (the .h5 first, then the .xml). Throws InputError for a missing or malformed
/// input, an output that exists (without `overwrite`) or is the input file, a
/// `max_value` that is not positive; IoError when writing fails.
BdvExportReport export_bdv(const DatasetRef& input, const std::string& output_h5,
                           const BdvExportOptions& options);

}  // namespace h5decon::io
