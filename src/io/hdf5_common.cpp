// Opening datasets with user-facing checks, element type names, hyperslab reads.
#include "io/hdf5_common.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "h5decon/error.hpp"

namespace h5decon::io::detail {
namespace {

namespace fs = std::filesystem;

// Why `name` cannot be opened as HDF5, or "" when it can.
std::string inspect_file(const std::string& name) {
  std::error_code ec;
  const fs::file_status st = fs::status(name, ec);
  if (st.type() == fs::file_type::not_found) return "file not found";
  if (ec) return "file cannot be read (" + ec.message() + ")";
  if (fs::is_directory(st)) return "'" + name + "' is a directory, not an HDF5 file";
  if (!std::ifstream(name, std::ios::binary)) return "file cannot be read (check its permissions)";
#if H5_VERSION_GE(1, 12, 0)
  const htri_t is_hdf5 = H5Fis_accessible(name.c_str(), H5P_DEFAULT);
#else
  const htri_t is_hdf5 = H5Fis_hdf5(name.c_str());
#endif
  if (is_hdf5 == 0) return "not an HDF5 file";
  // Negative: HDF5 could not even look, e.g. another program holds a lock on it.
  if (is_hdf5 < 0) return "HDF5 cannot open the file (" + hdf5_error_reason() + ")";
  return {};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

const char* object_kind(H5I_type_t type) {
  switch (type) {
    case H5I_GROUP:
      return "a group";
    case H5I_DATASET:
      return "a dataset";
    case H5I_DATATYPE:
      return "a named datatype";
    default:
      return "not a dataset";
  }
}

// Walks the path one link at a time: H5Lexists fails (rather than answering
// "no") when an intermediate link is missing, and checking each level lets the
// message say exactly what is wrong. H5Oopen + H5Iget_type tells a group from
// a dataset with one signature across HDF5 1.10 to 1.14 (H5Oget_info's changed).
ObjectHandle open_object(hid_t file, const std::string& path, const std::string& what) {
  const std::vector<std::string> parts = split_path(path);
  const std::string shown = "'" + path + "'";
  H5DECON_REQUIRE(!parts.empty(), InputError, what, ": '/' is a group, not a dataset");
  std::string prefix;
  ObjectHandle object;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    prefix += "/" + parts[i];
    const htri_t exists = H5DECON_CHECK_H5(H5Lexists(file, prefix.c_str(), H5P_DEFAULT));
    H5DECON_REQUIRE(exists > 0, InputError, what, ": no dataset ", shown, " in the file");
    object = ObjectHandle(H5Oopen(file, prefix.c_str(), H5P_DEFAULT));
    H5DECON_REQUIRE(object, InputError, what, ": '", prefix, "' cannot be opened (",
                    hdf5_error_reason(), "): a dangling link, or the file is damaged");
    const H5I_type_t type = H5Iget_type(object.get());
    const bool last = i + 1 == parts.size();
    if (!last && type != H5I_GROUP)
      throw InputError(::h5decon::detail::concat(what, ": '", prefix, "' is ", object_kind(type),
                                                 ", not a group, so ", shown, " does not exist"));
    if (last && type != H5I_DATASET)
      throw InputError(::h5decon::detail::concat(what, ": ", shown, " is ", object_kind(type),
                                                 ", not a dataset"));
  }
  return object;
}

// 'text', built by appending (GCC 12 warns falsely on "'" + std::string(...)).
std::string quoted(const char* text) {
  std::string q(1, '\'');
  q += text;
  q += '\'';
  return q;
}

// "" when HDF5 can apply every filter of the dataset's pipeline; else which one
// it cannot (a compressor whose plugin is not installed): reading would fail.
std::string unavailable_filter(hid_t dataset) {
  const PlistHandle dcpl(H5Dget_create_plist(dataset));
  const int filters = dcpl ? H5Pget_nfilters(dcpl.get()) : 0;
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t values = 0;
    char name[256] = "";
    const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &values,
                                           nullptr, sizeof name, name, &config);
    if (id < 0 || H5Zfilter_avail(id) > 0) continue;
    const char* plugins = std::getenv("HDF5_PLUGIN_PATH");
    std::string known_as;  // " ('lzf')" where the filter is named
    if (name[0]) known_as.append(" (").append(quoted(name)).append(")");
    return ::h5decon::detail::concat(
        "it is stored with HDF5 filter ", id, known_as,
        ", which is not available to this HDF5 library; install the filter's plugin and set "
        "HDF5_PLUGIN_PATH (now ",
        plugins ? quoted(plugins) : "unset", "), or rewrite the data without it (h5repack -f NONE)");
  }
  return {};
}

