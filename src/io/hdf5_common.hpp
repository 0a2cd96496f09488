#pragma once
// Pieces shared by the input, PSF and output code: opening a dataset with
// user-facing checks, naming element types, hyperslab reads, MPI agreement.

#include <hdf5.h>
#include <mpi.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"
#include "io/hdf5_handle.hpp"

namespace h5decon::io::detail {

/// `dataset` (at `path` in `file`) reopened with a chunk cache of four of its
/// chunks (1 MiB to 256 MiB), so that every chunk a region touches is read whole,
/// once; unchunked datasets are returned as they are. Collective where H5Dopen is.
DatasetHandle with_chunk_cache(hid_t file, const std::string& path, DatasetHandle dataset);

/// The native-order HDF5 memory type of samples of `type` (HDF5 swaps on reading).
hid_t native_type(SampleType type);
/// The little-endian HDF5 file type h5decon stores samples of `type` in.
hid_t file_type(SampleType type);

/// Local: whether `file` is an HDF5 file HDF5 can open (H5Fis_accessible / H5Fis_hdf5).
bool is_hdf5_file(const std::string& file);

/// A file access property list for the MPI-IO driver on `comm`.
PlistHandle mpio_fapl(MPI_Comm comm);

/// A dataset opened read-only, with the file it lives in (closed after it).
struct OpenedDataset {
  FileHandle file;
  DatasetHandle dataset;
  /// Opened by each rank with HDF5's serial driver: a virtual dataset (merged
  /// shards), which parallel HDF5 cannot read. Reads are then independent only.
  bool serial = false;
};

/// Local. InputError when the shape is no microscope's (an axis of 2^31 voxels or
/// more, or 2^48 in all): a damaged header, refused before planning.
void require_plausible_dims(const std::vector<hsize_t>& dims, const std::string& what);

/// Local, serial. For a virtual dataset (merged shards): why one of its source
/// files or datasets cannot be read (missing, unreadable, no such dataset), or ""
/// when all can; "" for any other dataset. HDF5 would read a missing source as
/// zeros, silently.
std::string virtual_source_problem(hid_t dataset, const DatasetRef& ref);
/// InputError "WHAT: <virtual_source_problem>" when there is one.
void require_virtual_sources(hid_t dataset, const DatasetRef& ref, const std::string& what);

/// "WHAT: the file is damaged or unreadable (CAUSE)": the message of an HDF5 call
/// that failed on an input's structure or data (an input problem: exit code 2).
std::string damaged_message(const std::string& what, const std::string& cause);

/// Local, serial: why `ref` cannot be read as a dataset (a missing or damaged file,
/// a missing object, a filter that is not installed, an implausible shape), as the
/// message to throw ("WHAT: ..."), or "" when it can.
std::string inspect_dataset(const DatasetRef& ref, const std::string& what);

/// Opens `ref` read-only on `comm` (collective). `what` starts every message
/// ("input 'a.h5:/data'"). Throws InputError for a missing or non-HDF5 file, a
/// missing dataset, or a group (or other object) where a dataset was expected.
/// Every rank reaches the same verdict: rank 0 checks the file and broadcasts.
OpenedDataset open_dataset(const DatasetRef& ref, MPI_Comm comm, const std::string& what);

/// Extents of a dataset as stored.
std::vector<hsize_t> dataset_dims(hid_t dataset);

/// Extents of a dataset's chunks (one per stored axis), or empty when it is not
/// chunked (contiguous, compact, virtual).
std::vector<hsize_t> chunk_dims(hid_t dataset);

/// The HDF5 address of the chunk of `dataset` that holds element `start` when
/// its bytes are the elements in C order: allocated, unfiltered, `chunk_bytes`
/// long; std::nullopt otherwise. Add user_block_bytes() for its file offset.
std::optional<std::int64_t> plain_chunk_address(hid_t dataset, const hsize_t* start,
                                                hsize_t chunk_bytes);

/// The user block of the file holding `object`: where HDF5's address 0 lies.
std::int64_t user_block_bytes(hid_t object);

/// An element type the way numpy users name it: "uint16", "float64",
/// "big-endian int32", "string", "compound", ...
std::string type_name(hid_t type);

/// The dataset's element type name (see type_name).
std::string dataset_type_name(hid_t dataset);

/// Reads the hyperslab [start, start + count) converted to the memory type
/// `mem_type` into `out`. Independent I/O.
void read_hyperslab(hid_t dataset, const std::vector<hsize_t>& start,
                    const std::vector<hsize_t>& count, hid_t mem_type, void* out);

/// read_hyperslab() into float32.
void read_floats(hid_t dataset, const std::vector<hsize_t>& start,
                 const std::vector<hsize_t>& count, float* out);

/// A dataset transfer property list for collective MPI-IO (H5FD_MPIO_COLLECTIVE).
PlistHandle collective_dxpl();

/// Transfers the hyperslab [start, start + count) of `dataset` as float32 to
/// (`write`: from) `data`, collectively; an empty `count` (or a zero in it) takes
/// part with an empty selection.
void transfer_floats_collective(hid_t dataset, const std::vector<hsize_t>& start,
                                const std::vector<hsize_t>& count, float* data, bool write);

/// As transfer_floats_collective() for any memory type `mem_type`.
void transfer_collective(hid_t dataset, const std::vector<hsize_t>& start,
                         const std::vector<hsize_t>& count, hid_t mem_type, void* data, bool write);

/// Throws InputError "<what>: axis <name> has size 0" for the first empty axis.
void require_nonempty_axes(const std::vector<hsize_t>& dims, const std::string& axis_names,
                           const std::string& what);

/// Throws h5decon::Error unless volume (c, t) of `shape` holds the box
/// [offset, offset + count) and `elements` == count.size(); `what` names the caller.
void require_box_inside(const Shape5& shape, std::int64_t c, std::int64_t t, const Shape3& offset,
                        const Shape3& count, std::size_t elements, const std::string& what);

/// Hyperslab start and count in a dataset stored with `axes` (a subsequence of
/// "ctzyx") for the box [offset, offset + count) of volume (c, t).
void box_selection(const std::string& axes, std::int64_t c, std::int64_t t, const Shape3& offset,
                   const Shape3& count, std::vector<hsize_t>& start, std::vector<hsize_t>& counts);

/// The same int on every rank: rank 0's value.
int broadcast_int(int value, MPI_Comm comm);

/// Replaces `values` on every rank with rank 0's.
void broadcast_strings(std::vector<std::string>& values, MPI_Comm comm);

/// Rank of this process in `comm`.
int comm_rank(MPI_Comm comm);

/// Writes a scalar string attribute as variable-length UTF-8, which h5py and
/// MATLAB read as text rather than bytes.
void write_string_attribute(hid_t object, const std::string& name, const std::string& value);

/// The `element_size_um` attribute of `object`: voxel size (z, y, x) in micrometres.
/// nullopt when absent or malformed (not 3 positive finite numbers): a voxel size
/// is metadata and a broken one must not stop a deconvolution.
std::optional<std::array<double, 3>> read_element_size_um(hid_t object);

/// The attribute `name` of `object` as text (attribute_text rules: a string, an
/// array of one-character strings joined, or numbers); nullopt when absent or other.
std::optional<std::string> text_attribute(hid_t object, const char* name);

/// The attributes of `object` that read as text: strings, and numbers (up to 64,
/// comma-separated), by name. Others (compound, long arrays) are left out.
std::map<std::string, std::string> text_attributes(hid_t object);

}  // namespace h5decon::io::detail
