// Reading the point spread function(s) from HDF5: one (z, y, x) PSF for every
// channel or a (c, z, y, x) stack with one per channel.
#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io {
namespace {

// PSFs come from many tools and are often float64: accept every plain
// numeric type we can convert exactly or nearly so.
void require_psf_type(const std::string& name, const std::string& what) {
  H5DECON_REQUIRE(name == "uint8" || name == "uint16" || name == "float32" || name == "float64",
                  InputError, what, ": unsupported element type ", name,
                  "; supported: uint8, uint16, float32, float64");
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

}  // namespace

std::vector<Volume> read_psfs(const DatasetRef& ref, MPI_Comm comm, std::int64_t channels) {
  const std::string what = "PSF '" + ref.str() + "'";
  H5DECON_REQUIRE(channels >= 1, Error, what, ": asked for ", channels, " channels");
  const detail::OpenedDataset h5 = detail::open_dataset(ref, comm, what);
  const hid_t dataset = h5.dataset.get();
  const std::vector<hsize_t> dims = detail::dataset_dims(dataset);
  H5DECON_REQUIRE(dims.size() == 3 || dims.size() == 4, InputError, what, ": rank ", dims.size(),
                  " but expected 3 (z,y,x) or 4 (c,z,y,x)");
  require_psf_type(detail::dataset_type_name(dataset), what);
  detail::require_nonempty_axes(dims, dims.size() == 3 ? "zyx" : "czyx", what);
  if (dims.size() == 4)
    H5DECON_REQUIRE(static_cast<std::int64_t>(dims[0]) == channels, InputError, what, ": PSF has ",
                    dims[0], " channels but the data has ", channels);

  // A single PSF is returned once per channel so callers index by channel alike.
  std::vector<Volume> psfs;
  psfs.reserve(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    if (dims.size() == 3 && c > 0)
      psfs.push_back(psfs.front());
    else
      psfs.push_back(read_psf_channel(dataset, dims, c));
  }
  return psfs;
}

}  // namespace h5decon::io