// Rank 0's serial look at the file before any collective open: why the dataset
// cannot be read (a damaged or truncated file, a missing object, a filter that
// is not installed), as the message to throw, or "" when it can.
}  // namespace

std::string inspect_dataset(const DatasetRef& ref, const std::string& what) {
  if (std::string problem = inspect_file(ref.file); !problem.empty()) return what + ": " + problem;
  const FileHandle file(H5Fopen(ref.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file) {
    const std::string reason = hdf5_error_reason();
    if (reason.find("unable to lock") != std::string::npos)
      return what + ": the file is locked by another program that has it open for writing (" +
             reason + "); wait until it has closed the file. If no program writes it (a "
             "file system without working locks), set HDF5_USE_FILE_LOCKING=FALSE";
    return what + ": HDF5 cannot open the file (" + reason +
           "): it is damaged or incomplete (a truncated copy?)";
  }
  try {
    const ObjectHandle object = open_object(file.get(), ref.path, what);
    if (std::string filter = unavailable_filter(object.get()); !filter.empty())
      return what + ": " + filter;
    // What every rank reads next, read here first: a damaged header fails on rank 0
    // alone, before any collective call, instead of in some ranks' collective open.
    require_plausible_dims(dataset_dims(object.get()), what);
    const TypeHandle type(H5DECON_CHECK_H5(H5Dget_type(object.get())));
    read_element_size_um(object.get());
    if (std::string sources = virtual_source_problem(object.get(), ref); !sources.empty())
      return what + ": " + sources;
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {  // an HDF5 call failed: the file's structure is damaged
    return damaged_message(what, e.what());
  }
  return {};
}

namespace {

// Rank 0 looks and broadcasts its verdict, so that every rank throws the same
// error instead of some ranks entering a collective H5Fopen the others skip.
void require_file_ok(const DatasetRef& ref, MPI_Comm comm, const std::string& what) {
  std::vector<std::string> problem{comm_rank(comm) == 0 ? inspect_dataset(ref, what) : ""};
  broadcast_strings(problem, comm);
  if (!problem[0].empty()) throw InputError(problem[0]);
}

// Exact names for the standard types; H5Tequal compares size, order, sign
// and precision at once.
std::string standard_type_name(hid_t type) {
  const std::pair<hid_t, const char*> known[] = {
      {H5T_STD_U8LE, "uint8"},     {H5T_STD_U8BE, "uint8"},
      {H5T_STD_I8LE, "int8"},      {H5T_STD_I8BE, "int8"},
      {H5T_STD_U16LE, "uint16"},   {H5T_STD_U16BE, "big-endian uint16"},
      {H5T_STD_I16LE, "int16"},    {H5T_STD_I16BE, "big-endian int16"},
      {H5T_STD_U32LE, "uint32"},   {H5T_STD_U32BE, "big-endian uint32"},
      {H5T_STD_I32LE, "int32"},    {H5T_STD_I32BE, "big-endian int32"},
      {H5T_STD_U64LE, "uint64"},   {H5T_STD_U64BE, "big-endian uint64"},
      {H5T_STD_I64LE, "int64"},    {H5T_STD_I64BE, "big-endian int64"},
      {H5T_IEEE_F32LE, "float32"}, {H5T_IEEE_F32BE, "big-endian float32"},
      {H5T_IEEE_F64LE, "float64"}, {H5T_IEEE_F64BE, "big-endian float64"},
  };
  for (const auto& [candidate, name] : known)
    if (H5Tequal(type, candidate) > 0) return name;
  return {};
}

}  // namespace

DatasetHandle with_chunk_cache(hid_t file, const std::string& path, DatasetHandle dataset) {
  const std::vector<hsize_t> chunk = chunk_dims(dataset.get());
  if (chunk.empty()) return dataset;
  const TypeHandle type(H5DECON_CHECK_H5(H5Dget_type(dataset.get())));
  double bytes = double(H5Tget_size(type.get()));
  for (const hsize_t n : chunk) bytes *= double(n);
  // Four chunks, from 1 MiB (HDF5's default) up to 256 MiB: a chunk larger than
  // the cache is read piecewise, row by row of the selection, on every region that
  // touches it (measured: 6x slower region reads with 4 MiB chunks and the default).
  const auto cache = static_cast<std::size_t>(std::clamp(4.0 * bytes, double(1 << 20), double(256 << 20)));
  const PlistHandle dapl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_ACCESS)));
  H5DECON_CHECK_H5(H5Pset_chunk_cache(dapl.get(), 12421, cache, H5D_CHUNK_CACHE_W0_DEFAULT));
  dataset.reset();
  return DatasetHandle(H5DECON_CHECK_H5(H5Dopen2(file, path.c_str(), dapl.get())));
}

