// `h5decon merge`: shard checks, then a virtual dataset or a copy.
#include "h5decon/io/shard_merge.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "h5decon/error.hpp"
#include "h5decon/io/output_path.hpp"
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

/// One shard as found in its file.
struct ShardFile {
  DatasetRef ref;
  FileHandle file;  // before `dataset`: closed after it
  DatasetHandle dataset;
  std::int64_t index = 0, count = 0;
  std::string signature;
  Shape5 shape;
  std::vector<VolumeIndex> volumes;  // row -> (c, t)
  std::vector<hsize_t> dims, chunk;  // (v, z, y, x)
};

std::string read_string_attribute(hid_t object, const char* name, const std::string& what) {
  H5DECON_REQUIRE(H5Aexists(object, name) > 0, InputError, what, " has no '", name,
                  "' attribute: it is not a shard written by `h5decon run --shard`");
  const AttributeHandle attr(H5DECON_CHECK_H5(H5Aopen(object, name, H5P_DEFAULT)));
  const TypeHandle type(H5DECON_CHECK_H5(H5Aget_type(attr.get())));
  H5DECON_REQUIRE(H5Tis_variable_str(type.get()) > 0, InputError, what, ": attribute '", name,
                  "' is not a string");
  char* text = nullptr;
  H5DECON_CHECK_H5(H5Aread(attr.get(), type.get(), &text));
  std::string out = text ? text : "";
  H5free_memory(text);
  return out;
}

// "CxTxZxYxX" -> Shape5.
Shape5 parse_shape(const std::string& text, const std::string& what) {
  std::vector<std::int64_t> v;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, 'x')) v.push_back(std::atoll(part.c_str()));
  H5DECON_REQUIRE(v.size() == 5, InputError, what, ": attribute dataset_shape '", text,
                  "' is not CxTxZxYxX");
  return Shape5{v[0], v[1], {v[2], v[3], v[4]}};
}

std::vector<VolumeIndex> read_volume_list(hid_t dataset, const std::string& what) {
  H5DECON_REQUIRE(H5Aexists(dataset, "shard_volumes") > 0, InputError, what,
                  " has no 'shard_volumes' attribute");
  const AttributeHandle attr(H5DECON_CHECK_H5(H5Aopen(dataset, "shard_volumes", H5P_DEFAULT)));
  const SpaceHandle space(H5DECON_CHECK_H5(H5Aget_space(attr.get())));
  const auto n = H5DECON_CHECK_H5(H5Sget_simple_extent_npoints(space.get()));
  std::vector<VolumeIndex> volumes(static_cast<std::size_t>(n / 2));
  H5DECON_CHECK_H5(H5Aread(attr.get(), H5T_NATIVE_INT64, volumes.data()));
  return volumes;
}

void open_shard(ShardFile& s) {
  const std::string what = "shard '" + s.ref.str() + "'";
  std::error_code ec;
  if (!fs::exists(s.ref.file, ec)) {
    H5DECON_REQUIRE(!fs::exists(partial_file(s.ref.file), ec), InputError, what,
                    " is incomplete: its run was interrupted ('", partial_file(s.ref.file),
                    "' exists); finish it with `h5decon run ... --resume` first");
    throw InputError(what + ": file not found");
  }
  const hid_t f = H5Fopen(s.ref.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  H5DECON_REQUIRE(f >= 0, InputError, what, ": not an HDF5 file (or unreadable)");
  s.file = FileHandle(f);
  const hid_t d = H5Dopen2(s.file.get(), s.ref.path.c_str(), H5P_DEFAULT);
  H5DECON_REQUIRE(d >= 0, InputError, what, ": no dataset '", s.ref.path, "'");
  s.dataset = DatasetHandle(d);
  const std::string shard = read_string_attribute(d, "shard", what);
  char slash = 0;
  std::istringstream(shard) >> s.index >> slash >> s.count;
  H5DECON_REQUIRE(slash == '/' && s.count > 0, InputError, what, ": attribute shard '", shard,
                  "' is not K/N");
  s.signature = read_string_attribute(d, "shard_signature", what);
  s.shape = parse_shape(read_string_attribute(d, "dataset_shape", what), what);
  s.volumes = read_volume_list(d, what);
  s.dims = detail::dataset_dims(d);
  const auto& v = s.shape.volume;
  const std::vector<hsize_t> expected{s.volumes.size(), hsize_t(v.z), hsize_t(v.y), hsize_t(v.x)};
  H5DECON_REQUIRE(s.dims == expected, InputError, what,
                  ": its dataset's shape does not match its attributes");
  const PlistHandle dcpl(H5DECON_CHECK_H5(H5Dget_create_plist(d)));
  s.chunk.assign(4, 1);
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED)
    H5DECON_CHECK_H5(H5Pget_chunk(dcpl.get(), 4, s.chunk.data()));
}

