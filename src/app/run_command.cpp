// `h5decon run`: whole-volume RL, the (c, t) volumes shared round-robin among
// the MPI ranks. Every step that may fail on some ranks only ends in agree_on(),
// so all ranks leave together, with one message, before the next collective call.
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

std::vector<std::int64_t> my_volumes(const Run& run, const Shape5& shape) {
  std::vector<std::int64_t> mine;
  for (std::int64_t i = run.rank; i < shape.c * shape.t; i += run.size) mine.push_back(i);
  return mine;
}

/// The backend and one engine per channel this rank works on.
struct Engines {
  std::unique_ptr<Backend> backend;
  std::map<std::int64_t, std::unique_ptr<RlEngine>> by_channel;
};

void make_engines(const Run& run, const std::vector<Psf>& psfs, const Shape5& shape,
                  const std::vector<std::int64_t>& mine, Engines& engines) {
  engines.backend = make_backend(run.backend_kind, run.s.backend_options);
  for (std::int64_t i : mine) {
    const std::int64_t c = i / shape.t;
    if (engines.by_channel.count(c)) continue;
    engines.by_channel[c] =
        engines.backend->make_engine(psfs[static_cast<std::size_t>(c)], shape.volume, run.s.rl);
  }
}

// Plans on every rank. With a wisdom file, rank 0 plans first and the others
// then read its wisdom, so every rank uses the same plans (and gives the same bits).
Engines plan_engines(const Run& run, const std::vector<Psf>& psfs, const Shape5& shape,
                     const std::vector<std::int64_t>& mine) {
  Engines engines;
  const auto start = Clock::now();
  if (run.size > 1 && !run.s.backend_options.wisdom_file.empty()) {
    agree_on(run.comm, [&] {
      if (run.rank == 0) make_engines(run, psfs, shape, mine, engines);
    });
    agree_on(run.comm, [&] {
      if (run.rank != 0) make_engines(run, psfs, shape, mine, engines);
    });
  } else {
    agree_on(run.comm, [&] { make_engines(run, psfs, shape, mine, engines); });
  }
  // Each channel's FFT shape and memory, from whichever rank planned it.
  std::vector<std::int64_t> facts(static_cast<std::size_t>(4 * shape.c), 0), all(facts.size());
  for (const auto& [c, e] : engines.by_channel) {
    const Shape3 f = e->fft_shape();
    const std::int64_t v[4] = {f.z, f.y, f.x, e->bytes()};
    std::copy(v, v + 4, facts.begin() + 4 * c);
  }
  MPI_Allreduce(facts.data(), all.data(), static_cast<int>(facts.size()), MPI_INT64_T, MPI_MAX,
                run.comm);
  run.log("backend: ", engines.backend->name(), ", planner ",
          to_string(run.s.backend_options.planner), ", planned in ", fixed(seconds_since(start), 2),
          " s");
  for (std::int64_t c = 0; c < shape.c; ++c)
    run.log("engine c=", c, ": padded FFT shape ",
            Shape3{all[4 * c], all[4 * c + 1], all[4 * c + 2]}.str(), ", ",
            fixed(static_cast<double>(all[4 * c + 3]) / (1 << 20), 1), " MiB");
  return engines;
}

io::Provenance make_provenance(const Run& run, const io::InputDataset& input) {
  io::Provenance p;
  p.command_line = run.command_line;
  p.options = run.s.resolved;
  p.iterations = run.s.rl.iterations;
  p.psf_source = run.s.psf.str();
  p.halo = "0,0,0";
  p.decomposition =
      "whole volume, (c,t) volumes round-robin over " + std::to_string(run.size) + " ranks";
  p.backend = run.backend_kind;
  p.element_size_um = input.element_size_um();
  return p;
}

Shape3 chunk_shape(const Shape3& v) {
  return {std::min<std::int64_t>(v.z, 64), std::min<std::int64_t>(v.y, 256),
          std::min<std::int64_t>(v.x, 256)};
}

/// Seconds spent on one volume, in the order sent to rank 0.
struct VolumeTimes {
  double index = 0, read = 0, compute = 0, write = 0;
};

