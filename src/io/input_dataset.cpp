// The input dataset: validation on open, (c, t, z, y, x) view, box reads in the
// stored sample type or checked float32.
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "io/hdf5_common.hpp"
#include "io/volume_layout.hpp"

namespace h5decon::io {
namespace {

// Stored axis names for `axes` ("" = rank 5); the data model is (c, t, z, y, x)
// and rank 3/4 data must say which axes it has rather than have us guess.
std::string resolve_axes(const std::string& axes, std::size_t rank, const std::string& what) {
  if (axes.empty()) {
    H5DECON_REQUIRE(rank == 5, InputError, what, ": rank ", rank,
                    " but expected 5 (c,t,z,y,x); pass --axes for rank 3 or 4 (e.g. --axes zyx)");
    return "ctzyx";
  }
  H5DECON_REQUIRE(axes == "zyx" || axes == "czyx" || axes == "tzyx" || axes == "ctzyx", InputError,
                  what, ": unsupported --axes '", axes, "'; supported: zyx, czyx, tzyx, ctzyx");
  H5DECON_REQUIRE(axes.size() == rank, InputError, what, ": rank ", rank, " but --axes '", axes,
                  "' names ", axes.size(), " axes");
  return axes;
}

// Types whose every value float32 holds exactly, or nearly (float64), in either
// byte order: HDF5's conversion on reading (H5Dread to H5T_NATIVE_FLOAT) makes
// them float32. Wider integers (int32: values above 2^24) and compound or other
// classes are refused rather than silently rounded or guessed at.
DType parse_dtype(std::string name, const std::string& what) {
  if (name.starts_with("big-endian ")) name = name.substr(11);
  const std::pair<const char*, DType> known[] = {
      {"uint8", DType::uint8}, {"uint16", DType::uint16},   {"float32", DType::float32},
      {"int8", DType::int8},   {"int16", DType::int16},     {"float64", DType::float64}};
  for (const auto& [n, t] : known)
    if (name == n) return t;
  throw InputError(what + ": unsupported element type " + name +
                   "; supported: uint8, uint16, float32, and int8, int16, float64 (either byte "
                   "order) converted to float32");
}

Shape5 to_shape5(const std::vector<hsize_t>& dims, const std::string& axes) {
  Shape5 s{1, 1, {1, 1, 1}};
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto n = static_cast<std::int64_t>(dims[i]);
    switch (axes[i]) {
      case 'c':
        s.c = n;
        break;
      case 't':
        s.t = n;
        break;
      case 'z':
        s.volume.z = n;
        break;
      case 'y':
        s.volume.y = n;
        break;
      default:
        s.volume.x = n;
        break;
    }
  }
  return s;
}

// NaN/Inf refused; negatives set to 0 and counted.
std::int64_t check_values(std::span<float> box, std::int64_t c, std::int64_t t,
                          const Shape3& offset, const Shape3& count, const std::string& what) {
  const SampleCheck check = check_samples(box);
  refuse_nonfinite(check, what, c, t, offset, count);
  return check.negatives;
}

// A layout's volumes opened on `comm` (collective): rank 0 first inspects each
// dataset serially and every rank throws its verdict.
struct LayoutVolumes {
  detail::FileHandle file;
  std::vector<detail::DatasetHandle> datasets;
};

LayoutVolumes open_layout(const detail::VolumeLayout& layout, MPI_Comm comm,
                          const std::string& what) {
  std::vector<std::string> problem{""};
  if (detail::comm_rank(comm) == 0)
    for (const std::string& path : layout.paths)
      if (problem[0] = detail::inspect_dataset(
              {layout.data_file, path}, what + ", data file '" + layout.data_file + "'");
          !problem[0].empty())
        break;
  detail::broadcast_strings(problem, comm);
  if (!problem[0].empty()) throw InputError(problem[0]);
  LayoutVolumes out;
  const detail::PlistHandle fapl = detail::mpio_fapl(comm);
  out.file = detail::FileHandle(
      H5DECON_CHECK_H5(H5Fopen(layout.data_file.c_str(), H5F_ACC_RDONLY, fapl.get())));
  // HDF5's default chunk cache (1 MiB) each: a layout has a dataset per volume, and
  // a larger cache per dataset would keep chunks of every volume read.
  for (const std::string& path : layout.paths)
    out.datasets.emplace_back(
        H5DECON_CHECK_H5(H5Dopen2(out.file.get(), path.c_str(), H5P_DEFAULT)));
  return out;
}

// The layout found on rank 0 (a problem broadcast, so every rank throws the same),
// then on every rank from the same files.
std::optional<detail::VolumeLayout> agree_on_layout(const DatasetRef& ref, MPI_Comm comm) {
  std::vector<std::string> problem{""};
  if (detail::comm_rank(comm) == 0) try {
      detail::find_volume_layout(ref, "/data");
    } catch (const InputError& e) {
      problem[0] = e.what();
    }
  detail::broadcast_strings(problem, comm);
  if (!problem[0].empty()) throw InputError(problem[0]);
  return detail::find_volume_layout(ref, "/data");
}

}  // namespace