// The input file named by a shard signature's "input=FILE:/path" line, or "".
std::string signature_input_file(const std::string& signature) {
  std::istringstream in(signature);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("input=")) {
      const std::string ref = line.substr(6);
      const auto colon = ref.rfind(':');
      return colon == std::string::npos ? ref : ref.substr(0, colon);
    }
  return {};
}

// Every "key=value" line of signature `a` that `b` lacks, as "key=a (shard 0: key=b)".
std::string differences(const std::string& a, const std::string& b) {
  auto lines = [](const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
      out[line.substr(0, line.find('='))] = line;
    return out;
  };
  const auto la = lines(a), lb = lines(b);
  std::string out;
  auto add = [&out](const std::string& text) { out += (out.empty() ? "" : "; ") + text; };
  for (const auto& [key, line] : la) {
    const auto other = lb.find(key);
    if (other == lb.end()) add(line + " (shard 0: not set)");
    else if (other->second != line) add(line + " (shard 0: " + other->second + ")");
  }
  for (const auto& [key, line] : lb)
    if (!la.count(key)) add(key + " not set (shard 0: " + line + ")");
  return out;
}

// Every check that the shards make one whole.
void check_shards(const std::vector<ShardFile>& shards) {
  const ShardFile& first = shards.at(0);
  std::map<std::int64_t, std::string> by_index;
  std::map<VolumeIndex, std::string> owner;
  for (const ShardFile& s : shards) {
    const std::string what = "shard '" + s.ref.file + "'";
    H5DECON_REQUIRE(s.signature == first.signature, InputError, what,
                    " belongs to another run (input or settings differ from '", first.ref.file,
                    "'): ", differences(s.signature, first.signature));
    H5DECON_REQUIRE(s.count == first.count, InputError, what, " is shard ", s.index, "/", s.count,
                    " but '", first.ref.file, "' is one of ", first.count);
    const auto [it, fresh] = by_index.emplace(s.index, s.ref.file);
    H5DECON_REQUIRE(fresh, InputError, what, " and '", it->second, "' are both shard ", s.index,
                    "/", s.count);
    for (const VolumeIndex& v : s.volumes) {
      const auto [at, once] = owner.emplace(v, s.ref.file);
      H5DECON_REQUIRE(once, InputError, "volume (c=", v[0], ", t=", v[1], ") is in both '",
                      at->second, "' and '", s.ref.file, "'");
    }
  }
  for (std::int64_t k = 0; k < first.count; ++k)
    H5DECON_REQUIRE(by_index.count(k), InputError, "shard ", k, "/", first.count,
                    " is missing: give all ", first.count, " shard files (", shards.size(),
                    " given)");
  const std::int64_t volumes = first.shape.c * first.shape.t;
  H5DECON_REQUIRE(static_cast<std::int64_t>(owner.size()) == volumes, InputError,
                  "the shards hold ", owner.size(), " of the ", volumes, " (c, t) volumes");
}

}  // namespace
}  // namespace h5decon::io

namespace h5decon::io {
namespace {

// The shard's file name as the virtual dataset stores it: relative to the
// output's directory when below it (HDF5 looks there first), else absolute.
std::string source_name(const std::string& shard, const std::string& output) {
  std::error_code ec;
  const fs::path out_dir = fs::absolute(output, ec).parent_path();
  const fs::path abs = fs::absolute(shard, ec).lexically_normal();
  const fs::path rel = abs.lexically_relative(out_dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return abs.string();
}

std::vector<hsize_t> dims5(const Shape5& s) {
  return {hsize_t(s.c), hsize_t(s.t), hsize_t(s.volume.z), hsize_t(s.volume.y),
          hsize_t(s.volume.x)};
}

// A 5D space with volume (c, t) selected, and the shard's 4D space with row v.
SpaceHandle volume_in_output(const Shape5& shape, const VolumeIndex& ct) {
  const auto dims = dims5(shape);
  SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(5, dims.data(), nullptr)));
  const hsize_t start[5] = {hsize_t(ct[0]), hsize_t(ct[1]), 0, 0, 0};
  const hsize_t count[5] = {1, 1, dims[2], dims[3], dims[4]};
  H5DECON_CHECK_H5(
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr));
  return space;
}

