// The output dataset: path checks, creation of "<file>.partial" with the
// provenance attributes, independent box writes, and the final rename.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "h5decon/config.hpp"
#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/io/output_path.hpp"
#include "io/chunk_write.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;
using detail::AttributeHandle;
using detail::DatasetHandle;
using detail::FileHandle;
using detail::PlistHandle;
using detail::SpaceHandle;
using detail::TypeHandle;

// After a failed write: says so when the file system holding `file` has less
// free space than the write needed (HDF5 reports only "file write failed").
std::string full_disk_note(const std::string& file, std::size_t bytes) {
  struct statvfs st {};
  const fs::path parent = fs::absolute(file).parent_path();
  if (::statvfs(parent.c_str(), &st) != 0) return {};
  const auto free = static_cast<unsigned long long>(st.f_bavail) * st.f_frsize;
  if (free >= bytes) return {};
  return ::h5decon::detail::concat(" (no space left on the file system of '", parent.string(),
                                   "': ", free, " bytes free, the block needs ", bytes,
                                   "; free space, then finish with --resume)");
}

// Rank 0 checks the output path (io::check_output_path) and broadcasts its
// verdict, so that every rank throws alike.
void require_output_ok(const std::string& out, const std::string& in, bool overwrite,
                       MPI_Comm comm) {
  std::vector<std::string> problem(1);
  if (detail::comm_rank(comm) == 0) {
    try {
      check_output_path(out, overwrite, {{in, "the input file"}});
      check_output_path(out + ".partial", true, {{in, "the input file"}}, "partial output");
    } catch (const InputError& e) {
      problem[0] = e.what();
    }
  }
  detail::broadcast_strings(problem, comm);
  if (!problem[0].empty()) throw InputError(problem[0]);
}

// Provenance as (name, value) string attributes. Parallel HDF5 needs identical
// metadata on every rank, and e.g. the backend text is easily built per rank,
// so these are broadcast from rank 0 before they are written.
std::vector<std::string> string_attributes(const Provenance& p, bool shard, MPI_Comm comm) {
  const std::pair<std::string, std::string> fixed[] = {
      {"h5decon_version", H5DECON_VERSION}, {"h5decon_git_hash", H5DECON_GIT_HASH},
      {"command_line", p.command_line},     {"algorithm", p.algorithm},
      {"psf_source", p.psf_source},         {"halo", p.halo},
      {"decomposition", p.decomposition},   {"backend", p.backend},
      {"axes", shard ? "vzyx" : "ctzyx"},
  };
  std::vector<std::string> kv;  // name, value, name, value, ...
  for (const auto& [name, value] : fixed) kv.insert(kv.end(), {name, value});
  for (const auto& [name, value] : p.options) kv.insert(kv.end(), {"opt_" + name, value});
  for (const auto& [name, value] : p.attributes) kv.insert(kv.end(), {name, value});
  detail::broadcast_strings(kv, comm);
  return kv;
}

void write_numeric_attribute(hid_t object, const char* name, hid_t file_type, hid_t mem_type,
                             hsize_t count, const void* values) {
  const SpaceHandle space(
      H5DECON_CHECK_H5(count == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr)));
  const AttributeHandle attr(
      H5DECON_CHECK_H5(H5Acreate2(object, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT)));
  H5DECON_CHECK_H5(H5Awrite(attr.get(), mem_type, values));
}

void write_provenance(hid_t dataset, const Provenance& p, bool shard, MPI_Comm comm) {
  const std::vector<std::string> kv = string_attributes(p, shard, comm);
  for (std::size_t i = 0; i + 1 < kv.size(); i += 2)
    detail::write_string_attribute(dataset, kv[i], kv[i + 1]);
  // Numbers travel as doubles: [iterations, has voxel size, z, y, x].
  std::array<double, 5> nums{static_cast<double>(p.iterations), p.element_size_um ? 1.0 : 0.0};
  if (p.element_size_um) std::copy(p.element_size_um->begin(), p.element_size_um->end(), &nums[2]);
  MPI_Bcast(nums.data(), 5, MPI_DOUBLE, 0, comm);
  const int iterations = static_cast<int>(nums[0]);
  write_numeric_attribute(dataset, "iterations", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &iterations);
  if (nums[1] != 0.0)
    write_numeric_attribute(dataset, "element_size_um", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3,
                            &nums[2]);
}

