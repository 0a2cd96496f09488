#pragma once
// HDF5 access through the parallel HDF5 library (MPI-IO driver): the input
// dataset, the PSF, and the output dataset with its provenance.
// Destroy these objects before MPI_Finalize: parallel HDF5 shuts down inside it.

#include <mpi.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "h5decon/samples.hpp"
#include "h5decon/shape.hpp"
#include "h5decon/volume.hpp"

namespace h5decon::io {

/// The HDF5 library's version, e.g. "1.10.8 (parallel)", for --version.
std::string hdf5_version();

/// "FILE.h5:/path/to/dataset". The part after the last ':' must start with '/';
/// without it, `default_path` is used.
struct DatasetRef {
  std::string file;
  std::string path;

  static DatasetRef parse(const std::string& spec, const std::string& default_path);
  /// "file:/path", as printed in every message ("file" alone when `path` is empty:
  /// a file that is the whole object, such as a TIFF PSF).
  std::string str() const;
};

/// Element type of a dataset as stored (either byte order: HDF5 converts on reading).
/// int8, int16 and float64 inputs are converted to float32 as they are read.
enum class DType { uint8, uint16, float32, int8, int16, float64 };
std::string to_string(DType t);
/// Bytes per element of `t`.
int dtype_bytes(DType t);
/// The type blocks of a `t` input are read and sent in: `t` itself, except
/// float64, read as float32.
SampleType sample_type(DType t);

/// The HDF5 file that holds an input's voxels: `ref.file`, or the file a
/// BigDataViewer XML names. Local; throws InputError for an unreadable XML.
std::string input_data_file(const DatasetRef& ref);

/// A read-only input dataset viewed as (c, t, z, y, x).
class InputDataset {
 public:
  /// Opens `ref` read-only on `comm` (collective). `axes` names the stored axes
  /// when the rank is 3 or 4 ("zyx", "czyx", "tzyx"); empty means rank 5 (ctzyx).
  /// Inputs whose volumes are separate datasets are recognised (docs/design.md §1):
  /// a BigDataViewer XML (`a.xml`, or its `.h5` without a path when the XML is
  /// beside it): setups as c, time points as t, int16 cells read as uint16, the
  /// XML's voxel size; an Imaris `.ims` without a path: channels and time points of
  /// resolution level 0, cropped to the image size, the voxel size from its extents.
  /// Throws InputError naming file, dataset and problem: missing file, missing
  /// dataset, a group instead of a dataset, wrong rank, unsupported dtype, an
  /// axis of size 0.
  InputDataset(const DatasetRef& ref, MPI_Comm comm, const std::string& axes = "");
  ~InputDataset();
  InputDataset(InputDataset&&) noexcept;
  InputDataset& operator=(InputDataset&&) noexcept;

  const DatasetRef& ref() const;
  Shape5 shape() const;
  DType dtype() const;
  /// Voxel size (z, y, x) in micrometres from the `element_size_um` attribute, if present.
  /// An attribute that is not 3 positive finite numbers is ignored (nullopt).
  std::optional<std::array<double, 3>> element_size_um() const;

  /// The HDF5 file holding the voxels: ref().file, or the file a BigDataViewer XML names.
  const std::string& data_file() const;
  /// "a.h5:/data", or for a multi-dataset input "a.xml (BigDataViewer: 2 setup(s) x
  /// 3 time point(s) in a.h5)": how the log names the input.
  std::string source() const;
  /// What the input says about itself, for the output's provenance: input_source,
  /// input_channel_names (when known), and the text and numeric attributes of the
  /// dataset (input_attr_NAME; a layout's first volume) and of the file's root
  /// group (input_root_NAME). Local (reads attributes independently).
  std::map<std::string, std::string> metadata() const;
  /// Channel names the input records, one per c: a BigDataViewer or Imaris input's,
  /// or the dataset's `channel_names` (import) or `input_channel_names` (a run's
  /// output) attribute, "; "-separated; else empty.
  std::vector<std::string> channel_names() const;

  /// The type read_samples() delivers: sample_type(dtype()).
  SampleType sample_type() const;
  /// "input 'a.h5:/data'": how messages about this input's values name it.
  const std::string& description() const;

