// `h5decon info`: opens the input and the PSF as `run` does (same options, same
// errors, same agreement across ranks), plans the decomposition and prints it
// with the data volumes involved. Nothing is computed and nothing is written.
#include "info_command.hpp"

#include <mpi.h>

#include <cstring>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "agreement.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "info_exact.hpp"
#include "run_options.hpp"
#include "run_plan.hpp"
#include "run_psfs.hpp"

namespace h5decon::app {
namespace {

const char* const kInfoSynopsis = "[--ranks N] OPTIONS OF RUN (--input, --psf, --output, ...)";
const char* const kInfoDescription =
    "Takes the options of `run`, opens the input and the PSF read-only, plans the block\n"
    "decomposition exactly as `run` would, and prints it with the bytes read and written\n"
    "in all and per rank. Nothing is computed and nothing is written. The rank count is\n"
    "the world size under mpiexec, or --ranks N (command line only) to plan a larger job.";

/// `run`'s settings plus the rank count to plan for.
struct InfoSettings {
  RunSettings run;
  int ranks = 0;  ///< 0: the world size
};

// Takes --ranks N / --ranks=N out of the arguments: the rest are exactly run's.
std::vector<const char*> take_ranks(int argc, char** argv, int& ranks) {
  std::vector<const char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string value;
    if (arg == "--ranks") {
      if (i + 1 >= argc) throw UsageError("--ranks needs a value (a number of ranks >= 1)");
      value = argv[++i];
    } else if (arg.rfind("--ranks=", 0) == 0) {
      value = arg.substr(std::strlen("--ranks="));
    } else {
      rest.push_back(argv[i]);
      continue;
    }
    std::size_t used = 0;
    try {
      ranks = std::stoi(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != value.size() || ranks < 1)
      throw UsageError("--ranks: '" + value + "' is not a number of ranks >= 1");
  }
  return rest;
}

InfoSettings parse_info_settings(int argc, char** argv) {
  InfoSettings s;
  const std::vector<const char*> rest = take_ranks(argc, argv, s.ranks);
  s.run = parse_run_settings(static_cast<int>(rest.size()), rest.data());
  return s;
}

std::string bytes_text(double bytes) {
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  std::ostringstream os;
  os << std::fixed << std::setprecision(u == 0 ? 0 : 1) << bytes << " " << unit[u];
  return os.str();
}

/// Voxels read for one volume: every block's region, halos included.
std::int64_t region_voxels_per_volume(const DecompositionPlan& plan) {
  std::int64_t sum = 0;
  for (std::int64_t id = 0; id < plan.grid.size(); ++id)
    sum += block_at(plan, id).region_count.size();
  return sum;
}

void print_data(std::ostream& os, const RunSettings& s, const io::InputDataset& input,
                const std::vector<Psf>& psfs) {
  const Shape5 shape = input.shape();
  const std::int64_t in_bytes = shape.size() * std::int64_t{io::dtype_bytes(input.dtype())};
  os << "input:   " << s.input.str() << ": " << shape.str() << " (c x t x z x y x x), "
     << io::to_string(input.dtype()) << ", " << bytes_text(double(in_bytes)) << " (" << in_bytes
     << " bytes)\n"
     << "volumes: " << shape.c * shape.t << " (c=" << shape.c << " x t=" << shape.t << ") of "
     << shape.volume.str() << "\n"
     << "PSF:     " << s.psf.str() << ": " << largest_psf_extent(psfs).str()
     << (psfs.size() > 1 ? " (the largest extent of the channels')" : "") << "\n"
     << "output:  " << s.output.str() << ": float32, " << bytes_text(double(shape.size() * 4))
     << " (" << shape.size() * 4 << " bytes)\n"
     << "RL:      " << s.rl.iterations << " iterations, boundary " << to_string(s.rl.boundary)
     << ", init " << to_string(s.rl.init) << ", backend " << s.backend << "\n";
}

void print_per_rank(std::ostream& os, const DecompositionPlan& plan, const io::InputDataset& input,
                    int ranks, int world) {
  const std::int64_t volumes = plan.dataset.c * plan.dataset.t;
  const std::int64_t read_voxels = region_voxels_per_volume(plan) * volumes;
  const std::int64_t read_bytes = read_voxels * std::int64_t{io::dtype_bytes(input.dtype())};
  const std::int64_t write_bytes = plan.dataset.size() * 4;
  // Blocks are handed out on demand, so the shares are even only on average.
  const double share = 1.0 / ranks;
  const std::int64_t most_blocks = (plan.block_count + ranks - 1) / ranks;
  // A rank holds the largest block's engine and buffers (memory_fit.hpp's cost, §4).
  const std::int64_t memory = plan.max_block_bytes;
  os << "ranks:   planned for " << ranks << " (world size " << world << ")\n"
     << "  read in all:      " << bytes_text(double(read_bytes))
     << " (halos included: " << std::fixed << std::setprecision(2)
     << double(read_voxels) / double(plan.dataset.size()) << "x the input)\n"
     << "  per rank:         about " << bytes_text(read_bytes * share) << " read, "
     << bytes_text(write_bytes * share) << " written, at most " << most_blocks
     << (most_blocks == 1 ? " block" : " blocks") << "\n"
     << "  memory per rank:  about " << bytes_text(double(memory))
     << " (the largest block: its engine for these options and its buffers)\n"
     << "nothing was computed or written (h5decon info)\n";
}

// The same steps as `run` up to the plan, with the same agreement on failure.
void execute(const InfoSettings& info, MPI_Comm comm, int rank, int world) {
  const RunSettings& s = info.run;
  std::optional<io::InputDataset> input;
  agree_on(comm, [&] { input.emplace(s.input, comm, s.axes); });
  const Shape5 shape = input->shape();
  std::vector<Psf> psfs;
  // Every channel's PSF is read, checked (voxel size included) and cropped as `run` does.
  agree_on(comm, [&] { psfs = load_run_psfs(s, *input, comm); });
  if (s.mode == "exact") {
    std::string text;
    agree_on(comm, [&] { text = exact_info_text(comm, s, shape, psfs, info.ranks); });
    std::ostringstream os;
    if (rank == 0) print_data(os, s, *input, psfs);
    if (rank == 0) std::cout << "h5decon info: the plan of `run --mode exact`\n" << os.str() << text;
    return;
  }
  // run's own planning: GPU binding, then blocks costed by their engines.
  RunSettings planned = s;
  const BackendChoice backend = resolve_backend(comm, planned, std::cout);
  const std::optional<DecompositionPlan> plan =
      plan_run(comm, planned, backend, *input, psfs, std::cout);
  if (rank != 0) return;
  std::ostringstream os;
  os << "h5decon info: the plan of `run` for these options\n";
  print_data(os, s, *input, psfs);
  os << describe(*plan);
  print_per_rank(os, *plan, *input, info.ranks > 0 ? info.ranks : world, world);
  std::cout << os.str() << std::flush;
}

}  // namespace

int info_command(int argc, char** argv) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, world = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &world);
  InfoSettings s;
  agree_on(comm, [&] { s = parse_info_settings(argc, argv); });
  if (s.run.help) {
    if (rank == 0)
      print_help(std::cout, "info", kInfoSynopsis, kInfoDescription, run_option_descriptions());
    return kExitOk;
  }
  execute(s, comm, rank, world);
  return kExitOk;
}

}  // namespace h5decon::app