struct InputDataset::Impl {
  DatasetRef ref;
  std::string what;  // "input 'a.h5:/data'", the start of every message
  std::string axes;  // stored axes, a subsequence of "ctzyx"
  detail::OpenedDataset h5;
  Shape5 shape;
  DType dtype = DType::float32;
  std::optional<std::array<double, 3>> element_size_um;
  mutable std::atomic<bool> warned_negative{false};  // the warning is given once
  std::optional<detail::VolumeLayout> layout;  // volumes in separate datasets (BDV, Imaris)
  LayoutVolumes volumes;

  /// The dataset holding volume (c, t), and the hyperslab of the box in it.
  hid_t select(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
               std::vector<hsize_t>& start, std::vector<hsize_t>& counts) const {
    if (!layout) {
      detail::box_selection(axes, c, t, offset, count, start, counts);
      return h5.dataset.get();
    }
    detail::box_selection("zyx", 0, 0, offset, count, start, counts);
    return volumes.datasets[static_cast<std::size_t>(c * shape.t + t)].get();
  }

  /// The memory type samples of `type` are read in: BigDataViewer's int16 cells
  /// holding uint16 values are read as they are stored and their bits taken as uint16.
  hid_t sample_memory_type(SampleType type) const {
    return layout && layout->int16_holds_uint16 && type == SampleType::uint16 ? H5T_NATIVE_INT16
                                                                             : detail::native_type(type);
  }
  bool floats_need_samples() const { return layout && layout->int16_holds_uint16 && dtype == DType::uint16; }

  /// Reads the box of volume (c, t) into `out` (`elements` values of `mem_type`):
  /// independent I/O, failures named after this input.
  void read(std::int64_t c, std::int64_t t, const Shape3& offset, const Shape3& count,
            std::size_t elements, hid_t mem_type, void* out) const {
    detail::require_box_inside(shape, c, t, offset, count, elements, "reading " + what);
    if (elements == 0) return;  // HDF5 rejects empty hyperslabs; nothing to read anyway
    std::vector<hsize_t> start, counts;
    const hid_t dataset = select(c, t, offset, count, start, counts);
    try {
      detail::read_hyperslab(dataset, start, counts, mem_type, out);
    } catch (const IoError& e) {  // a checksum, a damaged chunk index: the input is at fault
      throw InputError(detail::damaged_message(what, e.what()));
    }
  }

  /// The layout's volumes: one 3D dataset each, one element type, each holding the
  /// image (its extent, or the first volume's shape).
  void open_volumes(MPI_Comm comm) {
    volumes = open_layout(*layout, comm, what);
    std::string type;
    Shape3 extent{0, 0, 0};
    for (std::size_t i = 0; i < volumes.datasets.size(); ++i) {
      const hid_t dataset = volumes.datasets[i].get();
      const std::string where = what + ": '" + layout->paths[i] + "'";
      const std::vector<hsize_t> dims = detail::dataset_dims(dataset);
      H5DECON_REQUIRE(dims.size() == 3, InputError, where, " has rank ", dims.size(),
                      ", expected 3 (z, y, x)");
      const Shape3 stored{std::int64_t(dims[0]), std::int64_t(dims[1]), std::int64_t(dims[2])};
      if (i == 0) {
        type = detail::dataset_type_name(dataset);
        extent = layout->extent.value_or(stored);
      }
      H5DECON_REQUIRE(detail::dataset_type_name(dataset) == type, InputError, where, " is ",
                      detail::dataset_type_name(dataset), " but '", layout->paths[0], "' is ", type);
      H5DECON_REQUIRE(stored.z >= extent.z && stored.y >= extent.y && stored.x >= extent.x &&
                          (layout->extent || stored == extent),
                      InputError, where, " is ", stored.str(), " (z x y x x) but the image is ",
                      extent.str());
    }
    dtype = parse_dtype(type, what);
    if (layout->int16_holds_uint16 && dtype == DType::int16) dtype = DType::uint16;
    if (dtype != DType::uint16) layout->int16_holds_uint16 = false;
    shape = Shape5{layout->channels, layout->times, extent};
    element_size_um = layout->element_size_um;
  }

