// `h5decon run`: opens the input and the PSF, plans the block decomposition,
// creates the output with its provenance and hands the blocks to the block
// runtime (src/dist), which serves, deconvolves and writes them on every rank.
// Every step that may fail on some ranks only ends in agree_on(), so all ranks
// leave together, with one message, before the next collective call.
#include "run_command.hpp"
#include "run_batch.hpp"

#include <mpi.h>
#include <unistd.h>

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
#include "h5decon/dist/gpu_binding.hpp"
#include "h5decon/dist/memory_fit.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "iteration_log.hpp"
#include "output_lock.hpp"
#include "volume_background.hpp"
#include "run_exact.hpp"
#include "preflight.hpp"
#include "run_hooks.hpp"
#include "run_options.hpp"
#include "run_psfs.hpp"
#include "run_plan.hpp"
#include "run_resume.hpp"
#include "run_shard.hpp"

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
  SharedRuntime* shared = nullptr;  ///< a batch's runtime (run --inputs); null: this run's own
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  RunSettings s;
  std::string command_line;
  std::string backend_kind;  ///< what make_backend() is asked for
  Shard shard;
  std::vector<io::VolumeIndex> volumes;  ///< a shard's volumes; empty: all
  std::vector<std::int64_t> blocks;      ///< what this run computes (resume: what is left)
  std::int64_t total_blocks = 0, done_blocks = 0;  ///< of this run's share; done before it
  Signature signature;
  io::FileIdentity input_identity;  ///< rank 0: the input file at the run's start
  std::optional<OutputLock> lock;   ///< rank 0: this run's hold on its output
  std::optional<Journal> journal;   ///< rank 0: the completion journal
  std::optional<FileSync> sync;     ///< --sync-blocks
  std::optional<IterationLog> iterations;  ///< --log-iterations K > 0
  std::map<io::VolumeIndex, float> backgrounds;  ///< --background auto: per volume

  /// Prints one line on rank 0.
  template <class... Parts>
  void log(const Parts&... parts) const {
    if (rank == 0) std::cout << detail::concat(parts...) << std::endl;
  }
};

// What a batch's runtime must match to be reused: the signature less the input's
// name and identity, the output and the notes (the input's shape and type stay).
std::string runtime_key(const Signature& signature) {
  std::string key;
  for (const auto& [name, value] : signature) {
    const bool input_identity = name.starts_with("input") && name != "input-shape" &&
                                name != "input-dtype";
    if (!input_identity && !name.starts_with("output") && !name.starts_with("note."))
      key += name + "=" + value + "\n";
  }
  return key;
}

std::string csv(const Shape3& s) {
  return std::to_string(s.z) + "," + std::to_string(s.y) + "," + std::to_string(s.x);
}

void add_shard_attributes(const Run& run, io::Provenance& p) {
  if (!run.shard.enabled) return;
  std::string volumes;
  for (const auto& [c, t] : run.volumes) volumes += detail::concat(volumes.empty() ? "" : " ", c, ",", t);
  p.attributes["shard"] = run.shard.str();
  p.attributes["shard_volumes_ct"] = volumes;
  p.attributes["shard_signature"] = shard_signature(run.signature);
  for (const auto& [key, value] : run.signature)
    if (key == "input-shape") p.attributes["dataset_shape"] = value;
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
  p.attributes.merge(input.metadata());
  if (!run.backgrounds.empty())
    p.attributes["background_estimates"] = describe_backgrounds(run.backgrounds);
  add_shard_attributes(run, p);
  return p;
}

dist::BlockRunOptions block_run_options(Run& run) {
  dist::BlockRunOptions o;
  o.rl = run.s.rl;
  o.backend = run.backend_kind;
  o.backend_options = run.s.backend_options;
  o.progress_interval_s = run.s.progress_interval;
  o.blocks = run.blocks;
  o.no_compute = run.s.no_compute;
  o.direct_reads = run.s.direct_reads;
  o.chunk_reads = run.s.chunk_reads;
  o.backgrounds = run.backgrounds;
  // Rank 0 records a block once its writer reported it written (and synced).
  o.on_block_done = [&run](std::int64_t id) {
    if (run.journal) run.journal->append(id);
  };
  o.on_block_written = [&run](const Block& block) {
    if (run.sync) run.sync->sync();
    log_block_written(run.rank, block.id);
  };
  o.stop_requested = termination_requested;
  if (run.s.log_iterations > 0) {
    run.iterations.emplace(run.s.log_iterations, run.s.rl, std::cout, true,
                           isatty(STDOUT_FILENO) != 0);
    o.on_iteration = [&run](const Block& b, const IterationReport& r) {
      run.iterations->record({b.id, b.c, b.t}, r);
    };
  }
  return o;
}

