// `h5decon export --layout bdv`: output checks, the scale, and the BigDataViewer
// HDF5 file written volume by volume in slabs of z planes, then its XML.
//
// Layout (bigdataviewer-core's Hdf5ImageLoader): per setup (= channel) "sNN/
// resolutions" float64 [levels][x y z] and "sNN/subdivisions" int32 [levels][x y z]
// (the chunk shape); per time point, setup and level "tNNNNN/sNN/L/cells", (z, y, x)
// chunked by the subdivisions. The loader reads cells as H5T_NATIVE_INT16 and takes
// the bits as unsigned 16-bit, so cells are stored as int16 holding uint16 bit
// patterns: a uint16 file type would be converted (and values above 32767 clipped)
// on that read. The file keeps HDF5's earliest format so that the HDF5 1.8 inside
// Fiji's jhdf5 opens it.
#include "h5decon/io/bdv_export.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "h5decon/config.hpp"
#include "h5decon/error.hpp"
#include "h5decon/io/output_path.hpp"
#include "io/hdf5_common.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;
using detail::DatasetHandle;
using detail::FileHandle;
using detail::PlistHandle;
using detail::SpaceHandle;

constexpr double kStoredMax = 65535.0;

// Everything decided before the first byte is written.
struct ExportPlan {
  Shape5 shape;
  std::vector<PyramidLevel> levels;
  std::int64_t slab_depth = 1;  // level-0 z planes read at a time
  int deflate = 0;              // deflate level of the cells (0: none)
  double max_value = kStoredMax, scale = 1.0;
};

std::int64_t round_up(std::int64_t v, std::int64_t multiple) {
  return (v + multiple - 1) / multiple * multiple;
}


void check_outputs(const DatasetRef& input, const std::string& h5, const std::string& xml,
                   bool overwrite) {
  const std::string what = "export '" + h5 + "'";
  H5DECON_REQUIRE(fs::path(h5).has_filename() && fs::path(h5).extension() != ".xml", InputError,
                  what, ": name the .h5 file to write (the .xml is written beside it)");
  for (const std::string& out : {h5, xml, h5 + ".partial"})
    check_output_path(out, overwrite || out.ends_with(".partial"),
                      {{input.file, "the input file"}}, "export");
}

// What the input is, checked with InputDataset's messages (missing file or
// dataset, rank, axes, element type).
struct InputInfo {
  Shape5 shape;
  DType dtype = DType::float32;
  std::optional<std::array<double, 3>> element_size_um;
};

InputInfo inspect_input(const DatasetRef& ref, const std::string& axes) {
  const InputDataset in(ref, MPI_COMM_SELF, axes);
  return {in.shape(), in.dtype(), in.element_size_um()};
}

