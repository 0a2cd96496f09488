#pragma once
// `h5decon export --layout tiff|ome-tiff`: a (c, t, z, y, x) dataset as TIFF for
// Fiji and napari: an ImageJ hyperstack with its calibration, or an OME-TIFF with
// physical sizes and channel names.

#include <optional>
#include <string>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::io {

struct TiffExportOptions {
  bool ome = false;     ///< OME-TIFF (OME-XML, DimensionOrder XYZCT); else ImageJ hyperstack
  bool uint16 = false;  ///< stored = round(clamp(value, 0, M) * 65535 / M); else float32
  std::optional<double> max_value;  ///< M; unset: the dataset's maximum (one more pass)
  bool split_volumes = false;       ///< one file per (c, t): NAME_c0_t0.tif, ...
  bool overwrite = false;
  std::vector<std::string> channel_names;  ///< OME Channel names (one per c), if known
};

/// The scale chosen for uint16 output.
struct TiffExportPlan {
  bool uint16 = false;
  double max_value = 0, scale = 1;
};

struct TiffExportReport {
  std::vector<std::string> files;
  std::int64_t pages = 0;
  TiffExportPlan plan;
  bool bigtiff = false;
};

/// The files export_tiff() writes for `output`: it alone, or one per (c, t) volume.
std::vector<std::string> tiff_export_files(const std::string& output, const Shape5& shape,
                                           bool split);

/// Writes `input` as TIFF (serial: one process; reads a z plane at a time). Each
/// file is written as "<file>.partial" and renamed when complete; classic TIFF
/// up to 4 GiB, BigTIFF beyond. Throws InputError for an output that exists
/// (without `overwrite`) or is the input; IoError when writing fails.
TiffExportReport export_tiff(const InputDataset& input, const std::string& output,
                             const TiffExportOptions& options);

}  // namespace h5decon::io
