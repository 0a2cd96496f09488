// `h5decon import --input FILE.tif|FOLDER|FILES... [--pattern P] --output OUT.h5`
#include "import_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/tiff_import.hpp"
#include "h5decon/samples.hpp"

namespace h5decon::app {
namespace {

const char* const kSynopsis =
    "--input FILE.tif|FOLDER|FILES... [--pattern P] --output OUT.h5[:/data]\n"
    "       [--voxel-um Z,Y,X] [--chunk Z,Y,X] [--overwrite]";
const char* const kDescription =
    "Converts TIFF data into the (c, t, z, y, x) HDF5 dataset run reads, in the\n"
    "samples' own type (uint8, uint16 or float32), chunked for run, with the voxel\n"
    "size (element_size_um) and the source recorded.\n"
    "\n"
    "One file: an OME-TIFF (OME-XML DimensionOrder, SizeC/T/Z, PhysicalSize* with\n"
    "units, channel names), an ImageJ hyperstack (channels=, slices=, frames=, its\n"
    "calibration) or a plain multi-page stack (every page a z plane); BigTIFF,\n"
    "strips or tiles, any compression libtiff decodes.\n"
    "\n"
    "Several files (names, or a folder): --pattern names their axes, e.g.\n"
    "'img_t{t}_c{c}_z{z}.tif'; {c}, {t}, {z} stand for numbers, * for any text.\n"
    "Each axis's distinct numbers, sorted, become its indices; every combination\n"
    "needs exactly one file. Files of several pages are z stacks (no {z} then).\n"
    "Without --pattern, files sorted naturally (2 before 10) are z planes, or time\n"
    "points when each is a stack. A missing file, or one of another size, type or\n"
    "page count, is an error naming it.\n"
    "\n"
    "Under mpirun every rank converts a share of the z-slabs (one chunk deep) and\n"
    "writes it through parallel HDF5; each rank holds one slab in memory. The output\n"
    "is written as OUT.h5.partial and renamed when complete.";

struct ImportSettings {
  bool help = false;
  std::vector<std::string> inputs;
  std::string pattern;
  io::DatasetRef output;
  std::optional<std::array<double, 3>> voxel_um;
  Shape3 chunk{16, 256, 256};
  bool overwrite = false;
};

po::options_description import_option_descriptions() {
  po::options_description desc("Import options");
  auto add = desc.add_options();
  add("input", po::value<std::vector<std::string>>()->multitoken()->value_name("FILE|FOLDER..."),
      "a TIFF file, a folder of TIFF files, or several files");
  add("pattern", po::value<std::string>()->default_value("")->value_name("P"),
      "the files' axes in their names: {c}, {t}, {z} for numbers, * for any text");
  add("output", po::value<std::string>()->value_name("OUT.h5[:/data]"),
      "the HDF5 file (and dataset, default /data) to write");
  add("voxel-um", po::value<std::string>()->value_name("Z,Y,X"),
      "the voxel size in micrometres, when the files do not record it (or record it wrong)");
  add("chunk", po::value<std::string>()->default_value("16,256,256")->value_name("Z,Y,X"),
      "the HDF5 chunk of one volume (clamped to the volume); z is also the slab a rank "
      "converts at a time");
  add("overwrite", switch_value(), "replace an existing output file");
  desc.add(generic_options());
  return desc;
}

ImportSettings parse_import_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("import", argc, argv, import_option_descriptions());
  ImportSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  for (const char* name : {"input", "output"}) require_option(parsed, name);
  const auto& v = parsed.values;
  s.inputs = v["input"].as<std::vector<std::string>>();
  s.pattern = v["pattern"].as<std::string>();
  try {
    s.output = io::DatasetRef::parse(v["output"].as<std::string>(), "/data");
  } catch (const InputError& e) {
    throw UsageError(std::string("--output: ") + e.what());
  }
  if (v.count("voxel-um")) {
    const std::vector<double> u = parse_triple("voxel-um", v["voxel-um"].as<std::string>());
    for (const double x : u)
      if (!(x > 0) || !std::isfinite(x))
        throw UsageError("--voxel-um: '" + v["voxel-um"].as<std::string>() +
                         "' must be three positive numbers");
    s.voxel_um = std::array<double, 3>{u[0], u[1], u[2]};
  }
  const std::vector<double> chunk = parse_triple("chunk", v["chunk"].as<std::string>());
  for (int a = 0; a < 3; ++a) {
    if (!(chunk[std::size_t(a)] >= 1) || chunk[std::size_t(a)] != std::floor(chunk[std::size_t(a)]))
      throw UsageError("--chunk: '" + v["chunk"].as<std::string>() +
                       "' must be three whole numbers of at least 1");
    s.chunk[a] = static_cast<std::int64_t>(chunk[std::size_t(a)]);
  }
  s.overwrite = v["overwrite"].as<bool>();
  return s;
}

// The set as rank 0 sees it first (its verdict is every rank's), then on every rank.
io::TiffSet describe(const ImportSettings& s, MPI_Comm comm, int rank) {
  io::TiffSet set;
  agree_on(comm, [&] {
    if (rank == 0) set = io::describe_tiff_files(s.inputs, s.pattern);
  });
  agree_on(comm, [&] {
    if (rank != 0) set = io::describe_tiff_files(s.inputs, s.pattern);
  });
  return set;
}

std::map<std::string, std::string> provenance(const io::TiffSet& set, const std::string& command_line) {
  std::map<std::string, std::string> a{{"import_command_line", command_line},
                                       {"import_source", set.summary},
                                       {"import_source_kind", set.kind},
                                       {"import_files", std::to_string(set.files.size())}};
  if (!set.channel_names.empty()) {
    std::string names;
    for (const std::string& n : set.channel_names) names += (names.empty() ? "" : "; ") + n;
    a["channel_names"] = names;
  }
  return a;
}

// This rank's share: z-slabs (c, t, z0) number u = rank, rank + size, ...
void convert_share(const io::TiffSet& set, io::ImportDataset& out, std::int64_t slab, int rank,
                   int size) {
  const Shape3& v = set.shape.volume;
  const std::int64_t slabs_per_volume = (v.z + slab - 1) / slab;
  const std::int64_t units = set.shape.c * set.shape.t * slabs_per_volume;
  const std::size_t plane_bytes = std::size_t(v.y * v.x * sample_bytes(set.type));
  std::vector<std::byte> buffer(plane_bytes * std::size_t(std::min(slab, v.z)));
  io::TiffPlaneReader reader(set);
  for (std::int64_t u = rank; u < units; u += size) {
    const std::int64_t volume = u / slabs_per_volume, z0 = (u % slabs_per_volume) * slab;
    const std::int64_t c = volume / set.shape.t, t = volume % set.shape.t;
    const std::int64_t planes = std::min(slab, v.z - z0);
    for (std::int64_t k = 0; k < planes; ++k)
      reader.read(c, t, z0 + k, std::span(buffer).subspan(std::size_t(k) * plane_bytes, plane_bytes));
    out.write_planes(c, t, z0, planes, std::span(buffer).first(std::size_t(planes) * plane_bytes));
  }
}

}  // namespace