// The input read with HDF5's default (serial) driver: the MPI-IO driver cannot
// read virtual datasets (merged shard sets) before HDF5 1.14, and one process
// reads here anyway.
class SerialInput {
 public:
  SerialInput(const DatasetRef& ref, const std::string& axes, const Shape5& shape)
      : axes_(axes.empty() ? "ctzyx" : axes), shape_(shape), what_("input '" + ref.str() + "'") {
    const hid_t f = H5Fopen(ref.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    H5DECON_REQUIRE(f >= 0, InputError, what_, ": HDF5 cannot open the file (",
                    detail::hdf5_error_reason(), ")");
    file_ = FileHandle(f);
    const hid_t d = H5Dopen2(file_.get(), ref.path.c_str(), H5P_DEFAULT);
    H5DECON_REQUIRE(d >= 0, InputError, what_, ": cannot open the dataset (",
                    detail::hdf5_error_reason(), ")");
    dataset_ = DatasetHandle(d);
  }

  /// Planes [z, z + slab.shape.z) of volume (c, t) as float32 into `slab`.
  void read(std::int64_t c, std::int64_t t, std::int64_t z, Volume& slab) const {
    detail::require_box_inside(shape_, c, t, {z, 0, 0}, slab.shape, slab.data.size(),
                               "reading " + what_);
    std::vector<hsize_t> start, count;
    detail::box_selection(axes_, c, t, {z, 0, 0}, slab.shape, start, count);
    detail::read_floats(dataset_.get(), start, count, slab.data.data());
  }

 private:
  std::string axes_;
  Shape5 shape_;
  std::string what_;
  FileHandle file_;  // before `dataset_`: closed after it
  DatasetHandle dataset_;
};

// The largest finite value of the whole dataset, read slab by slab.
double dataset_max(const SerialInput& in, const Shape5& s, std::int64_t depth) {
  float max = 0.0f;
  for (std::int64_t c = 0; c < s.c; ++c)
    for (std::int64_t t = 0; t < s.t; ++t)
      for (std::int64_t z = 0; z < s.volume.z; z += depth) {
        Volume slab({std::min(depth, s.volume.z - z), s.volume.y, s.volume.x});
        in.read(c, t, z, slab);
        for (const float v : slab.data)
          if (v > max && std::isfinite(v)) max = v;
      }
  return max;
}

ExportPlan plan_export(const InputInfo& info, const SerialInput& in,
                       const BdvExportOptions& options, const std::array<double, 3>& voxel) {
  ExportPlan plan;
  plan.shape = info.shape;
  plan.levels = plan_pyramid(plan.shape.volume, voxel, options.levels);
  // A slab holds whole chunks of level 0 and whole voxels of every level.
  const std::int64_t deepest = plan.levels.back().factor.z;
  plan.slab_depth = round_up(std::max<std::int64_t>(plan.levels[0].chunk.z, 1), deepest);
  const bool integer_input = info.dtype == DType::uint8 || info.dtype == DType::uint16;
  if (options.max_value) {
    H5DECON_REQUIRE(std::isfinite(*options.max_value) && *options.max_value > 0.0, InputError,
                    "export: --max-value must be a positive number, got ", *options.max_value);
    plan.max_value = *options.max_value;
  } else if (!integer_input) {
    plan.max_value = dataset_max(in, plan.shape, plan.slab_depth);
    if (!(plan.max_value > 0.0)) plan.max_value = kStoredMax;  // all zero: keep zeros
  }
  plan.scale = kStoredMax / plan.max_value;
  H5DECON_REQUIRE(options.deflate >= 0 && options.deflate <= 9, InputError,
                  "export: the deflate level must be 0 (none) to 9, got ", options.deflate);
  plan.deflate = options.deflate;
  return plan;
}

}  // namespace
}  // namespace h5decon::io

namespace h5decon::io {
namespace {

void write_matrix(hid_t file, const std::string& path, hid_t file_type, hid_t mem_type,
                  const void* data, hsize_t rows) {
  const hsize_t dims[2] = {rows, 3};
  const SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(2, dims, nullptr)));
  const PlistHandle lcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  H5DECON_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  DatasetHandle d(H5DECON_CHECK_H5(H5Dcreate2(file, path.c_str(), file_type, space.get(),
                                              lcpl.get(), H5P_DEFAULT, H5P_DEFAULT)));
  H5DECON_CHECK_H5(H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
  d.close();
}

// "sNN/resolutions" (downsampling factors) and "sNN/subdivisions" (chunks), x y z.
void write_mipmap_tables(hid_t file, std::int64_t setup, const std::vector<PyramidLevel>& levels) {
  std::vector<double> resolutions;
  std::vector<std::int32_t> subdivisions;
  for (const PyramidLevel& l : levels)
    for (int a = 2; a >= 0; --a) {
      resolutions.push_back(double(l.factor[a]));
      subdivisions.push_back(static_cast<std::int32_t>(l.chunk[a]));
    }
  const std::string group = bdv_setup_path(setup);
  write_matrix(file, group + "/resolutions", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, resolutions.data(),
               levels.size());
  write_matrix(file, group + "/subdivisions", H5T_STD_I32LE, H5T_NATIVE_INT32, subdivisions.data(),
               levels.size());
}

// A dataset access list for one level's cells. A level whose slabs end inside
// chunks gets a chunk cache holding a whole layer of chunks twice over: a chunk
// written by two slabs then stays in memory until it is complete. Aligned levels
// (level 0 always) keep HDF5's small default cache and write whole chunks.
PlistHandle cells_access(const PyramidLevel& level, std::int64_t slab_depth) {
  PlistHandle dapl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_ACCESS)));
  const std::int64_t planes = slab_depth / level.factor.z;
  if (planes % level.chunk.z == 0 || planes >= level.extent.z) return dapl;
  const std::int64_t layer_chunks = ((level.extent.y + level.chunk.y - 1) / level.chunk.y) *
                                    ((level.extent.x + level.chunk.x - 1) / level.chunk.x);
  const auto bytes = static_cast<std::size_t>(2 * layer_chunks * level.chunk.size() * 2);
  const auto slots = static_cast<std::size_t>(20 * layer_chunks + 1);
  H5DECON_CHECK_H5(H5Pset_chunk_cache(dapl.get(), std::max<std::size_t>(slots, 521),
                                      std::max<std::size_t>(bytes, 1 << 20), 1.0));
  return dapl;
}