// The shard (job arrays) and the output path it implies; then this run's lock on
// it and the output's state.
void resolve_target(Run& run) {
  agree_on(run.comm, [&] {
    run.shard = resolve_shard(run.s.shard);
    if (run.shard.enabled) run.s.output.file = shard_file_name(run.s.output.file, run.shard);
    use_auto_wisdom(run.s);
    claim_output(run.s, run.rank, run.lock);
  });
  log_shard_choice(run.comm, run.shard, run.s.shard);
  if (run.shard.enabled) run.log("shard ", run.shard.str(), ": writing ", run.s.output.file);
}

// The input, with the checks that need no plan: a shape worth planning, the
// output's room on its disk, and (rank 0) the input file's identity.
io::InputDataset open_input(Run& run) {
  std::optional<io::InputDataset> input;
  agree_on(run.comm, [&] { input.emplace(run.s.input, run.comm, run.s.axes); });
  const Shape5 shape = input->shape();
  run.log("input ", input->source(), ": ", shape.str(), " (c x t x z x y x x), ",
          io::to_string(input->dtype()), ", ", shape.c * shape.t, " volumes on ", run.size,
          run.size == 1 ? " rank" : " ranks");
  agree_on(run.comm, [&] {
    const auto volumes = run.shard.enabled ? std::int64_t(shard_volumes(shape, run.shard).size())
                                           : shape.c * shape.t;
    run.input_identity = check_opened_input(run.s, *input, volumes, run.rank);
  });
  return std::move(*input);
}

// Which blocks this run computes: its shard's, less those a resumed run finished.
void select_blocks(Run& run, const io::InputDataset& input, const std::vector<Psf>& psfs,
                   const DecompositionPlan& plan) {
  std::vector<std::int64_t> done;
  agree_on(run.comm, [&] {
    run.volumes = run.shard.enabled ? shard_volumes(plan.dataset, run.shard)
                                    : std::vector<io::VolumeIndex>{};
    run.signature =
        run_signature(run.s, run.backend_kind, input, psfs, plan, run.shard, run.input_identity);
    run.journal = start_journal(run.comm, run.s, run.signature, done);
  });
  broadcast_ids(run.comm, done);
  std::vector<std::int64_t> all = blocks_of(plan, run.volumes);
  if (run.volumes.empty()) {
    all.resize(static_cast<std::size_t>(plan.block_count));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  }
  run.blocks = remaining_blocks(all, done);
  run.total_blocks = static_cast<std::int64_t>(all.size());
  run.done_blocks = run.total_blocks - static_cast<std::int64_t>(run.blocks.size());
  if (run.s.resume)
    run.log("resuming: ", run.done_blocks, " of ", run.total_blocks, " blocks already done, computing ",
            run.blocks.size());
}

// Creates (or reopens, when resuming) the output; then the journal on rank 0.
std::optional<io::OutputDataset> open_output(Run& run, const io::InputDataset& input,
                                             const DecompositionPlan& plan,
                                             const std::string& backends) {
  io::OutputOptions options;
  options.overwrite = run.s.overwrite;
  options.resume = run.s.resume;
  options.resume_note = detail::concat("resumed with ", run.done_blocks, " of ", run.total_blocks,
                                       " blocks done: ", run.command_line);
  options.volumes = run.volumes;
  std::optional<io::OutputDataset> output;
  const auto volumes = static_cast<std::int64_t>(
      run.volumes.empty() ? plan.dataset.c * plan.dataset.t : std::int64_t(run.volumes.size()));
  agree_on(run.comm, [&] {
    if (run.rank == 0)
      check_free_space(run.s.output.file, output_bytes(plan, volumes), run.s.resume);
  });
  agree_on(run.comm, [&] {
    output.emplace(run.s.output, io::DatasetRef{input.data_file(), run.s.input.path}, plan.dataset, plan.chunk,
                   make_provenance(run, input, plan, backends), options, run.comm);
  });
  // The output's metadata is on disk: from now on the journal may name blocks.
  agree_on(run.comm, [&] {
    if (run.rank == 0 && !run.s.resume)
      run.journal = Journal::create(journal_path(run.s.output.file), run.signature);
    if (run.s.sync_blocks) run.sync.emplace(io::partial_file(run.s.output.file));
  });
  return output;
}

