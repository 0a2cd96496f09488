// `h5decon run`: opens the input and the PSF, plans the block decomposition,
// creates the output with its provenance and hands the blocks to the block
// runtime (src/dist), which serves, deconvolves and writes them on every rank.
// Every step that may fail on some ranks only ends in agree_on(), so all ranks
// leave together, with one message, before the next collective call.
#include "run_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "agreement.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/config.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "run_options.hpp"

namespace h5decon::app {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

/// State shared by the steps of one run.
struct Run {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  RunSettings s;
  std::string command_line;
  std::string backend_kind;  ///< what make_backend() is asked for

  /// Prints one line on rank 0.
  template <class... Parts>
  void log(const Parts&... parts) const {
    if (rank == 0) std::cout << detail::concat(parts...) << std::endl;
  }
};

// Same path after resolving links and "..", or the same inode (a hard link).
bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ea, eb, ec;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  if (!ea && !eb && ca == cb) return true;
  return fs::equivalent(a, b, ec);  // false (ec set) when either does not exist
}

// Refuses to write into the input or PSF file, or over an existing output.
void check_output_target(const RunSettings& s) {
  H5DECON_REQUIRE(!same_file(s.output.file, s.input.file), InputError, "--output '", s.output.file,
                  "' is the input file; h5decon never writes into its input");
  H5DECON_REQUIRE(!same_file(s.output.file, s.psf.file), InputError, "--output '", s.output.file,
                  "' is the PSF file; h5decon never writes into its input");
  std::error_code ec;
  H5DECON_REQUIRE(s.overwrite || !std::filesystem::exists(s.output.file, ec), InputError,
                  "output file '", s.output.file, "' exists; pass --overwrite to replace it");
}

double raw_sum(const Volume& v) {
  double sum = 0;
  for (float x : v.data) sum += x;
  return sum;
}

// Reads the PSF(s) and prepares one per channel (checks against the volume size).
std::vector<Psf> load_psfs(const Run& run, const Shape5& shape) {
  std::vector<Volume> raw = io::read_psfs(run.s.psf, run.comm, shape.c);
  std::vector<Psf> psfs;
  for (std::int64_t c = 0; c < shape.c; ++c) {
    const bool shared = raw.size() == 1;
    Volume kernel = shared ? raw[0] : raw.at(static_cast<std::size_t>(c));
    const std::string source =
        run.s.psf.str() + (shared ? std::string() : " (channel " + std::to_string(c) + ")");
    const double sum = raw_sum(kernel);
    psfs.push_back(prepare_psf(std::move(kernel), source, shape.volume));
    run.log("PSF c=", c, ": ", psfs.back().kernel.shape.str(), " from ", source, ", raw sum ", sum,
            ", normalised to 1",
            psfs.back().clamped
                ? ", " + std::to_string(psfs.back().clamped) + " negative values set to 0"
                : std::string());
  }
  return psfs;
}

std::string csv(const Shape3& s) {
  return std::to_string(s.z) + "," + std::to_string(s.y) + "," + std::to_string(s.x);
}

// Every rank plans: the plan is a pure function of identical inputs.
DecompositionPlan plan_blocks(const Run& run, const Shape5& shape, const std::vector<Psf>& psfs,
                              std::int64_t budget) {
  DecompositionOptions options;
  options.halo = run.s.halo;
  options.block = run.s.block;
  options.memory_budget_bytes = budget;
  return plan_decomposition(shape, psfs.at(0).kernel.shape, options);
}

io::Provenance make_provenance(const Run& run, const io::InputDataset& input,
                               const DecompositionPlan& plan, const std::string& backends) {
  io::Provenance p;
  p.command_line = run.command_line;
  p.options = run.s.resolved;
  p.iterations = run.s.rl.iterations;
  p.psf_source = run.s.psf.str();
  p.halo = csv(plan.halo);
  p.decomposition = describe(plan) + "blocks served by rank 0 to " + std::to_string(run.size) +
                    (run.size == 1 ? " rank" : " ranks");
  p.backend = backends;
  p.element_size_um = input.element_size_um();
  p.attributes = {{"block_grid", csv(plan.grid)},
                  {"block_interior", csv(plan.interior)},
                  {"block_count", std::to_string(plan.block_count)},
                  {"block_chunk", csv(plan.chunk)},
                  {"memory_budget_bytes", std::to_string(plan.memory_budget_bytes)}};
  return p;
}