hid_t native_type(SampleType type) {
  switch (type) {
    case SampleType::uint8:
      return H5T_NATIVE_UINT8;
    case SampleType::uint16:
      return H5T_NATIVE_UINT16;
    case SampleType::int8:
      return H5T_NATIVE_INT8;
    case SampleType::int16:
      return H5T_NATIVE_INT16;
    case SampleType::float32:
      break;
  }
  return H5T_NATIVE_FLOAT;
}

hid_t file_type(SampleType type) {
  switch (type) {
    case SampleType::uint8:
      return H5T_STD_U8LE;
    case SampleType::uint16:
      return H5T_STD_U16LE;
    case SampleType::int8:
      return H5T_STD_I8LE;
    case SampleType::int16:
      return H5T_STD_I16LE;
    case SampleType::float32:
      break;
  }
  return H5T_IEEE_F32LE;
}

bool is_hdf5_file(const std::string& file) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Fis_accessible(file.c_str(), H5P_DEFAULT) > 0;
#else
  return H5Fis_hdf5(file.c_str()) > 0;
#endif
}

PlistHandle mpio_fapl(MPI_Comm comm) {
  PlistHandle fapl(H5DECON_CHECK_H5(H5Pcreate(H5P_FILE_ACCESS)));
  H5DECON_CHECK_H5(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL));
  return fapl;
}

OpenedDataset open_dataset(const DatasetRef& ref, MPI_Comm comm, const std::string& what) {
  silence_hdf5_errors();
  require_file_ok(ref, comm, what);
  OpenedDataset out;
  try {
    const PlistHandle fapl = mpio_fapl(comm);
    out.file = FileHandle(H5DECON_CHECK_H5(H5Fopen(ref.file.c_str(), H5F_ACC_RDONLY, fapl.get())));
    ObjectHandle object = open_object(out.file.get(), ref.path, what);
    out.dataset = DatasetHandle(object.release());  // verified to be a dataset
    out.dataset = with_chunk_cache(out.file.get(), ref.path, std::move(out.dataset));
    const PlistHandle dcpl(H5DECON_CHECK_H5(H5Dget_create_plist(out.dataset.get())));
    if (H5Pget_layout(dcpl.get()) == H5D_VIRTUAL) {  // the same answer on every rank
      out.dataset = DatasetHandle();
      out.file = FileHandle(H5DECON_CHECK_H5(H5Fopen(ref.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)));
      out.dataset = DatasetHandle(open_object(out.file.get(), ref.path, what).release());
      out.serial = true;
    }
  } catch (const IoError& e) {
    throw InputError(damaged_message(what, e.what()));
  }
  return out;
}

