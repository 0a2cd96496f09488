// Reading the point spread function(s): from HDF5 one (z, y, x) PSF for every
// channel or a (c, z, y, x) stack with one per channel; from a TIFF stack one PSF
// for every channel, read on rank 0 and broadcast. Each with its voxel size.
#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>

#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "io/hdf5_common.hpp"
#include "io/tiff_psf.hpp"

namespace h5decon::io {
namespace {

// PSFs come from many tools: every standard integer and float type, either byte
// order, is read as float32 by HDF5 (a PSF is normalised, so rounding the
// largest 32/64-bit integers is harmless).
void require_psf_type(const std::string& name, const std::string& what) {
  std::string plain = name.starts_with("big-endian ") ? name.substr(11) : name;
  for (const char* ok : {"uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
                         "float32", "float64"})
    if (plain == ok) return;
  throw InputError(what + ": unsupported element type " + name +
                   "; supported: integers and floats of any size and byte order");
}

Volume read_psf_channel(hid_t dataset, const std::vector<hsize_t>& dims, std::int64_t c) {
  const std::size_t n = dims.size();
  const Shape3 shape{static_cast<std::int64_t>(dims[n - 3]), static_cast<std::int64_t>(dims[n - 2]),
                     static_cast<std::int64_t>(dims[n - 1])};
  Volume v(shape);
  std::vector<hsize_t> start(n, 0), count(dims);
  if (n == 4) {
    start[0] = static_cast<hsize_t>(c);
    count[0] = 1;
  }
  detail::read_floats(dataset, start, count, v.data.data());
  return v;
}

// One PSF is returned once per channel so that callers index by channel alike.
PsfFile read_opened_psfs(const detail::OpenedDataset& h5, const std::string& what,
                         std::int64_t channels) {
  const hid_t dataset = h5.dataset.get();
  const std::vector<hsize_t> dims = detail::dataset_dims(dataset);
  H5DECON_REQUIRE(dims.size() == 3 || dims.size() == 4, InputError, what, ": rank ", dims.size(),
                  " but expected 3 (z,y,x) or 4 (c,z,y,x)");
  require_psf_type(detail::dataset_type_name(dataset), what);
  detail::require_nonempty_axes(dims, dims.size() == 3 ? "zyx" : "czyx", what);
  if (dims.size() == 4)
    H5DECON_REQUIRE(static_cast<std::int64_t>(dims[0]) == channels, InputError, what, ": PSF has ",
                    dims[0], " channels but the data has ", channels);
  PsfFile out;
  out.element_size_um = detail::read_element_size_um(dataset);
  out.psfs.reserve(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    if (dims.size() == 3 && c > 0)
      out.psfs.push_back(out.psfs.front());
    else
      out.psfs.push_back(read_psf_channel(dataset, dims, c));
  }
  return out;
}

PsfFile read_hdf5_psfs(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels) {
  const std::string what = "PSF '" + ref.str() + "'";
  try {
    return read_opened_psfs(detail::open_dataset(ref, comm, what), what, channels);
  } catch (const IoError& e) {
    throw InputError(detail::damaged_message(what, e.what()));
  }
}

// Rank 0 reads the file (one reader, not every rank at once) and broadcasts its
// stack, or its error so that every rank throws the same InputError.
detail::TiffStack broadcast_tiff_stack(const std::string& file, MPI_Comm comm,
                                       const std::string& what) {
  detail::TiffStack stack;
  std::vector<std::string> problem{""};
  if (detail::comm_rank(comm) == 0) {
    try {
      stack = detail::read_tiff_stack(file, what);
      H5DECON_REQUIRE(stack.volume.data.size() <= std::size_t(INT_MAX), InputError, what, ": ",
                      stack.volume.shape.str(), " voxels are too many for a PSF");
    } catch (const std::exception& e) {
      problem[0] = e.what();
    }
  }
  detail::broadcast_strings(problem, comm);
  if (!problem[0].empty()) throw InputError(problem[0]);
  std::array<std::int64_t, 3> shape{stack.volume.shape.z, stack.volume.shape.y,
                                    stack.volume.shape.x};
  MPI_Bcast(shape.data(), 3, MPI_INT64_T, 0, comm);
  std::array<double, 4> voxel{stack.element_size_um ? 1.0 : 0.0};
  if (stack.element_size_um) std::copy_n(stack.element_size_um->begin(), 3, &voxel[1]);
  MPI_Bcast(voxel.data(), 4, MPI_DOUBLE, 0, comm);
  stack.volume.shape = Shape3{shape[0], shape[1], shape[2]};
  stack.volume.data.resize(static_cast<std::size_t>(stack.volume.shape.size()));
  MPI_Bcast(stack.volume.data.data(), static_cast<int>(stack.volume.data.size()), MPI_FLOAT, 0,
            comm);
  if (voxel[0] != 0) stack.element_size_um = std::array<double, 3>{voxel[1], voxel[2], voxel[3]};
  return stack;
}

PsfFile read_tiff_psfs(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels) {
  detail::TiffStack stack = broadcast_tiff_stack(ref.file, comm, "PSF '" + ref.file + "'");
  PsfFile out;
  out.element_size_um = stack.element_size_um;
  out.psfs.assign(static_cast<std::size_t>(channels), stack.volume);
  return out;
}

// A TIFF by name, or under another name ("psf.dat" with the default dataset path):
// rank 0 looks at the first bytes and every rank follows its answer.
bool is_tiff(const DatasetRef& ref, MPI_Comm comm) {
  if (ref.path.empty()) return true;
  const bool signature = detail::comm_rank(comm) == 0 && detail::has_tiff_signature(ref.file);
  return detail::broadcast_int(signature ? 1 : 0, comm) != 0;
}

}  // namespace

bool is_tiff_name(const std::string& file) {
  std::string ext = std::filesystem::path(file).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext == ".tif" || ext == ".tiff";
}

DatasetRef parse_psf_ref(const std::string& spec, const std::string& default_path) {
  if (is_tiff_name(spec)) return DatasetRef{spec, ""};
  DatasetRef ref = DatasetRef::parse(spec, default_path);
  H5DECON_REQUIRE(!is_tiff_name(ref.file), InputError, "'", spec,
                  "': a TIFF PSF is one z stack, named without a dataset path: '", ref.file, "'");
  return ref;
}

PsfFile read_psf_file(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels) {
  H5DECON_REQUIRE(channels >= 1, Error, "PSF '", ref.str(), "': asked for ", channels, " channels");
  return is_tiff(ref, comm) ? read_tiff_psfs(ref, comm, channels)
                            : read_hdf5_psfs(ref, comm, channels);
}

std::vector<Volume> read_psfs(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels) {
  return read_psf_file(ref, comm, channels).psfs;
}

}  // namespace h5decon::io