// (v, z, y, x) rows of c, t: which volumes a shard holds, in storage order.
void write_volume_list(hid_t dataset, const std::vector<VolumeIndex>& volumes) {
  const hsize_t dims[2] = {volumes.size(), 2};
  const SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(2, dims, nullptr)));
  const AttributeHandle attr(H5DECON_CHECK_H5(
      H5Acreate2(dataset, "shard_volumes", H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT)));
  H5DECON_CHECK_H5(H5Awrite(attr.get(), H5T_NATIVE_INT64, volumes.data()));
}

// Replaces the string attribute `name` with its old text (if any) plus `line`.
void append_string_attribute(hid_t object, const std::string& name, const std::string& line) {
  std::string text;
  if (H5DECON_CHECK_H5(H5Aexists(object, name.c_str())) > 0) {
    {
      const AttributeHandle attr(H5DECON_CHECK_H5(H5Aopen(object, name.c_str(), H5P_DEFAULT)));
      const TypeHandle type(H5DECON_CHECK_H5(H5Aget_type(attr.get())));
      char* old = nullptr;
      if (H5Tis_variable_str(type.get()) > 0 && H5Aread(attr.get(), type.get(), &old) >= 0 &&
          old != nullptr) {
        text = std::string(old) + "\n";
        H5free_memory(old);
      }
    }
    H5DECON_CHECK_H5(H5Adelete(object, name.c_str()));
  }
  detail::write_string_attribute(object, name, text + line);
}

PlistHandle chunked_dcpl(const Shape5& shape, Shape3 chunk, bool shard, const std::string& what) {
  for (int a = 0; a < 3; ++a) chunk[a] = std::clamp<std::int64_t>(chunk[a], 1, shape.volume[a]);
  H5DECON_REQUIRE(chunk.size() * 4 < (std::int64_t{1} << 32), Error, what, ": chunk ", chunk.str(),
                  " exceeds HDF5's 4 GiB chunk limit");
  const hsize_t dims[5] = {1, 1, static_cast<hsize_t>(chunk.z), static_cast<hsize_t>(chunk.y),
                           static_cast<hsize_t>(chunk.x)};
  PlistHandle dcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  H5DECON_CHECK_H5(H5Pset_chunk(dcpl.get(), shard ? 4 : 5, shard ? dims + 1 : dims));
  const float zero = 0.0f;
  H5DECON_CHECK_H5(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_FLOAT, &zero));
  // Early allocation lets any rank write any chunk independently. The fill
  // value is recorded but not written: in parallel HDF5 that would write the
  // whole (often huge) dataset once more; never-written space reads as 0.
  H5DECON_CHECK_H5(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY));
  H5DECON_CHECK_H5(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER));
  return dcpl;
}

}  // namespace

struct OutputDataset::Impl {
  DatasetRef ref;
  std::string what;     // "output 'out.h5:/data'", the start of every message
  std::string partial;  // "<file>.partial", renamed to ref.file by finish()
  MPI_Comm comm = MPI_COMM_NULL;
  Shape5 shape;
  std::vector<VolumeIndex> volumes;          // a shard's volumes; empty: all
  std::map<VolumeIndex, std::int64_t> rows;  // (c, t) -> row of a shard's dataset
  bool finished = false;
  FileHandle file;  // declared before `dataset` so that the dataset closes first
  DatasetHandle dataset;
  Shape3 stored_chunk;  // the stored chunk's (z, y, x)
  // File offset of every chunk, by (row, chunk z, y, x), a row being a volume
  // (c * t_count + t) or a shard's row; -1 where the chunk is not a plain
  // allocated one; empty when the file is not little-endian float32 as stored.
  std::vector<std::int64_t> chunk_offsets;
  int fd = -1;  // the partial file, write-only, for write_chunks()

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { close_descriptor(); }

  std::vector<hsize_t> stored_dims() const;
  void create(Shape3 chunk, const Provenance& provenance);
  void reopen(const std::string& note);
  void map_chunks();
  bool close_descriptor();
  Shape3 chunk_grid() const;
  std::int64_t row_of(std::int64_t c, std::int64_t t) const;
};

Shape3 OutputDataset::Impl::chunk_grid() const {
  Shape3 g;
  for (int a = 0; a < 3; ++a) g[a] = (shape.volume[a] + stored_chunk[a] - 1) / stored_chunk[a];
  return g;
}

std::int64_t OutputDataset::Impl::row_of(std::int64_t c, std::int64_t t) const {
  if (volumes.empty()) return c * shape.t + t;
  const auto row = rows.find(VolumeIndex{c, t});
  H5DECON_REQUIRE(row != rows.end(), Error, "writing ", what, ": volume (c=", c, ", t=", t,
                  ") is not one of this shard's volumes");
  return row->second;
}