void require_plausible_dims(const std::vector<hsize_t>& dims, const std::string& what) {
  // 2^31 voxels on one axis, or 2^48 in all (a petabyte of float32), is no
  // microscope's: a damaged header, refused before anything is planned for it.
  constexpr hsize_t kAxis = hsize_t{1} << 31, kTotal = hsize_t{1} << 48;
  hsize_t total = 1;
  std::string shape;
  for (hsize_t d : dims) {
    if (!shape.empty()) shape += 'x';
    shape += std::to_string(d);
  }
  for (hsize_t d : dims) {
    H5DECON_REQUIRE(d < kAxis && total <= kTotal / std::max<hsize_t>(d, 1), InputError, what,
                    ": shape ", shape, " is implausibly large (an axis of 2^31 or more, or 2^48 "
                    "voxels in all): is the file's header damaged?");
    total *= d;
  }
}

std::string virtual_source_problem(hid_t dataset, const DatasetRef& ref) {
  const PlistHandle dcpl(H5DECON_CHECK_H5(H5Dget_create_plist(dataset)));
  if (H5Pget_layout(dcpl.get()) != H5D_VIRTUAL) return {};
  std::size_t count = 0;
  H5DECON_CHECK_H5(H5Pget_virtual_count(dcpl.get(), &count));
  const fs::path folder = fs::path(ref.file).parent_path();
  for (std::size_t i = 0; i < count; ++i) {
    const ssize_t fn = H5Pget_virtual_filename(dcpl.get(), i, nullptr, 0);
    const ssize_t dn = H5Pget_virtual_dsetname(dcpl.get(), i, nullptr, 0);
    if (fn < 0 || dn < 0) return "its virtual dataset's mapping " + std::to_string(i) + " is damaged";
    std::string file(static_cast<std::size_t>(fn) + 1, '\0'), name(static_cast<std::size_t>(dn) + 1, '\0');
    H5Pget_virtual_filename(dcpl.get(), i, file.data(), file.size());
    H5Pget_virtual_dsetname(dcpl.get(), i, name.data(), name.size());
    file.resize(static_cast<std::size_t>(fn));
    name.resize(static_cast<std::size_t>(dn));
    if (file == ".") continue;  // the same file
    // HDF5 looks beside the virtual dataset's file first, then relative to the working folder.
    std::error_code ec;
    std::string found;
    for (const fs::path& p : {folder / file, fs::path(file)})
      if (fs::is_regular_file(p, ec) && found.empty()) found = p.string();
    const std::string source = "source file '" + file + "' (dataset '" + name + "')";
    if (found.empty())
      return "it is a virtual dataset (e.g. merged shards) and its " + source +
             " does not exist: reading it would give zeros for its part";
    if (!std::ifstream(found, std::ios::binary))
      return "it is a virtual dataset and its " + source + " cannot be read (permissions)";
    const FileHandle src(H5Fopen(found.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    const htri_t has = src ? H5Lexists(src.get(), name.c_str(), H5P_DEFAULT) : -1;
    if (has <= 0)
      return "it is a virtual dataset and its " + source +
             (src ? " has no such dataset" : " is not a readable HDF5 file");
  }
  return {};
}

void require_virtual_sources(hid_t dataset, const DatasetRef& ref, const std::string& what) {
  const std::string problem = virtual_source_problem(dataset, ref);
  H5DECON_REQUIRE(problem.empty(), InputError, what, ": ", problem);
}

std::string damaged_message(const std::string& what, const std::string& cause) {
  return what + ": the file is damaged or unreadable (" + cause + ")";
}

std::vector<hsize_t> dataset_dims(hid_t dataset) {
  const SpaceHandle space(H5DECON_CHECK_H5(H5Dget_space(dataset)));
  const int rank = H5DECON_CHECK_H5(H5Sget_simple_extent_ndims(space.get()));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5DECON_CHECK_H5(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr));
  return dims;
}

std::vector<hsize_t> chunk_dims(hid_t dataset) {
  const PlistHandle dcpl(H5DECON_CHECK_H5(H5Dget_create_plist(dataset)));
  if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return {};
  const int rank = H5Pget_chunk(dcpl.get(), 0, nullptr);
  std::vector<hsize_t> chunk(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank <= 0 || H5Pget_chunk(dcpl.get(), rank, chunk.data()) < 0) return {};
  return chunk;
}

std::optional<std::int64_t> plain_chunk_address(hid_t dataset, const hsize_t* start,
                                                hsize_t chunk_bytes) {
  unsigned filters = 0;
  haddr_t address = HADDR_UNDEF;
  hsize_t size = 0;
  if (H5Dget_chunk_info_by_coord(dataset, start, &filters, &address, &size) < 0 ||
      address == HADDR_UNDEF || filters != 0 || size != chunk_bytes)
    return std::nullopt;
  return static_cast<std::int64_t>(address);
}

std::int64_t user_block_bytes(hid_t object) {
  const FileHandle file(H5DECON_CHECK_H5(H5Iget_file_id(object)));
  const PlistHandle fcpl(H5DECON_CHECK_H5(H5Fget_create_plist(file.get())));
  hsize_t bytes = 0;
  H5DECON_CHECK_H5(H5Pget_userblock(fcpl.get(), &bytes));
  return static_cast<std::int64_t>(bytes);
}

std::string type_name(hid_t type) {
  if (std::string name = standard_type_name(type); !name.empty()) return name;
  const std::string bytes = std::to_string(H5Tget_size(type)) + "-byte";
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return "non-standard " + bytes + " integer";
    case H5T_FLOAT:
      return "non-standard " + bytes + " float";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "non-numeric " + bytes + " type";
  }
}