dist::BlockRunOptions block_run_options(const Run& run) {
  dist::BlockRunOptions o;
  o.rl = run.s.rl;
  o.backend = run.backend_kind;
  o.backend_options = run.s.backend_options;
  o.progress_interval_s = run.s.progress_interval;
  return o;
}

void resolve_backend(Run& run) {
  run.backend_kind = run.s.backend;
  if (run.s.backend == "auto" && !H5DECON_CUDA) {
    run.backend_kind = "cpu";
    run.log("backend auto: h5decon was built without CUDA; using the cpu backend");
  }
}

// The decomposition, planned on every rank with the budget every rank agrees on.
DecompositionPlan make_plan(const Run& run, const Shape5& shape, const std::vector<Psf>& psfs) {
  const std::int64_t budget =
      run.s.auto_memory_budget ? dist::auto_memory_budget(run.comm) : run.s.memory_budget;
  DecompositionPlan plan;
  agree_on(run.comm, [&] { plan = plan_blocks(run, shape, psfs, budget); });
  if (run.rank == 0) std::cout << describe(plan) << std::flush;
  return plan;
}

// Everything after the options are known: open, plan, create, deconvolve, finish.
void execute(Run& run) {
  const auto start = Clock::now();
  agree_on(run.comm, [&] { check_output_target(run.s); });
  std::optional<io::InputDataset> input;
  agree_on(run.comm, [&] { input.emplace(run.s.input, run.comm, run.s.axes); });
  const Shape5 shape = input->shape();
  run.log("input ", run.s.input.str(), ": ", shape.str(), " (c x t x z x y x x), ",
          io::to_string(input->dtype()), ", ", shape.c * shape.t, " volumes on ", run.size,
          run.size == 1 ? " rank" : " ranks");
  std::vector<Psf> psfs;
  agree_on(run.comm, [&] { psfs = load_psfs(run, shape); });
  resolve_backend(run);
  const DecompositionPlan plan = make_plan(run, shape, psfs);
  std::optional<dist::BlockRuntime> runtime;
  agree_on(run.comm, [&] { runtime.emplace(run.comm, plan, psfs, block_run_options(run)); });
  const std::string backends = dist::describe_per_rank(run.comm, runtime->backend_name());
  auto step = Clock::now();
  std::size_t shapes = 0;
  agree_on(run.comm, [&] { shapes = runtime->share_fft_plans(); });
  run.log("backend: ", backends, ", planner ", to_string(run.s.backend_options.planner),
          shapes ? detail::concat("; rank 0 planned ", shapes, " FFT shapes and shared them in ",
                                  fixed(seconds_since(step), 2), " s")
                 : std::string());
  std::optional<io::OutputDataset> output;
  agree_on(run.comm, [&] {
    output.emplace(run.s.output, run.s.input, shape, plan.chunk,
                   make_provenance(run, *input, plan, backends), run.s.overwrite, run.comm);
  });
  dist::BlockRunSummary summary;
  agree_on(run.comm, [&] { summary = runtime->run(*input, *output); });
  run.log(summary.str());
  agree_on(run.comm, [&] { output->finish(); });
  run.log("wrote ", run.s.output.str(), " (float32, ", shape.str(), ") in ",
          fixed(seconds_since(start), 2), " s total");
}

}  // namespace

int run_command(int argc, char** argv, const std::string& command_line) {
  Run run;
  MPI_Comm_rank(run.comm, &run.rank);
  MPI_Comm_size(run.comm, &run.size);
  run.command_line = command_line;
  agree_on(run.comm, [&] { run.s = parse_run_settings(argc, argv); });
  if (run.s.help || run.s.dry_run) {
    if (run.rank == 0 && run.s.help)
      print_help(std::cout, "run", kRunSynopsis, kRunDescription, run_option_descriptions());
    if (run.rank == 0 && run.s.dry_run) print_settings(std::cout, run.s);
    return kExitOk;
  }
  execute(run);
  return kExitOk;
}

}  // namespace h5decon::app