// One level's cells: int16, (z, y, x), chunked by the level's subdivisions,
// deflated at level `deflate` (0: not).
DatasetHandle create_cells(hid_t file, const std::string& path, const PyramidLevel& level,
                           std::int64_t slab_depth, int deflate) {
  const hsize_t dims[3] = {hsize_t(level.extent.z), hsize_t(level.extent.y),
                           hsize_t(level.extent.x)};
  const hsize_t chunk[3] = {hsize_t(level.chunk.z), hsize_t(level.chunk.y), hsize_t(level.chunk.x)};
  const SpaceHandle space(H5DECON_CHECK_H5(H5Screate_simple(3, dims, nullptr)));
  const PlistHandle lcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  H5DECON_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  const PlistHandle dcpl(H5DECON_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  H5DECON_CHECK_H5(H5Pset_chunk(dcpl.get(), 3, chunk));
  if (deflate > 0) H5DECON_CHECK_H5(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)));
  H5DECON_CHECK_H5(H5Pset_obj_track_times(dcpl.get(), false));
  const PlistHandle dapl = cells_access(level, slab_depth);
  return DatasetHandle(H5DECON_CHECK_H5(H5Dcreate2(file, path.c_str(), H5T_STD_I16LE, space.get(),
                                                   lcpl.get(), dcpl.get(), dapl.get())));
}

// Values to the stored unsigned 16-bit range: clamped to [0, max], scaled, rounded.
void to_stored(std::span<const float> in, double scale, std::vector<std::uint16_t>& out) {
  out.resize(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double scaled = double(in[i]) * scale;  // NaN stores 0, +Inf 65535
    const double v = scaled > 0.0 ? std::min(scaled, kStoredMax) : 0.0;
    out[i] = static_cast<std::uint16_t>(std::lround(v));
  }
}

// Writes `slab` at plane `z` of a level's cells. The uint16 bits go out under the
// int16 memory type: the same bits as the file's int16, so HDF5 converts nothing.
void write_slab(hid_t cells, std::int64_t z, const Volume& slab, double scale,
                std::vector<std::uint16_t>& buffer) {
  to_stored(slab.span(), scale, buffer);
  const hsize_t start[3] = {hsize_t(z), 0, 0};
  const hsize_t count[3] = {hsize_t(slab.shape.z), hsize_t(slab.shape.y), hsize_t(slab.shape.x)};
  const SpaceHandle file_space(H5DECON_CHECK_H5(H5Dget_space(cells)));
  H5DECON_CHECK_H5(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr));
  const SpaceHandle mem(H5DECON_CHECK_H5(H5Screate_simple(3, count, nullptr)));
  H5DECON_CHECK_H5(
      H5Dwrite(cells, H5T_NATIVE_INT16, mem.get(), file_space.get(), H5P_DEFAULT, buffer.data()));
}

// Every level of volume (c, t): each slab of level-0 planes is written, then
// halved level by level. Slabs start on multiples of the deepest z factor, so a
// slab's downsampled planes are exactly those of the whole volume. Returns voxels written.
std::int64_t export_volume(const SerialInput& in, hid_t file, std::int64_t c, std::int64_t t,
                           const ExportPlan& plan) {
  std::vector<DatasetHandle> cells;
  for (std::size_t l = 0; l < plan.levels.size(); ++l)
    cells.push_back(create_cells(file, bdv_cells_path(t, c, static_cast<int>(l)), plan.levels[l],
                                 plan.slab_depth, plan.deflate));
  const Shape3 extent = plan.shape.volume;
  std::vector<std::uint16_t> buffer;
  std::int64_t voxels = 0;
  for (std::int64_t z = 0; z < extent.z; z += plan.slab_depth) {
    Volume slab({std::min(plan.slab_depth, extent.z - z), extent.y, extent.x});
    in.read(c, t, z, slab);
    for (std::size_t l = 0; l < plan.levels.size(); ++l) {
      if (l > 0) slab = downsample_mean(slab, halved_axes(plan.levels[l - 1], plan.levels[l]));
      write_slab(cells[l].get(), z / plan.levels[l].factor.z, slab, plan.scale, buffer);
      voxels += slab.shape.size();
    }
  }
  for (DatasetHandle& d : cells) d.close();
  return voxels;
}

void write_number_attribute(hid_t object, const char* name, const double* values, hsize_t n) {
  const SpaceHandle space(
      H5DECON_CHECK_H5(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr)));
  const detail::AttributeHandle attr(H5DECON_CHECK_H5(
      H5Acreate2(object, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT)));
  H5DECON_CHECK_H5(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, values));
}