// The table of chunk offsets for write_chunks(), read once (HDF5's chunk index
// lookups, a few microseconds each) so that no write needs HDF5 afterwards, and
// a descriptor of the partial file of its own: pwrite at those offsets.
void OutputDataset::Impl::map_chunks() {
  const std::vector<hsize_t> dims = detail::chunk_dims(dataset.get());  // created chunked
  const std::size_t n = dims.size();
  for (int a = 0; a < 3; ++a) stored_chunk[a] = static_cast<std::int64_t>(dims[n - 3 + std::size_t(a)]);
  fd = ::open(partial.c_str(), O_WRONLY | O_CLOEXEC);
  H5DECON_REQUIRE(fd >= 0, IoError, what, ": cannot open '", partial,
                  "' for writing: ", std::strerror(errno));
  if constexpr (std::endian::native != std::endian::little) return;  // stored little-endian
  const std::int64_t base = detail::user_block_bytes(dataset.get());
  const Shape3 grid = chunk_grid();
  const std::int64_t row_count = volumes.empty() ? shape.c * shape.t
                                                 : static_cast<std::int64_t>(volumes.size());
  const auto chunk_bytes = static_cast<hsize_t>(stored_chunk.size()) * sizeof(float);
  chunk_offsets.reserve(static_cast<std::size_t>(row_count * grid.size()));
  std::vector<hsize_t> start;
  for (std::int64_t row = 0; row < row_count; ++row)
    for (std::int64_t z = 0; z < grid.z; ++z)
      for (std::int64_t y = 0; y < grid.y; ++y)
        for (std::int64_t x = 0; x < grid.x; ++x) {
          start.clear();
          if (volumes.empty()) start = {hsize_t(row / shape.t), hsize_t(row % shape.t)};
          else start = {hsize_t(row)};
          for (const std::int64_t i : {z * stored_chunk.z, y * stored_chunk.y, x * stored_chunk.x})
            start.push_back(static_cast<hsize_t>(i));
          const auto address = detail::plain_chunk_address(dataset.get(), start.data(), chunk_bytes);
          chunk_offsets.push_back(address ? base + *address : -1);
        }
}

bool OutputDataset::Impl::close_descriptor() {
  if (fd < 0) return true;
  const bool ok = ::close(fd) == 0;  // a network file system reports write errors here
  fd = -1;
  return ok;
}

std::vector<hsize_t> OutputDataset::Impl::stored_dims() const {
  const auto d5 = shape.dims();
  std::vector<hsize_t> dims(d5.begin(), d5.end());
  if (!volumes.empty()) {  // (v, z, y, x)
    dims.erase(dims.begin());
    dims[0] = volumes.size();
  }
  return dims;
}

void OutputDataset::Impl::create(Shape3 chunk, const Provenance& provenance) {
  const PlistHandle fapl = detail::mpio_fapl(comm);
  // v1.8 object headers move attributes to dense storage when there are many,
  // so no number of options hits the 64 KiB header limit; HDF5 >= 1.8 reads it.
  H5DECON_CHECK_H5(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18));
  const hid_t f = H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  H5DECON_REQUIRE(f >= 0, InputError, "output '", ref.file, "': cannot create '", partial,
                  "' (is the directory writable?)");
  file = FileHandle(f);
  const std::vector<hsize_t> dims = stored_dims();
  const SpaceHandle space(
      H5DECON_CHECK_H5(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr)));
  const PlistHandle lcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  H5DECON_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  const PlistHandle dcpl = chunked_dcpl(shape, chunk, !volumes.empty(), what);
  dataset =
      DatasetHandle(H5DECON_CHECK_H5(H5Dcreate2(file.get(), ref.path.c_str(), H5T_IEEE_F32LE,
                                                space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT)));
  write_provenance(dataset.get(), provenance, !volumes.empty(), comm);
  if (!volumes.empty()) write_volume_list(dataset.get(), volumes);
  // Everything but the data is on disk before the first block is written.
  H5DECON_CHECK_H5(H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
}