int import_command(int argc, char** argv, const std::string& command_line) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ImportSettings s;
  agree_on(comm, [&] { s = parse_import_settings(argc, argv); });
  if (s.help) {
    if (rank == 0) print_help(std::cout, "import", kSynopsis, kDescription, import_option_descriptions());
    return kExitOk;
  }
  const auto start = std::chrono::steady_clock::now();
  const io::TiffSet set = describe(s, comm, rank);
  const std::optional<std::array<double, 3>> voxel = s.voxel_um ? s.voxel_um : set.voxel_um;
  if (rank == 0)
    std::cout << "import: " << set.summary << "; " << set.shape.str() << " (c x t x z x y x x) "
              << to_string(set.type) << std::endl;
  std::optional<io::ImportDataset> out;
  agree_on(comm, [&] {
    out.emplace(s.output, set.shape, set.type, s.chunk, voxel, provenance(set, command_line),
                set.files, s.overwrite, comm);
  });
  agree_on(comm, [&] { convert_share(set, *out, std::min(s.chunk.z, set.shape.volume.z), rank, size); });
  agree_on(comm, [&] { out->finish(); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rank == 0) {
    const double bytes = double(set.shape.size()) * sample_bytes(set.type);
    std::cout << "import: wrote " << s.output.str() << " (" << to_string(set.type) << ", "
              << set.shape.str() << ", voxel ";
    if (voxel)
      std::cout << (*voxel)[0] << "x" << (*voxel)[1] << "x" << (*voxel)[2] << " um";
    else
      std::cout << "unknown: pass --voxel-um Z,Y,X to record it";
    std::cout << ") on " << size << (size == 1 ? " rank" : " ranks") << " in " << seconds
              << " s (" << bytes / 1e6 / std::max(seconds, 1e-9) << " MB/s)" << std::endl;
  }
  return kExitOk;
}

}  // namespace h5decon::app