  /// The extent (z, y, x) of the chunks volume (c, t) is stored in, or nullopt when
  /// it is not chunked. HDF5 reads a chunk whole even for one voxel of it. Local.
  std::optional<Shape3> chunk_shape(std::int64_t c, std::int64_t t) const;
  /// The byte offset in data_file() of the stored chunk of volume (c, t) that
  /// starts at `origin` (a multiple of chunk_shape()), when its bytes are the
  /// samples as read_samples() delivers them, in the chunk's C order: allocated,
  /// unfiltered, one volume per chunk, stored in the samples' own type and this
  /// machine's byte order, not behind a virtual dataset; std::nullopt otherwise.
  /// Calls HDF5 (the caller's HDF5 lock). Local.
  std::optional<std::int64_t> chunk_offset(std::int64_t c, std::int64_t t,
                                           const Shape3& origin) const;

  /// Reads the box [offset, offset + count) of volume (c, t) in sample_type() into
  /// `out` (count.size() * sample_bytes(sample_type()) bytes), unchecked: whoever
  /// converts it checks the values (convert_samples, refuse_nonfinite).
  /// Independent I/O: any rank may call it alone.
  void read_samples(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
                    std::span<std::byte> out) const;
  /// Reads the box [offset, offset + count) of volume (c, t) converted to float32
  /// into `out` (count.size() elements), checked: NaN/Inf refused (InputError
  /// naming the voxel), negatives set to 0 with a warning once per process.
  /// Independent I/O: any rank may call it alone.
  void read_box(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
                std::span<float> out) const;
  /// As read_box(), collective on the communicator the input was opened on
  /// (H5FD_MPIO_COLLECTIVE): every rank calls it, a rank with nothing to read with
  /// an empty box (a zero extent) and empty `out`. Returns how many negative
  /// values it set to 0, without a warning: the caller sums them over the ranks
  /// and warns once.
  std::int64_t read_box_collective(std::int64_t c, std::int64_t t, const Shape3& offset,
                                   const Shape3& count, std::span<float> out) const;
  /// Reads the whole volume (c, t) as float32.
  Volume read_volume(std::int64_t c, std::int64_t t) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True for a file name ending in ".tif" or ".tiff" (any case): a PSF given as a TIFF stack.
bool is_tiff_name(const std::string& file);

/// A --psf argument: "FILE.h5[:/path]" (path `default_path` when omitted) or
/// "FILE.tif" / "FILE.tiff", a TIFF stack, whose `path` is empty (str() is the file
/// name). Throws InputError for no file name or a dataset path after a TIFF name.
DatasetRef parse_psf_ref(const std::string& spec, const std::string& default_path);

/// PSF(s) as read_psf_file() returns them.
struct PsfFile {
  std::vector<Volume> psfs;  ///< exactly `channels` volumes, raw float32
  /// Voxel size (z, y, x) in micrometres if the file records one: the PSF
  /// dataset's `element_size_um` attribute, or a TIFF's ImageJ calibration.
  std::optional<std::array<double, 3>> element_size_um;
};

/// Reads the PSF(s), collectively on `comm`. HDF5: a (z, y, x) dataset is one PSF
/// for every channel; (c, z, y, x) gives one per channel and must have `channels`
/// entries; element types uint8, uint16, float32 and float64. TIFF (an empty
/// `ref.path`, or a file that starts with a TIFF header): one multi-page z stack
/// for every channel, read on rank 0 and broadcast. Values are returned raw;
/// prepare_psf() validates them. Throws InputError naming the file (and dataset)
/// and the problem, the same on every rank.
PsfFile read_psf_file(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels);

/// read_psf_file()'s volumes only.
std::vector<Volume> read_psfs(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels);

/// Provenance written as attributes of the output dataset (docs/design.md §1).
struct Provenance {
  std::string command_line;
  std::map<std::string, std::string> options;  ///< resolved options, one attribute each ("opt_<name>")
  std::string algorithm = "richardson-lucy";
  int iterations = 0;
  std::string psf_source;
  std::string halo;           ///< e.g. "0,0,0"
  std::string decomposition;  ///< e.g. "1 block per volume"
  std::string backend;        ///< per rank, e.g. "rank 0: cpu (fftw3f, 2 threads)"
  std::optional<std::array<double, 3>> element_size_um;
  std::map<std::string, std::string> attributes;  ///< further string attributes, by name (e.g. the block plan)
};

/// (c, t) of one volume.
using VolumeIndex = std::array<std::int64_t, 2>;

/// "<file>.partial": where an output is written until OutputDataset::finish().
inline std::string partial_file(const std::string& output_file) { return output_file + ".partial"; }

/// How an output dataset is created or reopened.
struct OutputOptions {
  bool overwrite = false;  ///< replace an existing output file
  /// Reopen the "<file>.partial" of an interrupted run read-write instead of
  /// creating it; its dataset must have the expected shape (and attributes stay).
  bool resume = false;
  /// With `resume`: a line appended to the dataset's "resume_log" attribute.
  std::string resume_note;
  /// Only these volumes, stored in this order as a (v, z, y, x) dataset with the
  /// attributes "axes" = "vzyx" and "shard_volumes" (v rows of c, t): a shard of
  /// a job array. Empty: every volume, (c, t, z, y, x).
  std::vector<VolumeIndex> volumes;
};

/// One stored chunk of a box written by OutputDataset::write_chunks().
struct ChunkPiece {
  std::int64_t file_offset = 0;  ///< byte offset of the chunk in the partial file
  Shape3 box_offset;             ///< where the piece starts within the box
  Shape3 count;                  ///< its size: the chunk's, or less at the volume's end
};

/// A box of whole stored chunks placed in the file (OutputDataset::place_chunks()).
struct ChunkWrite {
  Shape3 chunk;                    ///< the stored chunk shape (z, y, x)
  Shape3 box;                      ///< the box's size
  std::vector<ChunkPiece> pieces;  ///< its chunks, in C order
};

/// A new float32 output dataset, (c, t, z, y, x), chunked.
///
/// The data is written to "<file>.partial" and renamed to `file` by finish(), so a
/// file at the output path is always complete. Creation refuses an existing
/// output unless `overwrite`, and refuses an output that is the input file
/// (same path or same inode).
class OutputDataset {
 public:
  /// Collective on `comm`. `chunk` is the chunk shape of one volume's (z, y, x)
  /// (clamped to the volume). Attributes are written from rank 0's `provenance`.
  OutputDataset(const DatasetRef& ref, const DatasetRef& input, Shape5 shape, Shape3 chunk,
                const Provenance& provenance, bool overwrite, MPI_Comm comm);
  /// The same with every choice of OutputOptions (resume, a subset of volumes).
  OutputDataset(const DatasetRef& ref, const DatasetRef& input, Shape5 shape, Shape3 chunk,
                const Provenance& provenance, const OutputOptions& options, MPI_Comm comm);
  ~OutputDataset();  ///< without finish(): closes, leaves "<file>.partial" in place
  OutputDataset(OutputDataset&&) noexcept;
  OutputDataset& operator=(OutputDataset&&) noexcept;