// The partial file of an interrupted run, reopened read-write (collective); its
// dataset must be float32 of the expected shape. Data and attributes stay.
void OutputDataset::Impl::reopen(const std::string& note) {
  const PlistHandle fapl = detail::mpio_fapl(comm);
  const hid_t f = H5Fopen(partial.c_str(), H5F_ACC_RDWR, fapl.get());
  H5DECON_REQUIRE(f >= 0, InputError, what, ": cannot reopen '", partial,
                  "' to resume it (missing, unreadable or not an HDF5 file)");
  file = FileHandle(f);
  const hid_t d = H5Dopen2(file.get(), ref.path.c_str(), H5P_DEFAULT);
  H5DECON_REQUIRE(d >= 0, InputError, what, ": '", partial, "' has no dataset '", ref.path,
                  "' to resume");
  dataset = DatasetHandle(d);
  const TypeHandle type(H5DECON_CHECK_H5(H5Dget_type(dataset.get())));
  const auto dims = detail::dataset_dims(dataset.get());
  H5DECON_REQUIRE(H5Tequal(type.get(), H5T_IEEE_F32LE) > 0 && dims == stored_dims(), InputError,
                  what, ": dataset '", ref.path, "' of '", partial,
                  "' does not have the shape and type this run writes; it cannot be resumed");
  std::vector<std::string> line{note};
  detail::broadcast_strings(line, comm);  // metadata must be identical on every rank
  if (!line[0].empty()) append_string_attribute(dataset.get(), "resume_log", line[0]);
  H5DECON_CHECK_H5(H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
}

namespace {
OutputOptions options_overwriting(bool overwrite) {
  OutputOptions o;
  o.overwrite = overwrite;
  return o;
}
}  // namespace

OutputDataset::OutputDataset(const DatasetRef& ref, const DatasetRef& input, Shape5 shape,
                             Shape3 chunk, const Provenance& provenance, bool overwrite,
                             MPI_Comm comm)
    : OutputDataset(ref, input, shape, chunk, provenance, options_overwriting(overwrite), comm) {}

OutputDataset::OutputDataset(const DatasetRef& ref, const DatasetRef& input, Shape5 shape,
                             Shape3 chunk, const Provenance& provenance,
                             const OutputOptions& options, MPI_Comm comm)
    : impl_(std::make_unique<Impl>()) {
  detail::silence_hdf5_errors();
  Impl& d = *impl_;
  d.ref = ref;
  d.what = "output '" + ref.str() + "'";
  d.partial = ref.file + ".partial";
  d.comm = comm;
  d.shape = shape;
  H5DECON_REQUIRE(
      shape.c > 0 && shape.t > 0 && shape.volume.z > 0 && shape.volume.y > 0 && shape.volume.x > 0,
      Error, d.what, ": cannot create a dataset of shape ", shape.str());
  d.volumes = options.volumes;
  for (std::size_t row = 0; row < d.volumes.size(); ++row) {
    const VolumeIndex& v = d.volumes[row];
    H5DECON_REQUIRE(v[0] >= 0 && v[0] < shape.c && v[1] >= 0 && v[1] < shape.t &&
                        d.rows.emplace(v, static_cast<std::int64_t>(row)).second,
                    Error, d.what, ": volume (c=", v[0], ", t=", v[1],
                    ") is outside the dataset or listed twice");
  }
  require_output_ok(ref.file, input.file, options.overwrite || options.resume, comm);
  if (options.resume)
    d.reopen(options.resume_note);
  else
    d.create(chunk, provenance);
  d.map_chunks();
}

OutputDataset::~OutputDataset() = default;
OutputDataset::OutputDataset(OutputDataset&&) noexcept = default;
OutputDataset& OutputDataset::operator=(OutputDataset&&) noexcept = default;

void OutputDataset::write_box(std::int64_t c, std::int64_t t, const Shape3& offset,
                              const Shape3& count, std::span<const float> data) {
  const Impl& d = *impl_;
  H5DECON_REQUIRE(!d.finished, Error, d.what, ": write after finish()");
  detail::require_box_inside(d.shape, c, t, offset, count, data.size(), "writing " + d.what);
  if (data.empty()) return;  // HDF5 rejects empty hyperslabs; nothing to write anyway
  std::vector<hsize_t> start, counts;
  if (d.volumes.empty()) {
    detail::box_selection("ctzyx", c, t, offset, count, start, counts);
  } else {  // a shard: (c, t) is a row of the (v, z, y, x) dataset
    detail::box_selection("tzyx", 0, d.row_of(c, t), offset, count, start, counts);
  }
  const SpaceHandle file_space(H5DECON_CHECK_H5(H5Dget_space(d.dataset.get())));
  H5DECON_CHECK_H5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                       counts.data(), nullptr));
  const SpaceHandle mem_space(
      H5DECON_CHECK_H5(H5Screate_simple(static_cast<int>(counts.size()), counts.data(), nullptr)));
  // A failed write (a full disk, a quota) names the file: the message says where.
  if (H5Dwrite(d.dataset.get(), H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(), H5P_DEFAULT,
               data.data()) < 0)
    throw IoError(::h5decon::detail::concat(d.what, ": writing to '", d.partial,
                                            "' failed: ", detail::hdf5_error_reason(),
                                            full_disk_note(d.partial, data.size_bytes())));
}