  /// A box of volume (c, t) as float32 through its stored samples (int16 cells
  /// holding uint16 values), read collectively or not.
  void read_floats_via_samples(std::int64_t c, std::int64_t t, const Shape3& offset,
                               const Shape3& count, std::span<float> out, bool collective) const {
    std::vector<std::uint16_t> samples(out.size());
    std::vector<hsize_t> start, counts;
    const hid_t dataset = select(c, t, offset, count, start, counts);
    if (collective)
      detail::transfer_collective(dataset, start, counts, H5T_NATIVE_INT16, samples.data(), false);
    else
      read(c, t, offset, count, samples.size(), H5T_NATIVE_INT16, samples.data());
    for (std::size_t i = 0; i < samples.size(); ++i) out[i] = static_cast<float>(samples[i]);
  }
};

std::string input_data_file(const DatasetRef& ref) {
  const std::string ext = std::filesystem::path(ref.file).extension().string();
  return ext == ".xml" || ext == ".XML" ? detail::read_bdv_xml(ref.file).data_file : ref.file;
}

InputDataset::InputDataset(const DatasetRef& ref, MPI_Comm comm, const std::string& axes)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.ref = ref;
  d.what = "input '" + ref.str() + "'";
  d.layout = agree_on_layout(ref, comm);
  if (d.layout) {
    H5DECON_REQUIRE(axes.empty() || axes == "ctzyx", InputError, d.what,
                    ": --axes does not apply to a ", d.layout->format,
                    " input (its volumes are (z, y, x) datasets)");
    d.what = "input '" + ref.file + "' (" + d.layout->format + ", " + d.layout->summary + ")";
    try {
      d.open_volumes(comm);
    } catch (const IoError& e) {
      throw InputError(detail::damaged_message(d.what, e.what()));
    }
    return;
  }
  d.h5 = detail::open_dataset(ref, comm, d.what);
  const hid_t dataset = d.h5.dataset.get();
  try {
    const std::vector<hsize_t> dims = detail::dataset_dims(dataset);
    d.axes = resolve_axes(axes, dims.size(), d.what);
    d.dtype = parse_dtype(detail::dataset_type_name(dataset), d.what);
    detail::require_nonempty_axes(dims, d.axes, d.what);
    detail::require_plausible_dims(dims, d.what);
    d.shape = to_shape5(dims, d.axes);
    d.element_size_um = detail::read_element_size_um(dataset);
  } catch (const IoError& e) {
    throw InputError(detail::damaged_message(d.what, e.what()));
  }
}

InputDataset::~InputDataset() = default;
InputDataset::InputDataset(InputDataset&&) noexcept = default;
InputDataset& InputDataset::operator=(InputDataset&&) noexcept = default;

const DatasetRef& InputDataset::ref() const { return impl_->ref; }
Shape5 InputDataset::shape() const { return impl_->shape; }
DType InputDataset::dtype() const { return impl_->dtype; }
SampleType InputDataset::sample_type() const { return io::sample_type(impl_->dtype); }
const std::string& InputDataset::description() const { return impl_->what; }
std::optional<std::array<double, 3>> InputDataset::element_size_um() const {
  return impl_->element_size_um;
}
const std::string& InputDataset::data_file() const {
  return impl_->layout ? impl_->layout->data_file : impl_->ref.file;
}
std::string InputDataset::source() const {
  const Impl& d = *impl_;
  if (!d.layout) return d.ref.str();
  return d.ref.file + " (" + d.layout->format + ": " + d.layout->summary + " in " +
         d.layout->data_file + ")";
}
std::map<std::string, std::string> InputDataset::metadata() const {
  const Impl& d = *impl_;
  std::map<std::string, std::string> out{{"input_source", source()}};
  const std::vector<std::string> names = channel_names();
  if (!names.empty()) {
    std::string joined;
    for (const std::string& n : names) joined += (joined.empty() ? "" : "; ") + n;
    out["input_channel_names"] = joined;
  }
  const hid_t dataset = d.layout ? d.volumes.datasets.at(0).get() : d.h5.dataset.get();
  const hid_t file = d.layout ? d.volumes.file.get() : d.h5.file.get();
  for (auto& [name, value] : detail::text_attributes(dataset)) out["input_attr_" + name] = value;
  for (auto& [name, value] : detail::text_attributes(file)) out["input_root_" + name] = value;
  return out;
}
std::vector<std::string> InputDataset::channel_names() const {
  const Impl& d = *impl_;
  if (d.layout) return d.layout->channel_names;
  // An import's channel_names, or the names a run carried into its output.
  const auto attributes = detail::text_attributes(d.h5.dataset.get());
  std::vector<std::string> names;
  for (const char* key : {"channel_names", "input_channel_names"}) {
    const auto it = attributes.find(key);
    if (it == attributes.end()) continue;
    for (std::size_t at = 0;;) {
      const std::size_t end = it->second.find("; ", at);
      names.push_back(it->second.substr(at, end == std::string::npos ? end : end - at));
      if (end == std::string::npos) break;
      at = end + 2;
    }
    break;
  }
  if (std::int64_t(names.size()) != d.shape.c) names.clear();
  return names;
}

