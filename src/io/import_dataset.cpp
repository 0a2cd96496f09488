// The output of `h5decon import`: a chunked (c, t, z, y, x) dataset in the
// samples' own type, written by independent writes of whole z-slabs into
// "<file>.partial" and renamed when every rank has finished.
#include <algorithm>
#include <filesystem>

#include "h5decon/config.hpp"
#include "h5decon/error.hpp"
#include "h5decon/io/output_path.hpp"
#include "h5decon/io/tiff_import.hpp"
#include "h5decon/samples.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;

}  // namespace

struct ImportDataset::Impl {
  DatasetRef ref;
  std::string partial;
  MPI_Comm comm = MPI_COMM_NULL;
  Shape5 shape;
  SampleType type = SampleType::uint16;
  bool finished = false;
  detail::FileHandle file;
  detail::DatasetHandle dataset;
};

ImportDataset::ImportDataset(const DatasetRef& ref, const Shape5& shape, SampleType type,
                             const Shape3& chunk_in,
                             const std::optional<std::array<double, 3>>& voxel_um,
                             const std::map<std::string, std::string>& attributes,
                             const std::vector<std::string>& protected_files, bool overwrite,
                             MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5_errors();
  Impl& d = *impl_;
  d.ref = ref;
  d.partial = ref.file + ".partial";
  d.comm = comm;
  d.shape = shape;
  d.type = type;
  std::vector<std::string> problem{""};
  if (detail::comm_rank(comm) == 0) try {
      ProtectedFiles inputs;
      for (const std::string& f : protected_files) inputs.push_back({f, "an input file"});
      check_output_path(ref.file, overwrite, inputs, "import output");
      check_output_path(d.partial, true, inputs, "partial import output");
    } catch (const InputError& e) {
      problem[0] = e.what();
    }
  detail::broadcast_strings(problem, comm);
  if (!problem[0].empty()) throw InputError(problem[0]);

  const detail::PlistHandle fapl = detail::mpio_fapl(comm);
  H5DECON_CHECK_H5(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18));
  const hid_t f = H5Fcreate(d.partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  H5DECON_REQUIRE(f >= 0, InputError, "import output '", ref.file, "': cannot create '", d.partial,
                  "' (is the directory writable?)");
  d.file = detail::FileHandle(f);
  const auto dims5 = shape.dims();
  const std::vector<hsize_t> dims(dims5.begin(), dims5.end());
  const detail::SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(5, dims.data(), nullptr)));
  const hsize_t chunk[5] = {1, 1, hsize_t(std::clamp<std::int64_t>(chunk_in.z, 1, shape.volume.z)),
                            hsize_t(std::clamp<std::int64_t>(chunk_in.y, 1, shape.volume.y)),
                            hsize_t(std::clamp<std::int64_t>(chunk_in.x, 1, shape.volume.x))};
  const detail::PlistHandle dcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  H5DECON_CHECK_H5(H5Pset_chunk(dcpl.get(), 5, chunk));
  H5DECON_CHECK_H5(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY));
  H5DECON_CHECK_H5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER));
  const detail::PlistHandle lcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  H5DECON_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  d.dataset = detail::DatasetHandle(H5DECON_CHECK_H5(H5Dcreate2(
      d.file.get(), ref.path.c_str(), detail::file_type(type), space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT)));
  // Attributes are metadata: identical on every rank, so rank 0's are broadcast.
  std::vector<std::string> kv{"h5decon_version", H5DECON_VERSION, "h5decon_git_hash",
                              H5DECON_GIT_HASH, "axes", "ctzyx"};
  for (const auto& [name, value] : attributes) kv.insert(kv.end(), {name, value});
  detail::broadcast_strings(kv, comm);
  for (std::size_t i = 0; i + 1 < kv.size(); i += 2)
    detail::write_string_attribute(d.dataset.get(), kv[i], kv[i + 1]);
  std::array<double, 4> voxel{voxel_um ? 1.0 : 0.0};
  if (voxel_um) std::copy(voxel_um->begin(), voxel_um->end(), voxel.begin() + 1);
  MPI_Bcast(voxel.data(), 4, MPI_DOUBLE, 0, comm);
  if (voxel[0] != 0.0) {
    const hsize_t three = 3;
    const detail::SpaceHandle s3(H5DECON_CHECK_H5(H5Screate_simple(1, &three, nullptr)));
    const detail::AttributeHandle attr(H5DECON_CHECK_H5(H5Acreate2(
        d.dataset.get(), "element_size_um", H5T_IEEE_F64LE, s3.get(), H5P_DEFAULT, H5P_DEFAULT)));
    H5DECON_CHECK_H5(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, voxel.data() + 1));
  }
  H5DECON_CHECK_H5(H5Fflush(d.file.get(), H5F_SCOPE_GLOBAL));
}

ImportDataset::~ImportDataset() {
  if (!impl_ || impl_->finished) return;
  impl_->dataset.reset();
  impl_->file.reset();
  if (detail::comm_rank(impl_->comm) == 0) {  // not a result: never left to be mistaken for one
    std::error_code ec;
    fs::remove(impl_->partial, ec);
  }
}

void ImportDataset::write_planes(std::int64_t c, std::int64_t t, std::int64_t z0,
                                 std::int64_t planes, std::span<const std::byte> samples) {
  const Impl& d = *impl_;
  const Shape3 count{planes, d.shape.volume.y, d.shape.volume.x};
  H5DECON_REQUIRE(samples.size() == std::size_t(count.size() * sample_bytes(d.type)), Error,
                  "import: ", samples.size(), " bytes for ", count.str(), " samples");
  std::vector<hsize_t> start, counts;
  detail::box_selection("ctzyx", c, t, Shape3{z0, 0, 0}, count, start, counts);
  const detail::SpaceHandle file_space(H5DECON_CHECK_H5(H5Dget_space(d.dataset.get())));
  H5DECON_CHECK_H5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                       counts.data(), nullptr));
  const detail::SpaceHandle mem_space(H5DECON_CHECK_H5(H5Screate_simple(5, counts.data(), nullptr)));
  if (H5Dwrite(d.dataset.get(), detail::native_type(d.type), mem_space.get(), file_space.get(), H5P_DEFAULT,
               samples.data()) < 0)
    throw IoError(::h5decon::detail::concat("import output '", d.ref.file, "': writing to '",
                                            d.partial, "' failed: ", detail::hdf5_error_reason()));
}

void ImportDataset::finish() {
  Impl& d = *impl_;
  d.dataset.close();
  d.file.close();
  d.finished = true;
  std::vector<std::string> failure{""};
  if (detail::comm_rank(d.comm) == 0) {
    std::error_code ec;
    fs::rename(d.partial, d.ref.file, ec);
    if (ec) failure[0] = ec.message();
  }
  detail::broadcast_strings(failure, d.comm);
  H5DECON_REQUIRE(failure[0].empty(), IoError, "import output '", d.ref.file, "': cannot rename '",
                  d.partial, "' to it: ", failure[0]);
}

}  // namespace h5decon::io