std::optional<ChunkWrite> OutputDataset::place_chunks(std::int64_t c, std::int64_t t,
                                                      const Shape3& offset,
                                                      const Shape3& count) const {
  const Impl& d = *impl_;
  detail::require_box_inside(d.shape, c, t, offset, count, count.size(), "writing " + d.what);
  if (d.chunk_offsets.empty()) return std::nullopt;
  auto pieces = detail::chunk_pieces(d.shape.volume, d.stored_chunk, offset, count);
  if (!pieces) return std::nullopt;
  const std::int64_t row = d.row_of(c, t);
  const Shape3 grid = d.chunk_grid();
  for (ChunkPiece& p : *pieces) {
    Shape3 index;
    for (int a = 0; a < 3; ++a) index[a] = (offset[a] + p.box_offset[a]) / d.stored_chunk[a];
    const std::int64_t at =
        d.chunk_offsets[static_cast<std::size_t>(((row * grid.z + index.z) * grid.y + index.y) * grid.x + index.x)];
    if (at < 0) return std::nullopt;
    p.file_offset = at;
  }
  return ChunkWrite{d.stored_chunk, count, std::move(*pieces)};
}

void OutputDataset::write_chunks(const ChunkWrite& placed, std::span<const float> data) const {
  const Impl& d = *impl_;
  H5DECON_REQUIRE(!d.finished, Error, d.what, ": write after finish()");
  H5DECON_REQUIRE(static_cast<std::int64_t>(data.size()) == placed.box.size(), Error, d.what,
                  ": box of ", placed.box.str(), " but ", data.size(), " values to write");
  if (const int e = detail::pwrite_pieces(d.fd, placed, data))
    throw IoError(::h5decon::detail::concat(d.what, ": writing to '", d.partial,
                                            "' failed: ", std::strerror(e),
                                            full_disk_note(d.partial, data.size_bytes())));
}

void OutputDataset::write_box_collective(std::int64_t c, std::int64_t t, const Shape3& offset,
                                         const Shape3& count, std::span<const float> data) {
  const Impl& d = *impl_;
  H5DECON_REQUIRE(!d.finished, Error, d.what, ": write after finish()");
  H5DECON_REQUIRE(d.volumes.empty(), Error, d.what,
                  ": collective writes to a shard are not supported");
  detail::require_box_inside(d.shape, c, t, offset, count, data.size(), "writing " + d.what);
  std::vector<hsize_t> start, counts;
  detail::box_selection("ctzyx", c, t, offset, count, start, counts);
  // HDF5 takes a non-const buffer for both directions; a write does not modify it.
  detail::transfer_floats_collective(d.dataset.get(), start, counts,
                                     const_cast<float*>(data.data()), true);
}

void OutputDataset::write_volume(std::int64_t c, std::int64_t t, const Volume& v) {
  H5DECON_REQUIRE(v.shape == impl_->shape.volume, Error, impl_->what, ": volume of ", v.shape.str(),
                  " but the dataset's volumes are ", impl_->shape.volume.str());
  write_box(c, t, {0, 0, 0}, v.shape, v.span());
}

namespace {

bool close_reporting(auto& handle) {
  try {
    handle.close();
    return true;
  } catch (const IoError&) {
    return false;
  }
}

}  // namespace

void OutputDataset::finish() {
  Impl& d = *impl_;
  H5DECON_REQUIRE(!d.finished, Error, d.what, ": finish() called twice");
  d.finished = true;
  // H5Fclose flushes and is collective; the reduction also acts as the barrier
  // that guarantees every rank's data is in the file before the rename.
  const int closed =
      d.close_descriptor() & close_reporting(d.dataset) & close_reporting(d.file);
  int all_closed = 0;
  MPI_Allreduce(&closed, &all_closed, 1, MPI_INT, MPI_MIN, d.comm);
  H5DECON_REQUIRE(all_closed == 1, IoError, d.what, ": closing '", d.partial,
                  "' failed on at least one rank; it is left in place");
  std::vector<std::string> failure(1);
  if (detail::comm_rank(d.comm) == 0) {
    std::error_code ec;
    fs::rename(d.partial, d.ref.file, ec);
    if (ec) failure[0] = ec.message();
  }
  detail::broadcast_strings(failure, d.comm);
  H5DECON_REQUIRE(failure[0].empty(), IoError, d.what, ": cannot rename '", d.partial, "' to '",
                  d.ref.file, "': ", failure[0]);
}

}  // namespace h5decon::io