std::string dataset_type_name(hid_t dataset) {
  const TypeHandle type(H5DECON_CHECK_H5(H5Dget_type(dataset)));
  return type_name(type.get());
}

void read_hyperslab(hid_t dataset, const std::vector<hsize_t>& start,
                    const std::vector<hsize_t>& count, hid_t mem_type, void* out) {
  const SpaceHandle file_space(H5DECON_CHECK_H5(H5Dget_space(dataset)));
  H5DECON_CHECK_H5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                       count.data(), nullptr));
  const SpaceHandle mem_space(
      H5DECON_CHECK_H5(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr)));
  H5DECON_CHECK_H5(H5Dread(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out));
}

void read_floats(hid_t dataset, const std::vector<hsize_t>& start,
                 const std::vector<hsize_t>& count, float* out) {
  read_hyperslab(dataset, start, count, H5T_NATIVE_FLOAT, out);
}

PlistHandle collective_dxpl() {
  PlistHandle dxpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_XFER)));
  H5DECON_CHECK_H5(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE));
  return dxpl;
}

void transfer_collective(hid_t dataset, const std::vector<hsize_t>& start,
                         const std::vector<hsize_t>& count, hid_t mem_type, void* data,
                         bool write) {
  bool empty = count.empty();
  for (const hsize_t n : count) empty = empty || n == 0;
  const SpaceHandle file_space(H5DECON_CHECK_H5(H5Dget_space(dataset)));
  const hsize_t one = 1;
  const SpaceHandle mem_space(H5DECON_CHECK_H5(
      empty ? H5Screate_simple(1, &one, nullptr)
            : H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr)));
  if (empty) {
    H5DECON_CHECK_H5(H5Sselect_none(file_space.get()));
    H5DECON_CHECK_H5(H5Sselect_none(mem_space.get()));
  } else {
    H5DECON_CHECK_H5(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                                         count.data(), nullptr));
  }
  const PlistHandle dxpl = collective_dxpl();
  double dummy = 0.0;  // wide enough for one element of any of our types
  void* buf = empty ? static_cast<void*>(&dummy) : data;
  if (write)
    H5DECON_CHECK_H5(H5Dwrite(dataset, mem_type, mem_space.get(), file_space.get(), dxpl.get(), buf));
  else
    H5DECON_CHECK_H5(H5Dread(dataset, mem_type, mem_space.get(), file_space.get(), dxpl.get(), buf));
}