// Everything after the options are known: open, plan, create, deconvolve, finish.
void execute(Run& run) {
  const auto start = Clock::now();
  agree_on(run.comm, [&] { check_launch(run.comm, run.s.allow_singleton); });
  resolve_target(run);
  std::optional<io::InputDataset> input(open_input(run));
  const Shape5 shape = input->shape();
  std::vector<Psf> psfs;
  agree_on(run.comm, [&] { psfs = load_run_psfs(run.s, *input, run.comm); });
  const BackendChoice backend = resolve_backend(run.comm, run.s, std::cout);
  run.backend_kind = backend.kind;
  const DecompositionPlan plan = plan_run(run.comm, run.s, backend, *input, psfs, std::cout);
  if (run.rank == 0) std::cout << describe(plan) << std::flush;
  select_blocks(run, *input, psfs, plan);
  if (run.s.rl.background_auto && !run.blocks.empty()) {
    const auto step = Clock::now();
    run.backgrounds = estimate_volume_backgrounds(run.comm, *input, run.volumes);
    run.log("--background auto, one estimate per volume (its darkest 8^3 tiles) in ",
            fixed(seconds_since(step), 2), " s: ", describe_backgrounds(run.backgrounds));
  }
  std::optional<dist::BlockRuntime> own;
  std::optional<dist::BlockRuntime>& runtime = run.shared ? run.shared->runtime : own;
  const std::string key = runtime_key(run.signature);
  const bool reuse = run.shared && runtime && run.shared->key == key;  // alike on every rank
  agree_on(run.comm, [&] {
    if (reuse) {
      runtime->next_run(block_run_options(run));
      return;
    }
    runtime.reset();
    runtime.emplace(run.comm, plan, psfs, block_run_options(run));
  });
  if (run.shared) run.shared->key = key;
  if (reuse)
    run.log("batch: the previous input's runtime is reused (", runtime->engines_made(),
            " engines made so far on rank 0)");
  const std::string backends = dist::describe_per_rank(run.comm, runtime->backend_name());
  auto step = Clock::now();
  std::size_t shapes = 0;
  // --no-compute makes no FFT: no plans to make or share.
  if (!run.blocks.empty() && !run.s.no_compute)
    agree_on(run.comm, [&] { shapes = runtime->share_fft_plans(); });
  run.log("backend: ", backends, ", planner ", to_string(run.s.backend_options.planner),
          shapes ? detail::concat("; rank 0 planned ", shapes, " FFT shapes and shared them in ",
                                  fixed(seconds_since(step), 2), " s")
                 : std::string());
  std::optional<io::OutputDataset> output = open_output(run, *input, plan, backends);
  dist::BlockRunSummary summary;
  if (!run.blocks.empty()) {
    const GracefulTermination graceful;  // SIGTERM: stop after the blocks in progress
    agree_on(run.comm, [&] { summary = runtime->run(*input, *output); });
  }
  run.log(summary.str());
  // Stopped by SIGTERM: the partial output and its journal stay for --resume.
  agree_on(run.comm, [&] {
    if (summary.stopped) throw stopped_by_sigterm(summary.stop_rank);
  });
  if (run.iterations && !run.blocks.empty()) run.log(run.iterations->summary(run.comm));
  // A result of an input rewritten under the run is never presented, nor resumable.
  agree_on(run.comm, [&] {
    if (run.rank != 0) return;
    try {
      check_input_unchanged(run.s, run.input_identity);
    } catch (const InputError&) {
      run.journal.reset();
      remove_resume_files(run.s);
      throw;
    }
  });
  agree_on(run.comm, [&] { output->finish(); });
  run.journal.reset();
  if (run.rank == 0) remove_resume_files(run.s);
  run.log("wrote ", run.s.output.str(), " (float32, ", shape.str(), ") in ",
          fixed(seconds_since(start), 2), " s total");
}

}  // namespace

void run_one(MPI_Comm comm, const RunSettings& settings, const std::string& command_line,
             SharedRuntime* shared) {
  if (settings.mode == "exact") {
    RunSettings exact = settings;
    run_exact(comm, exact, command_line);
    return;
  }
  Run run;
  run.comm = comm;
  MPI_Comm_rank(run.comm, &run.rank);
  MPI_Comm_size(run.comm, &run.size);
  run.command_line = command_line;
  run.s = settings;
  run.shared = shared;
  execute(run);
}

int run_command(int argc, char** argv, const std::string& command_line) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  RunSettings s;
  agree_on(comm, [&] { s = parse_run_settings(argc, argv); });
  if (s.help || s.dry_run) {
    if (rank == 0 && s.help)
      print_help(std::cout, "run", kRunSynopsis, kRunDescription, run_option_descriptions());
    if (rank == 0 && s.dry_run) print_settings(std::cout, s);
    return kExitOk;
  }
  if (!s.inputs.empty()) return run_batch(comm, s, command_line);
  run_one(comm, s, command_line);
  return kExitOk;
}

}  // namespace h5decon::app