SpaceHandle row_in_shard(const ShardFile& s, std::size_t row, hsize_t z0 = 0, hsize_t nz = 0) {
  SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(4, s.dims.data(), nullptr)));
  const hsize_t start[4] = {row, z0, 0, 0};
  const hsize_t count[4] = {1, nz ? nz : s.dims[1], s.dims[2], s.dims[3]};
  H5DECON_CHECK_H5(
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr));
  return space;
}

PlistHandle virtual_dcpl(const std::vector<ShardFile>& shards, const std::string& output) {
  PlistHandle dcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  const float zero = 0.0f;
  H5DECON_CHECK_H5(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_FLOAT, &zero));
  for (const ShardFile& s : shards) {
    const std::string name = source_name(s.ref.file, output);
    for (std::size_t row = 0; row < s.volumes.size(); ++row) {
      const SpaceHandle vspace = volume_in_output(s.shape, s.volumes[row]);
      const SpaceHandle sspace = row_in_shard(s, row);
      H5DECON_CHECK_H5(
          H5Pset_virtual(dcpl.get(), vspace.get(), name.c_str(), s.ref.path.c_str(), sspace.get()));
    }
  }
  return dcpl;
}

PlistHandle copy_dcpl(const ShardFile& s) {
  PlistHandle dcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  const hsize_t chunk[5] = {1, 1, s.chunk[1], s.chunk[2], s.chunk[3]};
  H5DECON_CHECK_H5(H5Pset_chunk(dcpl.get(), 5, chunk));
  const float zero = 0.0f;
  H5DECON_CHECK_H5(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_FLOAT, &zero));
  return dcpl;
}

// Copies every volume of `s` into `out` in slabs of the chunk's depth: memory
// stays at one slab. Returns the bytes copied.
std::int64_t copy_shard(const ShardFile& s, hid_t out) {
  const hsize_t depth = std::max<hsize_t>(1, s.chunk[1]);
  const hsize_t plane = s.dims[2] * s.dims[3];
  std::vector<float> slab(static_cast<std::size_t>(depth * plane));
  std::int64_t bytes = 0;
  for (std::size_t row = 0; row < s.volumes.size(); ++row)
    for (hsize_t z = 0; z < s.dims[1]; z += depth) {
      const hsize_t nz = std::min(depth, s.dims[1] - z);
      const SpaceHandle from = row_in_shard(s, row, z, nz);
      const hsize_t mem_dims[1] = {nz * plane};
      const SpaceHandle mem(H5DECON_CHECK_H5(H5Screate_simple(1, mem_dims, nullptr)));
      H5DECON_CHECK_H5(H5Dread(s.dataset.get(), H5T_NATIVE_FLOAT, mem.get(), from.get(),
                               H5P_DEFAULT, slab.data()));
      const SpaceHandle to(H5DECON_CHECK_H5(H5Dget_space(out)));
      const hsize_t start[5] = {hsize_t(s.volumes[row][0]), hsize_t(s.volumes[row][1]), z, 0, 0};
      const hsize_t count[5] = {1, 1, nz, s.dims[2], s.dims[3]};
      H5DECON_CHECK_H5(
          H5Sselect_hyperslab(to.get(), H5S_SELECT_SET, start, nullptr, count, nullptr));
      H5DECON_CHECK_H5(
          H5Dwrite(out, H5T_NATIVE_FLOAT, mem.get(), to.get(), H5P_DEFAULT, slab.data()));
      bytes += static_cast<std::int64_t>(nz * plane * sizeof(float));
    }
  return bytes;
}

bool shard_only(const std::string& name) {
  return name == "shard" || name == "shard_volumes" || name == "shard_volumes_ct" ||
         name == "shard_signature" || name == "dataset_shape" || name == "axes" ||
         name == "resume_log";
}

