// `h5decon export --input OUT.h5[:/data] --layout bdv --output NAME.h5`
#include "export_command.hpp"

#include <mpi.h>

#include <chrono>
#include <iostream>
#include <string>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/bdv_export.hpp"
#include "h5decon/io/tiff_export.hpp"

namespace h5decon::app {
namespace {

const char* const kSynopsis =
    "--input OUT.h5[:/data] --layout bdv|tiff|ome-tiff --output NAME [--max-value M]\n"
    "       [--levels N|auto] [--deflate LEVEL] [--dtype float32|uint16] [--per-volume]\n"
    "       [--overwrite]";
const char* const kDescription =
    "Writes the dataset in a viewer's layout; the input stays h5decon's canonical\n"
    "float32 (c, t, z, y, x) output (a run's output, a merged shard set, or any\n"
    "dataset run accepts as input).\n"
    "\n"
    "--layout bdv: BigDataViewer's HDF5 layout, NAME.h5, and the XML beside it,\n"
    "NAME.xml, which Fiji opens directly (Plugins > BigDataViewer > Open XML/HDF5):\n"
    "one setup per channel, one time point per t, a pyramid of 2x mean-downsampled\n"
    "levels (anisotropic axes halved first) in chunks, and the voxel size from the\n"
    "input's element_size_um attribute (1,1,1 micrometre when it has none).\n"
    "BigDataViewer's HDF5 layout stores unsigned 16-bit values, so float values are\n"
    "scaled: stored = round(clamp(value, 0, M) * 65535 / M), with M the dataset's\n"
    "maximum (one pass over the data before writing) or --max-value M (values above\n"
    "it saturate; give the same M to exports that should compare). uint8/uint16\n"
    "inputs are stored as they are unless --max-value is given. M and the scale are\n"
    "recorded in NAME.h5's root attributes (max_value, value_scale) and in a comment\n"
    "in NAME.xml. Both files are written as NAME.h5.partial and NAME.xml.partial and\n"
    "renamed when complete, the .xml last.\n"
    "\n"
    "--layout tiff: an ImageJ hyperstack (channels, slices, frames; pages channel\n"
    "fastest, then z, then t) with ImageJ's calibration (unit=micron, spacing, X/Y\n"
    "resolution), which Fiji, napari and tifffile open as they are.\n"
    "--layout ome-tiff: an OME-TIFF (OME-XML DimensionOrder XYZCT, PhysicalSizeX/Y/Z\n"
    "in micrometres, the channel names the input records).\n"
    "Both write float32 values as they are, or with --dtype uint16 stored =\n"
    "round(clamp(value, 0, M) * 65535 / M) (M as for bdv), recorded in the file\n"
    "(h5decon_value_scale, h5decon_max_value). One file, or with --per-volume one per\n"
    "(c, t): NAME_c0_t0.tif, ... Classic TIFF up to 4 GiB, BigTIFF beyond. Each file\n"
    "is written as NAME.partial and renamed when complete.";

struct ExportSettings {
  bool help = false;
  io::DatasetRef input;
  std::string output;
  std::string layout = "bdv";
  io::BdvExportOptions options;
  io::TiffExportOptions tiff;
};

po::options_description export_option_descriptions() {
  po::options_description desc("Export options");
  auto add = desc.add_options();
  add("input", po::value<std::string>()->value_name("OUT.h5[:/data]"),
      "the dataset to export (path default /data)");
  add("layout", po::value<std::string>()->default_value("bdv")->value_name("bdv|tiff|ome-tiff"),
      "the layout to write: bdv (BigDataViewer HDF5 + XML), tiff (ImageJ hyperstack), "
      "ome-tiff (OME-TIFF)");
  add("output", po::value<std::string>()->value_name("NAME"),
      "the file to write (bdv: NAME.h5, and NAME.xml beside it)");
  add("levels", po::value<std::string>()->default_value("auto")->value_name("N|auto"),
      "pyramid levels, the full resolution included; auto: until the largest axis has at "
      "most 64 voxels");
  add("max-value", po::value<double>()->value_name("M"),
      "the value stored as 65535 (default: the dataset's maximum; uint8/uint16 inputs: as "
      "they are)");
  add("deflate", po::value<int>()->default_value(0)->value_name("LEVEL"),
      "compress the cells with HDF5's deflate (gzip) filter at LEVEL 1-9 (BigDataViewer "
      "reads it); 0: no compression, the fastest to write");
  add("dtype", po::value<std::string>()->default_value("float32")->value_name("float32|uint16"),
      "tiff, ome-tiff: the stored type; uint16 scales by 65535 / M");
  add("per-volume", switch_value(), "tiff, ome-tiff: one file per (c, t) volume");
  add("axes", po::value<std::string>()->default_value("")->value_name("zyx|czyx|tzyx"),
      "stored axes of a rank-3/4 input");
  add("overwrite", switch_value(), "replace an existing NAME.h5 and NAME.xml");
  desc.add(generic_options());
  return desc;
}

int parse_levels(const std::string& text) {
  if (text == "auto") return 0;
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || n < 1 || n > kPyramidMaxLevels)
    throw UsageError("--levels: '" + text + "' is not auto or a whole number from 1 to " +
                     std::to_string(kPyramidMaxLevels));
  return n;
}

ExportSettings parse_export_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("export", argc, argv, export_option_descriptions());
  ExportSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  for (const char* name : {"input", "output"}) require_option(parsed, name);
  const auto& v = parsed.values;
  s.layout = v["layout"].as<std::string>();
  if (s.layout != "bdv" && s.layout != "tiff" && s.layout != "ome-tiff")
    throw UsageError("--layout: unknown layout '" + s.layout + "'; supported: bdv, tiff, ome-tiff");
  const std::string dtype = v["dtype"].as<std::string>();
  if (dtype != "float32" && dtype != "uint16")
    throw UsageError("--dtype: '" + dtype + "'; supported: float32, uint16");
  if (s.layout == "bdv" && (!v["dtype"].defaulted() || v["per-volume"].as<bool>()))
    throw UsageError("--dtype and --per-volume apply to --layout tiff and ome-tiff");
  if (s.layout != "bdv" && (!v["levels"].defaulted() || !v["deflate"].defaulted()))
    throw UsageError("--levels and --deflate apply to --layout bdv");
  s.tiff.ome = s.layout == "ome-tiff";
  s.tiff.uint16 = dtype == "uint16";
  s.tiff.split_volumes = v["per-volume"].as<bool>();
  s.tiff.overwrite = v["overwrite"].as<bool>();
  if (v.count("max-value")) s.tiff.max_value = v["max-value"].as<double>();
  try {
    s.input = io::DatasetRef::parse(v["input"].as<std::string>(), "/data");
  } catch (const InputError& e) {
    throw UsageError(std::string("--input: ") + e.what());
  }
  s.output = v["output"].as<std::string>();
  s.options.levels = parse_levels(v["levels"].as<std::string>());
  if (v.count("max-value")) s.options.max_value = v["max-value"].as<double>();
  s.options.axes = v["axes"].as<std::string>();
  s.options.overwrite = v["overwrite"].as<bool>();
  s.options.deflate = v["deflate"].as<int>();
  if (s.options.deflate < 0 || s.options.deflate > 9)
    throw UsageError("--deflate: the level must be 0 (none) to 9, got " +
                     std::to_string(s.options.deflate));
  return s;
}

