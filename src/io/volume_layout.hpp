#pragma once
// Inputs whose (c, t) volumes are separate 3D datasets: a BigDataViewer /
// mesoSPIM HDF5 file described by its SpimData XML, and an Imaris .ims file.
// Private to src/io: InputDataset reads through it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::io::detail {

/// Where each (c, t) volume of a multi-dataset input is stored.
struct VolumeLayout {
  std::string format;     ///< "BigDataViewer" or "Imaris"
  std::string data_file;  ///< the HDF5 file that holds the voxels
  std::int64_t channels = 1, times = 1;
  /// The (z, y, x) dataset of volume (c, t) at c * times + t, inside data_file.
  std::vector<std::string> paths;
  /// The image inside each dataset, from the origin: Imaris pads its datasets to
  /// whole chunks and the padding is not data. nullopt: the whole dataset.
  std::optional<Shape3> extent;
  /// BigDataViewer stores 16-bit samples in int16 datasets that hold uint16
  /// values: read their bits as uint16, never converted (which would clip).
  bool int16_holds_uint16 = false;
  std::optional<std::array<double, 3>> element_size_um;  ///< (z, y, x)
  std::vector<std::string> channel_names;                ///< one per c, or empty
  std::string summary;  ///< "2 setups x 3 time points", for the log
};

/// The layout `ref` names, or nullopt for an ordinary dataset. A BigDataViewer
/// input is its XML (`a.xml`), or its `.h5` with the XML beside it when the
/// dataset `ref.path` is `default_path` and absent from the file; an Imaris input
/// is a `.ims` file whose `ref.path` is `default_path`. Local and serial (reads
/// the XML, and the HDF5 file through the serial driver). Throws InputError
/// naming the file and the problem: a malformed XML, a loader other than
/// bdv.hdf5, setups of different sizes or voxel sizes, a missing data file.
std::optional<VolumeLayout> find_volume_layout(const DatasetRef& ref,
                                               const std::string& default_path);

/// The SpimData XML's layout (the BigDataViewer part of find_volume_layout).
VolumeLayout read_bdv_xml(const std::string& xml_file);

/// An Imaris file's layout (the Imaris part of find_volume_layout).
VolumeLayout read_imaris_layout(const std::string& ims_file);

}  // namespace h5decon::io::detail
