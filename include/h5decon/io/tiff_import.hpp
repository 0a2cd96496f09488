#pragma once
// `h5decon import`: TIFF files in, the 5D (c, t, z, y, x) HDF5 dataset `run`
// reads out. What a set of TIFF files holds (TiffSet), reading its planes
// (TiffPlaneReader), and the typed, chunked dataset they are written into
// (ImportDataset, parallel HDF5 with independent writes of whole z-slabs).

#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/sample_type.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::io {

/// Where one (c, t, z) plane is: a file of the set and a page in it.
struct PlaneSource {
  std::int32_t file = -1;
  std::int64_t page = 0;
};

/// A set of TIFF files viewed as one (c, t, z, y, x) dataset.
struct TiffSet {
  std::vector<std::string> files;
  Shape5 shape;
  SampleType type = SampleType::uint16;
  /// Pages per file that every file must have (a file set); 0: one file.
  std::int64_t pages_per_file = 0;
  /// The plane (c, t, z) at (c * shape.t + t) * shape.volume.z + z.
  std::vector<PlaneSource> planes;
  std::optional<std::array<double, 3>> voxel_um;  ///< (z, y, x)
  std::vector<std::string> channel_names;
  std::string kind;     ///< "OME-TIFF", "ImageJ hyperstack", "TIFF stack", "TIFF files"
  std::string summary;  ///< how the axes were found, for the log and the provenance

  const PlaneSource& plane(std::int64_t c, std::int64_t t, std::int64_t z) const {
    return planes[static_cast<std::size_t>((c * shape.t + t) * shape.volume.z + z)];
  }
};

/// One TIFF file: its pages as an OME-TIFF (OME-XML DimensionOrder, SizeC/T/Z,
/// PhysicalSize* with units, channel names), an ImageJ hyperstack (channels,
/// slices, frames; its calibration) or a plain stack (every page a z plane).
/// Local, serial. Throws InputError naming the file.
TiffSet describe_tiff_file(const std::string& file);

/// Several TIFF files (`inputs`: files and folders; a folder contributes its files
/// whose names match `pattern`, or every .tif/.tiff without one) as one dataset.
/// `pattern` names a file's axes: "{c}", "{t}", "{z}" stand for a number, "*" for
/// any text, e.g. "img_t{t}_c{c}_z{z}.tif"; each axis's distinct numbers, sorted,
/// become its indices, and every combination must have exactly one file. Files
/// of one page are z planes; files of several pages are z stacks (then the
/// pattern has no {z}). Without a pattern the files, sorted naturally (2 before
/// 10), are the z planes (single pages) or the time points (stacks). Opens the
/// first file only; the others are checked as they are read. Local, serial.
/// Throws InputError naming the file, or the missing (c, t, z), and the problem.
TiffSet describe_tiff_files(const std::vector<std::string>& inputs, const std::string& pattern);

/// Reads planes of a TiffSet, keeping the file last read open.
class TiffPlaneReader {
 public:
  explicit TiffPlaneReader(const TiffSet& set);
  ~TiffPlaneReader();
  /// Plane (c, t, z) into `out` (y * x samples of set.type). Throws InputError
  /// naming the file when it is missing, not TIFF, or not of the set's page
  /// size, type or count.
  void read(std::int64_t c, std::int64_t t, std::int64_t z, std::span<std::byte> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The output of an import: a chunked (c, t, z, y, x) dataset of the set's sample
/// type in "<file>.partial", renamed by finish(); never an input file.
class ImportDataset {
 public:
  /// Collective on `comm`. `attributes` (rank 0's are written) and the voxel
  /// size (element_size_um) go on the dataset.
  ImportDataset(const DatasetRef& ref, const Shape5& shape, SampleType type, const Shape3& chunk,
                const std::optional<std::array<double, 3>>& voxel_um,
                const std::map<std::string, std::string>& attributes,
                const std::vector<std::string>& protected_files, bool overwrite, MPI_Comm comm);
  ~ImportDataset();  ///< without finish(): closes and removes "<file>.partial"
  /// Writes planes [z0, z0 + count.z) of volume (c, t) (count = planes x y x x).
  /// Independent I/O.
  void write_planes(std::int64_t c, std::int64_t t, std::int64_t z0, std::int64_t planes,
                    std::span<const std::byte> samples);
  /// Closes and renames "<file>.partial" to the file. Collective.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace h5decon::io