// "1 level", "4 levels".
std::string count_of(std::int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

void print_report(const io::BdvExportReport& r, double seconds) {
  std::cout << "export: wrote " << r.h5_file << " and " << r.xml_file << " (BigDataViewer; "
            << count_of(r.shape.c, "setup") << " (channels) x " << count_of(r.shape.t, "time point")
            << ", " << count_of(static_cast<std::int64_t>(r.levels.size()), "level") << ":";
  for (const PyramidLevel& l : r.levels) std::cout << " " << l.extent.str();
  std::cout << "; voxel " << r.voxel_size_um[0] << "x" << r.voxel_size_um[1] << "x"
            << r.voxel_size_um[2] << " um"
            << (r.voxel_size_known ? "" : " (the input has no element_size_um)")
            << "; uint16 = value * " << r.scale << ", " << r.max_value << " -> 65535) in "
            << seconds << " s" << std::endl;
}

io::TiffExportReport export_tiff(ExportSettings& s) {
  const io::InputDataset in(s.input, MPI_COMM_SELF, s.options.axes);
  s.tiff.channel_names = in.channel_names();
  return io::export_tiff(in, s.output, s.tiff);
}

void print_tiff_report(const io::TiffExportReport& r, const ExportSettings& s, double seconds) {
  std::cout << "export: wrote " << r.files.front();
  if (r.files.size() > 1) std::cout << " ... " << r.files.back() << " (" << r.files.size() << " files)";
  std::cout << " (" << (s.tiff.ome ? "OME-TIFF" : "ImageJ hyperstack") << (r.bigtiff ? ", BigTIFF" : "")
            << ", " << r.pages << " pages, "
            << (r.plan.uint16 ? "uint16 = value * " + shortest_text(r.plan.scale) + ", " +
                                    shortest_text(r.plan.max_value) + " -> 65535"
                              : std::string("float32"))
            << ") in " << seconds << " s" << std::endl;
}

}  // namespace

int export_command(int argc, char** argv, const std::string& command_line) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  ExportSettings s;
  agree_on(MPI_COMM_WORLD, [&] { s = parse_export_settings(argc, argv); });
  if (s.help) {
    if (rank == 0)
      print_help(std::cout, "export", kSynopsis, kDescription, export_option_descriptions());
    return kExitOk;
  }
  s.options.command_line = command_line;
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (s.layout != "bdv") {
    agree_on(MPI_COMM_WORLD, [&] {
      if (rank == 0) {
        const io::TiffExportReport report = export_tiff(s);
        print_tiff_report(report, s, seconds());
      }
    });
    return kExitOk;
  }
  io::BdvExportReport report;
  agree_on(MPI_COMM_WORLD, [&] {
    if (rank == 0) report = io::export_bdv(s.input, s.output, s.options);
  });
  if (rank == 0) print_report(report, seconds());
  return kExitOk;
}

}  // namespace h5decon::app