void transfer_floats_collective(hid_t dataset, const std::vector<hsize_t>& start,
                                const std::vector<hsize_t>& count, float* data, bool write) {
  transfer_collective(dataset, start, count, H5T_NATIVE_FLOAT, data, write);
}

void require_nonempty_axes(const std::vector<hsize_t>& dims, const std::string& axis_names,
                           const std::string& what) {
  for (std::size_t i = 0; i < dims.size() && i < axis_names.size(); ++i)
    H5DECON_REQUIRE(dims[i] > 0, InputError, what, ": axis ", axis_names[i], " has size 0");
}

void require_box_inside(const Shape5& shape, std::int64_t c, std::int64_t t, const Shape3& offset,
                        const Shape3& count, std::size_t elements, const std::string& what) {
  bool inside = c >= 0 && c < shape.c && t >= 0 && t < shape.t;
  for (int axis = 0; axis < 3; ++axis)
    inside = inside && offset[axis] >= 0 && count[axis] >= 0 &&
             offset[axis] + count[axis] <= shape.volume[axis];
  H5DECON_REQUIRE(inside, Error, what, ": box at (c=", c, ", t=", t, ", zyx offset ", offset.str(),
                  ", size ", count.str(), ") lies outside the dataset of shape ", shape.str());
  H5DECON_REQUIRE(elements == static_cast<std::size_t>(count.size()), Error, what, ": box of ",
                  count.str(), " needs ", count.size(), " elements but the buffer holds ",
                  elements);
}

void box_selection(const std::string& axes, std::int64_t c, std::int64_t t, const Shape3& offset,
                   const Shape3& count, std::vector<hsize_t>& start, std::vector<hsize_t>& counts) {
  start.clear();
  counts.clear();
  for (const char axis : axes) {
    const auto zyx = std::string("zyx").find(axis);
    const std::int64_t first = axis == 'c' ? c : axis == 't' ? t : offset[static_cast<int>(zyx)];
    const std::int64_t n = axis == 'c' || axis == 't' ? 1 : count[static_cast<int>(zyx)];
    start.push_back(static_cast<hsize_t>(first));
    counts.push_back(static_cast<hsize_t>(n));
  }
}

int broadcast_int(int value, MPI_Comm comm) {
  MPI_Bcast(&value, 1, MPI_INT, 0, comm);
  return value;
}

void broadcast_strings(std::vector<std::string>& values, MPI_Comm comm) {
  std::vector<long long> sizes;
  std::string joined;
  for (const std::string& v : values) {
    sizes.push_back(static_cast<long long>(v.size()));
    joined += v;
  }
  const int count = broadcast_int(static_cast<int>(sizes.size()), comm);
  sizes.resize(static_cast<std::size_t>(count));
  MPI_Bcast(sizes.data(), count, MPI_LONG_LONG, 0, comm);
  long long total = 0;
  for (const long long n : sizes) total += n;
  joined.resize(static_cast<std::size_t>(total));
  MPI_Bcast(joined.data(), static_cast<int>(total), MPI_CHAR, 0, comm);
  values.clear();
  std::size_t pos = 0;
  for (const long long n : sizes) {
    values.push_back(joined.substr(pos, static_cast<std::size_t>(n)));
    pos += static_cast<std::size_t>(n);
  }
}

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

}  // namespace h5decon::io::detail

namespace h5decon::io {

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
#ifdef H5_HAVE_PARALLEL
  const char* kind = " (parallel)";
#else
  const char* kind = " (serial)";
#endif
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release) +
         kind;
}

}  // namespace h5decon::io