std::string describe(const Run& run, const VolumeTimes& v, const Shape5& shape, int rank) {
  const auto i = static_cast<std::int64_t>(v.index);
  const int n = run.s.rl.iterations;
  const double mvoxels = static_cast<double>(shape.volume.size()) * n / 1e6;
  return detail::concat("volume c=", i / shape.t, " t=", i % shape.t,
                        rank != 0 ? " (rank " + std::to_string(rank) + ")" : std::string(), ": ", n,
                        " iterations in ", fixed(v.compute, 2), " s (", fixed(v.compute / n, 4),
                        " s/iteration, ", fixed(mvoxels / v.compute, 1),
                        " Mvoxel-iterations/s; read ", fixed(v.read, 2), " s, write ",
                        fixed(v.write, 2), " s)");
}

// "; rank 0: 2/5 volumes done, ETA 12 s" from rank 0's own pace.
std::string progress(std::size_t done, std::size_t total, double elapsed) {
  if (done >= total) return {};
  const double eta = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
  return detail::concat("  [rank 0: ", done, "/", total, " volumes, ETA ", fixed(eta, 0), " s]");
}

// Test hook: H5DECON_TEST_FAIL_VOLUME=i makes volume i fail, so tests can show
// that a failure on one rank ends every rank cleanly.
void inject_test_failure(std::int64_t i) {
  const char* env = std::getenv("H5DECON_TEST_FAIL_VOLUME");
  if (env && std::to_string(i) == env)
    throw IoError("failure injected for testing (H5DECON_TEST_FAIL_VOLUME=" + std::string(env) +
                  ")");
}

std::vector<VolumeTimes> process_volumes(const Run& run, const io::InputDataset& input,
                                         io::OutputDataset& output, Engines& engines,
                                         const std::vector<std::int64_t>& mine) {
  const Shape5 shape = input.shape();
  std::vector<VolumeTimes> times;
  const auto loop_start = Clock::now();
  for (std::int64_t i : mine) {
    const std::int64_t c = i / shape.t, t = i % shape.t;
    try {
      inject_test_failure(i);
      VolumeTimes v{static_cast<double>(i)};
      auto start = Clock::now();
      const Volume observed = input.read_volume(c, t);
      v.read = seconds_since(start);
      start = Clock::now();
      Volume result(shape.volume);
      engines.by_channel.at(c)->deconvolve(observed.span(), result.span());
      v.compute = seconds_since(start);
      start = Clock::now();
      output.write_volume(c, t, result);
      v.write = seconds_since(start);
      times.push_back(v);
      run.log(describe(run, v, shape, 0),
              progress(times.size(), mine.size(), seconds_since(loop_start)));
    } catch (...) {
      rethrow_with_context(detail::concat("volume c=", c, " t=", t, ": "));
    }
  }
  return times;
}

// Rank 0 prints the volumes the other ranks did, in volume order.
void report_other_ranks(const Run& run, const std::vector<VolumeTimes>& mine, const Shape5& shape) {
  const int count = static_cast<int>(mine.size() * 4);
  std::vector<int> counts(static_cast<std::size_t>(run.size)), displs(counts.size());
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, run.comm);
  for (std::size_t r = 1; r < counts.size(); ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<double> all(run.rank == 0 ? static_cast<std::size_t>(displs.back() + counts.back())
                                        : 0);
  MPI_Gatherv(reinterpret_cast<const double*>(mine.data()), count, MPI_DOUBLE, all.data(),
              counts.data(), displs.data(), MPI_DOUBLE, 0, run.comm);
  if (run.rank != 0) return;
  for (int r = 1; r < run.size; ++r)
    for (int k = displs[static_cast<std::size_t>(r)];
         k < displs[static_cast<std::size_t>(r)] + counts[static_cast<std::size_t>(r)]; k += 4)
      run.log(describe(run, {all[k], all[k + 1], all[k + 2], all[k + 3]}, shape, r));
}

void resolve_backend(Run& run) {
  run.backend_kind = run.s.backend;
  if (run.s.backend == "auto" && !H5DECON_CUDA) {
    run.backend_kind = "cpu";
    run.log("backend auto: h5decon was built without CUDA; using the cpu backend");
  }
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
  const std::vector<std::int64_t> mine = my_volumes(run, shape);
  Engines engines = plan_engines(run, psfs, shape, mine);
  std::optional<io::OutputDataset> output;
  agree_on(run.comm, [&] {
    output.emplace(run.s.output, run.s.input, shape, chunk_shape(shape.volume),
                   make_provenance(run, *input), run.s.overwrite, run.comm);
  });
  std::vector<VolumeTimes> times;
  agree_on(run.comm, [&] { times = process_volumes(run, *input, *output, engines, mine); });
  report_other_ranks(run, times, shape);
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
