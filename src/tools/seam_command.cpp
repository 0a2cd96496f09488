// `h5decon seams`: the seam error of blocked RL against exact mode.
//
// For volume (0, 0) of a file, the whole-volume RL result of exact mode (FFTW3-MPI
// over every rank, no blocks; seam_reference.hpp) is the reference, with the
// same boundary, init and planner as the blocks. On rank 0, for each halo factor
// the volume is decomposed with plan_decomposition exactly as `run` would
// (explicit block, automatic halo from the factor), every block's region is
// deconvolved with an engine made for its own padded FFT shape, the interiors are
// assembled, and the result is compared:
//   seam error = max |blocked - whole| / max(whole)                 (docs/design.md §3)
//   near-seam  = mean of |blocked - whole| / whole over the voxels within 2 voxels
//                of an interior boundary that is not a volume edge.
// The measurement that sets DecompositionOptions::halo_psf_factor is this one
// (docs/seam_error.md); `--check BOUND` turns it into a test of the default.
#include "tools/seam_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "app/agreement.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/error.hpp"
#include "h5decon/exact_engine.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "tools/seam_options.hpp"
#include "tools/seam_reference.hpp"

namespace h5decon::tools {
using namespace app;  // the program's shared pieces: options, agreement, errors
namespace {

using Clock = std::chrono::steady_clock;

/// One row of the table.
struct SeamRow {
  double factor = 0;
  Shape3 halo;
  int iterations = 0;
  double max_error = 0;  ///< max |blocked - whole| / max(whole)
  double near_mean = 0;  ///< mean |blocked - whole| / whole next to the seams
  std::int64_t blocks = 0, engines = 0;
  double seconds = 0;
  std::string seamed_axes;  ///< axes where some region ends inside the volume: the seams tested
};

/// Offset of voxel (z, y, x) in a C-order array of shape `s`.
std::size_t offset_of(const Shape3& s, std::int64_t z, std::int64_t y, std::int64_t x) {
  return static_cast<std::size_t>((z * s.y + y) * s.x + x);
}

/// Copies the box [from, from + count) of `src` into `dst` at `to`.
void copy_box(const Volume& src, const Shape3& from, const Shape3& count, Volume& dst,
              const Shape3& to) {
  for (std::int64_t z = 0; z < count.z; ++z)
    for (std::int64_t y = 0; y < count.y; ++y) {
      const auto s = src.data.begin() + offset_of(src.shape, from.z + z, from.y + y, from.x);
      std::copy(s, s + count.x, dst.data.begin() + offset_of(dst.shape, to.z + z, to.y + y, to.x));
    }
}

/// Deconvolves every block of volume (0, 0) and assembles the interiors. Blocks
/// are grouped by region shape so that each engine (plans, OTF) is made once and
/// only one is alive at a time. Returns the number of engines made.
std::int64_t deconvolve_blocked(Backend& backend, const Psf& psf, const Volume& observed,
                                const RlOptions& rl, const DecompositionPlan& plan,
                                Volume& result) {
  using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
  std::map<Key, std::vector<Block>> by_shape;
  for (std::int64_t id = 0; id < plan.grid.size(); ++id) {
    const Block b = block_at(plan, id);
    by_shape[{b.region_count.z, b.region_count.y, b.region_count.x}].push_back(b);
  }
  for (const auto& [key, blocks] : by_shape) {
    const Shape3 region = blocks.front().region_count;
    auto engine = backend.make_engine(psf, region, rl, blocks.front().fft);
    Volume d(region), u(region);
    for (const Block& b : blocks) {
      copy_box(observed, b.region_offset, region, d, {});
      engine->deconvolve(d.span(), u.span());
      Shape3 inner;
      for (int a = 0; a < 3; ++a) inner[a] = b.interior_offset[a] - b.region_offset[a];
      copy_box(u, inner, b.interior_count, result, b.interior_offset);
    }
  }
  return static_cast<std::int64_t>(by_shape.size());
}

/// Per axis, whether each coordinate lies within 2 voxels of an interior
/// boundary (a face between two blocks, never the volume edge).
std::vector<bool> near_seam_axis(std::int64_t extent, std::int64_t interior, std::int64_t grid) {
  std::vector<bool> near(static_cast<std::size_t>(extent), false);
  for (std::int64_t k = 1; k < grid; ++k)
    for (std::int64_t p = k * interior - 2; p < k * interior + 2; ++p)
      if (p >= 0 && p < extent) near[static_cast<std::size_t>(p)] = true;
  return near;
}

void compare(const Volume& blocked, const Volume& whole, const DecompositionPlan& plan,
             SeamRow& row) {
  const Shape3 v = whole.shape;
  std::vector<bool> near[3];
  for (int a = 0; a < 3; ++a) near[a] = near_seam_axis(v[a], plan.interior[a], plan.grid[a]);
  double peak = 0, worst = 0, near_sum = 0;
  std::int64_t near_count = 0;
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y)
      for (std::int64_t x = 0; x < v.x; ++x) {
        const double w = whole.at(z, y, x), diff = std::abs(double(blocked.at(z, y, x)) - w);
        peak = std::max(peak, std::abs(w));
        worst = std::max(worst, diff);
        if (near[0][std::size_t(z)] || near[1][std::size_t(y)] || near[2][std::size_t(x)]) {
          near_sum += diff / std::max(std::abs(w), 1e-30);
          ++near_count;
        }
      }
  row.max_error = peak > 0 ? worst / peak : worst;
  row.near_mean = near_count ? near_sum / double(near_count) : 0.0;
}

/// The axes along which some block's region is shorter than the volume: only
/// there can a halo be too short. (A halo reaching past both volume edges makes
/// that axis exact, so a large factor may test fewer axes.)
std::string seamed_axes(const DecompositionPlan& plan) {
  bool seamed[3] = {false, false, false};
  for (std::int64_t id = 0; id < plan.grid.size(); ++id) {
    const Block b = block_at(plan, id);
    for (int a = 0; a < 3; ++a) seamed[a] = seamed[a] || b.region_count[a] < plan.dataset.volume[a];
  }
  std::string out;
  for (int a = 0; a < 3; ++a)
    if (seamed[a]) out += "zyx"[a];
  return out.empty() ? "none" : out;
}

/// About a quarter of the volume per axis (at least 1 voxel), rounded up.
Shape3 quarter_block(const Shape3& volume) {
  Shape3 b;
  for (int a = 0; a < 3; ++a) b[a] = std::max<std::int64_t>(1, (volume[a] + 3) / 4);
  return b;
}

SeamRow measure(Backend& backend, const Psf& psf, const Volume& observed, const Volume& whole,
                const RlOptions& rl, const Shape3& block, double factor) {
  DecompositionOptions options;
  options.block = block;
  options.halo_psf_factor = factor;
  options.psf_support = halo_support({psf.kernel});  // as run's automatic halo
  const Shape5 dataset{1, 1, observed.shape};
  const DecompositionPlan plan = plan_decomposition(dataset, psf.kernel.shape, options);
  SeamRow row;
  row.factor = factor;
  row.halo = auto_halo(*options.psf_support, factor);
  row.iterations = rl.iterations;
  row.blocks = plan.block_count;
  row.seamed_axes = seamed_axes(plan);
  const auto start = Clock::now();
  Volume blocked(observed.shape);
  row.engines = deconvolve_blocked(backend, psf, observed, rl, plan, blocked);
  row.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  compare(blocked, whole, plan, row);
  return row;
}

std::string row_text(const SeamRow& r) {
  char line[256];
  std::snprintf(
      line, sizeof line, "| %.2f | %lld,%lld,%lld | %s | %d | %.2e | %.1e | %lld | %lld | %.1f |",
      r.factor, static_cast<long long>(r.halo.z), static_cast<long long>(r.halo.y),
      static_cast<long long>(r.halo.x), r.seamed_axes.c_str(), r.iterations, r.max_error,
      r.near_mean, static_cast<long long>(r.blocks), static_cast<long long>(r.engines), r.seconds);
  return line;
}

void print_header(const SeamSettings& s, const Shape3& volume, const Psf& psf,
                  const DecompositionPlan& plan, int ranks) {
  std::cout << "Seam error of " << s.input.str() << " volume c=0 t=0 (" << volume.str() << "), PSF "
            << psf.kernel.shape.str() << ", boundary " << to_string(s.rl.boundary) << ", init "
            << to_string(s.rl.init) << "; blocks: grid " << plan.grid.str() << ", interior "
            << plan.interior.str() << ".\n"
            << "Reference (whole): exact mode (FFTW3-MPI, the whole volume in z-slabs) on " << ranks
            << (ranks == 1 ? " rank" : " ranks") << ", FFT "
            << padded_shape(volume, psf.kernel.shape).str() << ".\n"
            << "Seam error = max |blocked - whole| / max(whole); near-seam error = mean "
               "|blocked - whole| / whole within 2 voxels of a seam.\n\n"
            << "| halo (PSF extents) | halo z,y,x (voxels) | seamed axes | iterations | seam error "
               "| near-seam error (mean) | blocks | engines | blocked s |\n"
            << "|---:|---|---|---:|---:|---:|---:|---:|---:|\n"
            << std::flush;
}

/// Throws when the default halo's seam error exceeds the bound at any iteration count.
void check_default(const std::vector<SeamRow>& rows, double factor, double bound) {
  for (const SeamRow& r : rows) {
    if (r.factor != factor) continue;
    std::cout << "check: default halo factor " << factor << ", " << r.iterations
              << " iterations: seam error " << r.max_error
              << (r.max_error <= bound ? " <= " : " > ") << bound
              << (r.max_error <= bound ? " ok" : " FAILED") << "\n";
    H5DECON_REQUIRE(r.max_error <= bound, Error, "seam error ", r.max_error,
                    " of the default halo (", factor, " PSF extents) after ", r.iterations,
                    " iterations exceeds the bound ", bound);
  }
}

/// The factors to measure: sorted, once each, with the default one under --check.
std::vector<double> factors_to_measure(const SeamSettings& s) {
  std::vector<double> f = s.factors;
  if (s.check) f.push_back(DecompositionOptions{}.halo_psf_factor);
  std::sort(f.begin(), f.end());
  f.erase(std::unique(f.begin(), f.end()), f.end());
  return f;
}

/// Collective on `comm`: the exact-mode reference over every rank, then the
/// blocked results and the table on rank 0 while the others wait.
void execute(SeamSettings s, MPI_Comm comm) {
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  exact::init_fftw_mpi();
  std::optional<io::InputDataset> input;
  agree_on(comm, [&] { input.emplace(s.input, comm); });
  const Shape3 volume = input->shape().volume;
  Psf psf;
  agree_on(comm, [&] {
    psf = prepare_psf(io::read_psfs(s.psf, comm, input->shape().c)[0], s.psf.str(), volume);
  });
  s.factors = factors_to_measure(s);
  const Shape3 block = s.block ? *s.block : quarter_block(volume);
  Volume observed;
  std::unique_ptr<Backend> backend;
  on_rank0_agreed(comm, [&] {
    observed = input->read_volume(0, 0);
    DecompositionOptions probe;
    probe.block = block;
    print_header(s, volume, psf, plan_decomposition({1, 1, volume}, psf.kernel.shape, probe),
                 ranks);
    backend = make_backend("cpu", s.backend);
  });
  std::vector<SeamRow> rows;
  for (std::size_t i = 0; i < s.iterations.size(); ++i) {
    RlOptions rl = s.rl;
    rl.iterations = s.iterations[i];
    const Volume whole = exact_reference(*input, psf, rl, s.backend, comm);
    on_rank0_agreed(comm, [&] {
      if (s.save_reference) save_reference(*s.save_reference, i == 0, rl.iterations, whole);
      for (double factor : s.factors) {
        rows.push_back(measure(*backend, psf, observed, whole, rl, block, factor));
        std::cout << row_text(rows.back()) << std::endl;
      }
    });
  }
  if (s.check)
    on_rank0_agreed(comm,
                    [&] { check_default(rows, DecompositionOptions{}.halo_psf_factor, *s.check); });
}

}  // namespace

int seam_command(int argc, char** argv) {
  SeamSettings s;
  agree_on(MPI_COMM_WORLD, [&] { s = parse_seam_settings(argc, argv); });
  if (s.help) {
    print_seam_help(std::cout);
    return kExitOk;
  }
  execute(std::move(s), MPI_COMM_WORLD);
  return kExitOk;
}

}  // namespace h5decon::tools