  /// Writes the box [offset, offset + count) of volume (c, t), which must be one
  /// of OutputOptions::volumes when those were given. Independent I/O.
  void write_box(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
                 std::span<const float> data);
  /// The box as whole stored chunks with their file offsets when it starts on
  /// chunk boundaries and ends on them or at the volume's end (a block's interior
  /// always does) and the output's chunks are plain (allocated, unfiltered, stored
  /// little-endian as this machine's floats); std::nullopt otherwise. No HDF5 call
  /// (the offsets are read when the output is opened): thread-safe.
  std::optional<ChunkWrite> place_chunks(std::int64_t c, std::int64_t t, const Shape3& offset,
                                         const Shape3& count) const;
  /// Writes a placed box with pwrite on a descriptor of its own: no HDF5 call, so
  /// no lock, and it overlaps the process's other HDF5 I/O (rank 0's region reads).
  /// Same bytes in the file as write_box(). Thread-safe.
  void write_chunks(const ChunkWrite& placed, std::span<const float> data) const;
  /// As write_box(), collective on the output's communicator (H5FD_MPIO_COLLECTIVE):
  /// every rank calls it, a rank with nothing to write with an empty box.
  void write_box_collective(std::int64_t c, std::int64_t t, const Shape3& offset,
                            const Shape3& count, std::span<const float> data);
  /// Writes a whole volume.
  void write_volume(std::int64_t c, std::int64_t t, const Volume& v);
  /// Flushes, closes and renames "<file>.partial" to the final name. Collective.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes a whole dataset of any of our dtypes into a new or existing file,
/// creating intermediate groups; used by `synth` and tests. Serial (rank 0 / one process).
/// Integer types get values rounded to nearest and clamped; an existing dataset
/// at `path` is replaced.
void write_array(const std::string& file, const std::string& path, std::span<const float> data,
                 const std::vector<std::int64_t>& dims, DType stored_as, bool truncate_file);

/// Adds the number attribute `name` (float64) to the existing object at `path` of
/// `file`; serial, like write_array (synth's camera offset).
void write_number_attribute(const std::string& file, const std::string& path,
                            const std::string& name, double value);

}  // namespace h5decon::io
