// `h5decon run --mode exact`: the run pipeline's checks (preflight.hpp), memory per
// rank against --memory-budget, the output, then dist::run_slabs() (the slab loop,
// include/h5decon/dist/slab_runtime.hpp) and the finish. Steps that may fail on some
// ranks end in agree_on(), so every rank leaves together with one message.
#include "run_exact.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "agreement.hpp"
#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/dist/slab_runtime.hpp"
#include "h5decon/error.hpp"
#include "h5decon/exact_engine.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "h5decon/samples.hpp"
#include "iteration_log.hpp"
#include "output_lock.hpp"
#include "preflight.hpp"
#include "run_resume.hpp"
#include "run_psfs.hpp"
#include "volume_background.hpp"

namespace h5decon::app {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string mib(std::int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << double(bytes) / (1024.0 * 1024.0) << " MiB";
  return os.str();
}

struct Exact {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  RunSettings& s;
  std::string command_line;
  std::optional<IterationLog> iterations;  ///< --log-iterations K > 0; rank 0 prints
  bool warned_negatives = false;            ///< the negative-data warning is given once per run
  std::optional<OutputLock> lock;           ///< rank 0: this run's hold on its output
  io::FileIdentity input_identity;          ///< rank 0: the input file at the run's start
  std::map<io::VolumeIndex, float> backgrounds;  ///< --background auto: per volume
  template <class... Parts>
  void log(const Parts&... parts) const {
    if (rank == 0) std::cout << detail::concat(parts...) << std::endl;
  }
};

// The largest per-rank need of any channel against the budget every rank agrees on.
void check_memory(const Exact& x, const Shape5& shape, const std::vector<Psf>& psfs) {
  std::int64_t need = 0;
  exact::ExactMemory mem;
  for (const Psf& p : psfs) {
    const exact::ExactMemory m = exact::exact_memory(shape.volume, p.kernel.shape, x.s.rl, x.comm,
                                                          x.s.backend_options);
    if (m.total() > mem.total()) mem = m;
  }
  std::int64_t local = mem.total();
  MPI_Allreduce(&local, &need, 1, MPI_INT64_T, MPI_MAX, x.comm);
  const std::int64_t budget =
      x.s.auto_memory_budget ? dist::auto_memory_budget(x.comm) : x.s.memory_budget;
  x.log("exact mode: volume ", shape.volume.str(), ", FFT ", mem.fft.str(), " in z-slabs over ",
        x.size, x.size == 1 ? " rank" : " ranks", "; ", need, " bytes (", mib(need),
        ") per rank at most", budget > 0 ? detail::concat(", budget ", budget, " bytes") : "");
  if (budget <= 0 || need <= budget) return;
  const auto ranks = static_cast<long long>(
      std::ceil(double(need) * x.size / (0.9 * double(budget))));
  throw InputError(detail::concat(
      "--mode exact needs ", need, " bytes (", mib(need), ") per rank on ", x.size,
      x.size == 1 ? " rank" : " ranks", " for volumes of ", shape.volume.str(),
      ", more than --memory-budget ", budget, " bytes (", mib(budget), "); run on more ranks "
      "(about ", std::max<long long>(ranks, x.size + 1), ") or raise the budget"));
}

io::Provenance provenance(const Exact& x, const io::InputDataset& input, const Shape3& fft) {
  io::Provenance p;
  p.command_line = x.command_line;
  p.options = x.s.resolved;
  p.iterations = x.s.rl.iterations;
  p.psf_source = x.s.psf.str();
  p.halo = "0,0,0";
  p.decomposition = detail::concat("exact: each volume whole, in z-slabs over ", x.size,
                                   x.size == 1 ? " rank" : " ranks", " (FFTW3-MPI, FFT ",
                                   fft.str(), ")");
  p.backend = dist::describe_per_rank(x.comm, "fftw-mpi (fftw3f)");
  p.element_size_um = input.element_size_um();
  p.attributes = {{"mode", "exact"}};
  p.attributes.merge(input.metadata());
  if (!x.backgrounds.empty())
    p.attributes["background_estimates"] = describe_backgrounds(x.backgrounds);
  return p;
}

// Chunks of whole planes of up to 256 x 256, at most 8 deep: slabs write whole chunks
// except where two ranks' slabs meet inside one.
Shape3 output_chunk(const Shape3& v) {
  return {std::min<std::int64_t>(v.z, 8), std::min<std::int64_t>(v.y, 256),
          std::min<std::int64_t>(v.x, 256)};
}

void execute(Exact& x) {
  const auto start = Clock::now();
  // The same checks as blocks mode, before anything is planned or written.
  agree_on(x.comm, [&] { check_launch(x.comm, x.s.allow_singleton); });
  agree_on(x.comm, [&] { claim_output(x.s, x.rank, x.lock); });
  std::optional<io::InputDataset> input;
  agree_on(x.comm, [&] { input.emplace(x.s.input, x.comm, x.s.axes); });
  const Shape5 shape = input->shape();
  x.log("input ", input->source(), ": ", shape.str(), " (c x t x z x y x x), ",
        io::to_string(input->dtype()));
  agree_on(x.comm, [&] {
    x.input_identity = check_opened_input(x.s, *input, shape.c * shape.t, x.rank);
  });
  std::vector<Psf> psfs;
  agree_on(x.comm, [&] { psfs = load_run_psfs(x.s, *input, x.comm); });
  agree_on(x.comm, [&] { check_memory(x, shape, psfs); });
  if (x.rank == 0 && (x.s.halo || x.s.block))
    std::cerr << "h5decon: warning: --halo and --block are not used in --mode exact (each "
                 "volume is computed whole, without blocks)" << std::endl;
  if (x.s.rl.background_auto) {
    const auto step = Clock::now();
    x.backgrounds = estimate_volume_backgrounds(x.comm, *input, {});
    x.log("--background auto, one estimate per volume (its darkest 8^3 tiles) in ",
          seconds_since(step), " s: ", describe_backgrounds(x.backgrounds));
  }
  std::optional<io::OutputDataset> output;
  agree_on(x.comm, [&] {
    const Shape3 fft = resolve_fft_shape(shape.volume, psfs.at(0).kernel.shape, {});
    output.emplace(x.s.output, io::DatasetRef{input->data_file(), x.s.input.path}, shape, output_chunk(shape.volume),
                   provenance(x, *input, fft), x.s.overwrite, x.comm);
  });
  dist::SlabRunOptions o;
  o.rl = x.s.rl;
  o.backend_options = x.s.backend_options;
  o.backgrounds = x.backgrounds;
  if (x.iterations)
    o.on_iteration = [&x](std::int64_t c, std::int64_t t, const IterationReport& r) {
      x.iterations->record({-1, c, t}, r);
    };
  // Negative data is set to 0 by every rank in its planes; one warning per run.
  o.on_negatives = [&x, &input](std::int64_t c, std::int64_t t, std::int64_t total) {
    if (total == 0 || x.warned_negatives) return;
    x.warned_negatives = true;
    if (x.rank == 0)
      std::cerr << "h5decon: warning: "
                << negatives_warning(input->description(), c, t, total, "volume") << std::endl;
  };
  o.on_volume = [&x](std::int64_t c, std::int64_t t, int iterations, double seconds) {
    x.log("volume c=", c, " t=", t, ": ", iterations, " iterations in ", seconds, " s (",
          seconds / std::max(iterations, 1), " s per iteration)");
  };
  dist::run_slabs(x.comm, *input, *output, psfs, o,
                  [&x](const std::function<void()>& step) { agree_on(x.comm, step); });
  if (x.iterations) x.log(x.iterations->summary(x.comm));
  agree_on(x.comm, [&] {
    if (x.rank == 0) check_input_unchanged(x.s, x.input_identity);
  });
  agree_on(x.comm, [&] { output->finish(); });
  x.log("wrote ", x.s.output.str(), " (float32, ", shape.str(), ") in exact mode in ",
        seconds_since(start), " s total");
}

}  // namespace

int run_exact(MPI_Comm comm, RunSettings& settings, const std::string& command_line) {
  Exact x{comm, 0, 1, settings, command_line, {}, false, {}, {}, {}};
  MPI_Comm_rank(comm, &x.rank);
  MPI_Comm_size(comm, &x.size);
  if (x.s.log_iterations > 0)
    x.iterations.emplace(x.s.log_iterations, x.s.rl, std::cout, x.rank == 0);
  exact::init_fftw_mpi();
  execute(x);
  return kExitOk;
}

}  // namespace h5decon::app