// The provenance of shard 0 (every shard has the same settings), less the
// attributes that describe one shard.
void copy_attributes(hid_t from, hid_t to) {
  H5O_info_t info;
  H5DECON_CHECK_H5(H5Oget_info2(from, &info, H5O_INFO_NUM_ATTRS));
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const AttributeHandle attr(H5DECON_CHECK_H5(
        H5Aopen_by_idx(from, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT)));
    char name[256] = {};
    H5DECON_CHECK_H5(H5Aget_name(attr.get(), sizeof name, name));
    if (shard_only(name)) continue;
    const TypeHandle type(H5DECON_CHECK_H5(H5Aget_type(attr.get())));
    const SpaceHandle space(H5DECON_CHECK_H5(H5Aget_space(attr.get())));
    const auto n = std::max<hssize_t>(1, H5Sget_simple_extent_npoints(space.get()));
    std::vector<unsigned char> buffer(static_cast<std::size_t>(n) * H5Tget_size(type.get()));
    H5DECON_CHECK_H5(H5Aread(attr.get(), type.get(), buffer.data()));
    const AttributeHandle copy(
        H5DECON_CHECK_H5(H5Acreate2(to, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT)));
    const herr_t written = H5Awrite(copy.get(), type.get(), buffer.data());
    if (H5Tdetect_class(type.get(), H5T_VLEN) > 0 || H5Tis_variable_str(type.get()) > 0)
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buffer.data());
    H5DECON_CHECK_H5(written);
  }
}

std::string shard_list(const std::vector<ShardFile>& shards) {
  std::string out;
  for (const ShardFile& s : shards) {
    if (!out.empty()) out += '\n';
    out.append(std::to_string(s.index)).append("/").append(std::to_string(s.count));
    out.append(" ").append(s.ref.str());
  }
  return out;
}

}  // namespace

MergeReport merge_shards(const DatasetRef& output, const std::vector<DatasetRef>& refs,
                         const MergeOptions& options) {
  detail::silence_hdf5_errors();
  H5DECON_REQUIRE(!refs.empty(), InputError, "merge: no shard files given");
  std::vector<ShardFile> shards(refs.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    shards[i].ref = refs[i];
    open_shard(shards[i]);
  }
  // Never a shard, nor the input the shards were made from (named in their signature).
  ProtectedFiles inputs;
  for (const DatasetRef& r : refs) inputs.emplace_back(r.file, "one of the shards to merge");
  if (const std::string input = signature_input_file(shards[0].signature); !input.empty())
    inputs.emplace_back(input, "the input the shards were computed from");
  check_output_path(output.file, options.overwrite, inputs, "merge output");
  check_output_path(partial_file(output.file), true, inputs, "merge's partial output");
  std::sort(shards.begin(), shards.end(),
            [](const ShardFile& a, const ShardFile& b) { return a.index < b.index; });
  check_shards(shards);
  const std::string partial = partial_file(output.file);
  const PlistHandle fapl(H5DECON_CHECK_H5(H5Pcreate(H5P_FILE_ACCESS)));
  H5DECON_CHECK_H5(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110));
  const hid_t f = H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  H5DECON_REQUIRE(f >= 0, InputError, "output '", output.file, "': cannot create '", partial, "'");
  FileHandle file(f);
  const Shape5 shape = shards[0].shape;
  const auto dims = dims5(shape);
  const SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(5, dims.data(), nullptr)));
  const PlistHandle lcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  H5DECON_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  const PlistHandle dcpl = options.copy ? copy_dcpl(shards[0]) : virtual_dcpl(shards, output.file);
  DatasetHandle dataset(
      H5DECON_CHECK_H5(H5Dcreate2(file.get(), output.path.c_str(), H5T_IEEE_F32LE, space.get(),
                                  lcpl.get(), dcpl.get(), H5P_DEFAULT)));
  MergeReport report{static_cast<std::int64_t>(shards.size()), shape.c * shape.t, shape, 0};
  if (options.copy)
    for (const ShardFile& s : shards) report.bytes_copied += copy_shard(s, dataset.get());
  copy_attributes(shards[0].dataset.get(), dataset.get());
  detail::write_string_attribute(dataset.get(), "axes", "ctzyx");
  detail::write_string_attribute(dataset.get(), "merged_shards", shard_list(shards));
  detail::write_string_attribute(dataset.get(), "merge_mode", options.copy ? "copy" : "virtual");
  detail::write_string_attribute(dataset.get(), "merge_command_line", options.command_line);
  dataset.close();
  file.close();
  std::error_code ec;
  fs::rename(partial, output.file, ec);
  H5DECON_REQUIRE(!ec, IoError, "output '", output.file, "': cannot rename '", partial,
                  "': ", ec.message());
  return report;
}

}  // namespace h5decon::io