// How to read the values back, and where they came from, on the file's root.
void write_provenance(hid_t root, const DatasetRef& input, const ExportPlan& plan,
                      const BdvExportReport& report, const std::string& command_line) {
  write_number_attribute(root, "value_scale", &plan.scale, 1);
  write_number_attribute(root, "max_value", &plan.max_value, 1);
  if (report.voxel_size_known)
    write_number_attribute(root, "element_size_um", report.voxel_size_um.data(), 3);
  detail::write_string_attribute(
      root, "value_encoding",
      "cells hold round(clamp(value, 0, max_value) * value_scale) as unsigned 16-bit "
      "integers, stored in BigDataViewer's int16 type: read them as uint16 and divide "
      "by value_scale for the exported values");
  detail::write_string_attribute(root, "source", input.str());
  detail::write_string_attribute(root, "h5decon_version", H5DECON_VERSION);
  detail::write_string_attribute(root, "h5decon_git_hash", H5DECON_GIT_HASH);
  detail::write_string_attribute(root, "export_command_line", command_line);
}

std::string xml_comment(const DatasetRef& input, const ExportPlan& plan) {
  std::ostringstream os;
  os.precision(10);
  os << "exported by h5decon " H5DECON_VERSION " from " << input.str()
     << "; values: uint16 = round(clamp(value, 0, " << plan.max_value << ") * " << plan.scale
     << ")";
  std::string text = os.str();
  // "--" may not appear inside an XML comment.
  for (auto at = text.find("--"); at != std::string::npos; at = text.find("--", at))
    text.replace(at, 2, "- -");
  return text;
}

void write_text_file(const std::string& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  H5DECON_REQUIRE(out.good(), IoError, "export: writing '", file,
                  "' failed (no space left, or no permission?)");
}

void rename_into_place(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  H5DECON_REQUIRE(!ec, IoError, "export: cannot rename '", from, "' to '", to, "': ", ec.message());
}

// The whole .h5 at `file`: mipmap tables, every level of every view, provenance.
// Returns the voxels written.
std::int64_t write_h5(const std::string& file, const SerialInput& in, const ExportPlan& plan,
                      const BdvExportReport& report, const DatasetRef& input,
                      const std::string& command_line) {
  // HDF5's default (earliest) format: the HDF5 1.8 inside Fiji's jhdf5 reads it.
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5DECON_REQUIRE(f >= 0, IoError, "export: cannot create '", file, "' (",
                  detail::hdf5_error_reason(), ")");
  FileHandle h5(f);
  for (std::int64_t c = 0; c < plan.shape.c; ++c) write_mipmap_tables(h5.get(), c, plan.levels);
  std::int64_t voxels = 0;
  for (std::int64_t t = 0; t < plan.shape.t; ++t)
    for (std::int64_t c = 0; c < plan.shape.c; ++c)
      voxels += export_volume(in, h5.get(), c, t, plan);
  write_provenance(h5.get(), input, plan, report, command_line);
  h5.close();  // closing flushes: a failure is reported, not logged
  return voxels;
}

}  // namespace

BdvExportReport export_bdv(const DatasetRef& input, const std::string& output_h5,
                           const BdvExportOptions& options) {
  detail::silence_hdf5_errors();
  BdvExportReport report;
  report.h5_file = output_h5;
  report.xml_file = bdv_xml_file(output_h5);
  check_outputs(input, report.h5_file, report.xml_file, options.overwrite);
  const InputInfo info = inspect_input(input, options.axes);
  if (info.element_size_um) {
    report.voxel_size_um = *info.element_size_um;
    report.voxel_size_known = true;
  }
  const SerialInput in(input, options.axes, info.shape);
  const ExportPlan plan = plan_export(info, in, options, report.voxel_size_um);
  report.shape = plan.shape;
  report.levels = plan.levels;
  report.max_value = plan.max_value;
  report.scale = plan.scale;

  const std::string h5_partial = partial_file(report.h5_file);
  const std::string xml_partial = partial_file(report.xml_file);
  report.voxels_written = write_h5(h5_partial, in, plan, report, input, options.command_line);
  const BdvXmlDescription xml{fs::path(report.h5_file).filename().string(), plan.shape,
                              report.voxel_size_um, xml_comment(input, plan)};
  write_text_file(xml_partial, bdv_xml(xml));
  // The .xml is what viewers open: it appears last, when the .h5 is complete.
  rename_into_place(h5_partial, report.h5_file);
  rename_into_place(xml_partial, report.xml_file);
  return report;
}

}  // namespace h5decon::io