std::optional<Shape3> InputDataset::chunk_shape(std::int64_t c, std::int64_t t) const {
  const Impl& d = *impl_;
  const hid_t dataset =
      d.layout ? d.volumes.datasets[static_cast<std::size_t>(c * d.shape.t + t)].get()
               : d.h5.dataset.get();
  const std::vector<hsize_t> chunk = detail::chunk_dims(dataset);
  if (chunk.size() < 3) return std::nullopt;
  const std::size_t n = chunk.size();  // the stored axes end with z, y, x
  return Shape3{std::int64_t(chunk[n - 3]), std::int64_t(chunk[n - 2]), std::int64_t(chunk[n - 1])};
}

std::optional<std::int64_t> InputDataset::chunk_offset(std::int64_t c, std::int64_t t,
                                                       const Shape3& origin) const {
  const Impl& d = *impl_;
  if (d.h5.serial || std::endian::native != std::endian::little) return std::nullopt;
  std::vector<hsize_t> start, counts;
  const hid_t dataset = d.select(c, t, origin, {1, 1, 1}, start, counts);
  const std::vector<hsize_t> dims = detail::chunk_dims(dataset);
  if (dims.size() < 3) return std::nullopt;
  hsize_t elements = 1;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i + 3 < dims.size() && dims[i] != 1) return std::nullopt;  // a chunk of several volumes
    elements *= dims[i];
  }
  const detail::TypeHandle type(H5DECON_CHECK_H5(H5Dget_type(dataset)));
  if (H5Tequal(type.get(), d.sample_memory_type(sample_type())) <= 0) return std::nullopt;
  const auto address = detail::plain_chunk_address(
      dataset, start.data(), elements * static_cast<hsize_t>(sample_bytes(sample_type())));
  if (!address) return std::nullopt;
  return detail::user_block_bytes(dataset) + *address;
}

void InputDataset::read_samples(std::int64_t c, std::int64_t t, const Shape3& offset,
                                const Shape3& count, std::span<std::byte> out) const {
  const Impl& d = *impl_;
  const SampleType type = sample_type();
  const auto bytes = static_cast<std::size_t>(sample_bytes(type));
  H5DECON_REQUIRE(out.size() % bytes == 0, Error, "reading ", d.what, ": a buffer of ",
                  out.size(), " bytes for ", to_string(type), " samples");
  d.read(c, t, offset, count, out.size() / bytes, d.sample_memory_type(type), out.data());
}

void InputDataset::read_box(std::int64_t c, std::int64_t t, const Shape3& offset,
                            const Shape3& count, std::span<float> out) const {
  const Impl& d = *impl_;
  if (d.floats_need_samples()) {
    detail::require_box_inside(d.shape, c, t, offset, count, out.size(), "reading " + d.what);
    d.read_floats_via_samples(c, t, offset, count, out, false);
  } else {
    d.read(c, t, offset, count, out.size(), H5T_NATIVE_FLOAT, out.data());
  }
  const std::int64_t negatives = check_values(out, c, t, offset, count, d.what);
  if (negatives > 0 && !d.warned_negative.exchange(true))  // one warning per input
    std::cerr << "h5decon: warning: " << negatives_warning(d.what, c, t, negatives) << std::endl;
}

std::int64_t InputDataset::read_box_collective(std::int64_t c, std::int64_t t,
                                               const Shape3& offset, const Shape3& count,
                                               std::span<float> out) const {
  const Impl& d = *impl_;
  detail::require_box_inside(d.shape, c, t, offset, count, out.size(), "reading " + d.what);
  std::vector<hsize_t> start, counts;
  const hid_t dataset = d.select(c, t, offset, count, start, counts);
  if (d.floats_need_samples())
    d.read_floats_via_samples(c, t, offset, count, out, true);
  else if (!d.h5.serial)
    detail::transfer_floats_collective(dataset, start, counts, out.data(), false);
  else if (!out.empty())  // a virtual dataset: each rank reads its own box
    d.read(c, t, offset, count, out.size(), H5T_NATIVE_FLOAT, out.data());
  // After the collective call, so that no rank leaves it early; callers agree on errors.
  return check_values(out, c, t, offset, count, d.what);
}

Volume InputDataset::read_volume(std::int64_t c, std::int64_t t) const {
  Volume v(impl_->shape.volume);
  read_box(c, t, {0, 0, 0}, v.shape, v.span());
  return v;
}

}  // namespace h5decon::io
