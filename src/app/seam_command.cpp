// `h5decon seams`: the seam error of blocked RL, measured in one process.
//
// For volume (0, 0) of a file, the whole-volume RL result (one engine, no
// blocks) is the reference. For each halo factor the volume is decomposed with
// plan_decomposition exactly as `run` would (explicit block, automatic halo from
// the factor), every block's region is deconvolved with an engine made for its
// own padded FFT shape, the interiors are assembled, and the result is compared:
//   seam error = max |blocked - whole| / max(whole)                 (DESIGN.md §3)
//   near-seam  = mean of |blocked - whole| / whole over the voxels within 2 voxels
//                of an interior boundary that is not a volume edge.
// The measurement that sets DecompositionOptions::halo_psf_factor is this one
// (docs/seam_error.md); `--check BOUND` turns it into a test of the default.
#include "seam_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"

namespace h5decon::app {
namespace {

using Clock = std::chrono::steady_clock;

struct SeamSettings {
  bool help = false;
  io::DatasetRef input, psf;
  std::vector<int> iterations{20, 50};
  std::vector<double> factors{0.5, 1, 2, 3, 4};
  std::optional<Shape3> block;  ///< empty: about a quarter of the volume per axis
  RlOptions rl;
  BackendOptions backend;
  std::optional<double> check;  ///< fail when the default halo's error exceeds this
};

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

const char* const kSeamSynopsis =
    "--input SYNTH.h5[:/data] [--iterations 20,50] [--halo-factors 0.5,1,2,3,4] "
    "[--block Z,Y,X] [--check BOUND]";
const char* const kSeamDescription =
    "Measures the seam error of the block decomposition on volume (c=0, t=0): the\n"
    "whole-volume RL result is the reference; for each halo factor (halo = ceil(factor x\n"
    "PSF extent) voxels per side) every block is deconvolved with its own FFT shape, the\n"
    "interiors are assembled and compared. Prints a Markdown table: the largest error\n"
    "relative to the volume's maximum, and the mean relative error within 2 voxels of\n"
    "the seams. One process; the engine uses every core given by --threads.";

po::options_description seam_option_descriptions() {
  po::options_description desc("Seam measurement");
  desc.add_options()("input", po::value<std::string>()->value_name("IN.h5[:/data]"),
                     "a (c,t,z,y,x) dataset; `h5decon synth` files have /data and /psf")(
      "psf", po::value<std::string>()->value_name("PSF.h5[:/psf]"),
      "PSF (default: /psf in the input file)")(
      "iterations", po::value<std::string>()->default_value("20,50")->value_name("N,..."),
      "RL iteration counts to measure")(
      "halo-factors", po::value<std::string>()->default_value("0.5,1,2,3,4")->value_name("F,..."),
      "halos to measure, in PSF extents (halo = ceil(F x PSF extent) per axis); 'default': "
      "the automatic halo's factor")(
      "block", po::value<std::string>()->default_value("auto")->value_name("auto|Z,Y,X"),
      "block interior; auto: about a quarter of the volume per axis (seams on every axis)")(
      "boundary", po::value<std::string>()->default_value("reflect")->value_name("MODE"),
      "volume edge: periodic|zero|reflect|neumann")(
      "init", po::value<std::string>()->default_value("observed")->value_name("MODE"),
      "first estimate: observed|constant|mean")(
      "threads", po::value<int>()->default_value(0)->value_name("N"), "threads (0: every core)")(
      "fft-planner", po::value<std::string>()->default_value("estimate")->value_name("MODE"),
      "estimate|measure|patient (estimate: many FFT shapes are planned once each)")(
      "check", po::value<double>()->value_name("BOUND"),
      "also measure the default halo factor and fail (exit 5) if its seam error exceeds BOUND");
  desc.add(generic_options());
  return desc;
}

/// "A,B,C" as numbers >= minimum; the word "default" stands for `fallback`.
template <class T>
std::vector<T> parse_list(const std::string& option, const std::string& text, T minimum,
                          std::optional<T> fallback = std::nullopt) {
  std::vector<T> out;
  std::stringstream in(text + ",");
  std::string part;
  while (std::getline(in, part, ',')) {
    if (fallback && part == "default") {
      out.push_back(*fallback);
      continue;
    }
    std::istringstream one(part);
    T value{};
    char extra = 0;
    if (!(one >> value) || (one >> extra) || !(value >= minimum))
      throw UsageError("--" + option + ": '" + text +
                       "' is not a comma-separated list of numbers >= " + detail::concat(minimum));
    out.push_back(value);
  }
  return out;
}

/// "auto" (nullopt), "N" or "Z,Y,X".
std::optional<Shape3> parse_block(const std::string& text) {
  if (text == "auto") return std::nullopt;
  const std::vector<std::int64_t> v = parse_list<std::int64_t>("block", text, 1);
  if (v.size() == 1) return Shape3{v[0], v[0], v[0]};
  if (v.size() != 3) throw UsageError("--block: '" + text + "' is not auto, N or Z,Y,X");
  return Shape3{v[0], v[1], v[2]};
}

template <class Parse>
auto as_usage_error(Parse&& parse, const std::string& option, const std::string& value) {
  try {
    return parse(value);
  } catch (const InputError& e) {
    throw UsageError("--" + option + ": " + e.what());
  }
}

SeamSettings parse_seam_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("seams", argc, argv, seam_option_descriptions());
  SeamSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  require_option(parsed, "input");
  const auto& v = parsed.values;
  const auto ref = [](const std::string& spec, const std::string& path) {
    return io::DatasetRef::parse(spec, path);
  };
  s.input = as_usage_error([&](auto t) { return ref(t, "/data"); }, "input",
                           v["input"].as<std::string>());
  const std::string psf = v.count("psf") ? v["psf"].as<std::string>() : s.input.file + ":/psf";
  s.psf = as_usage_error([&](auto t) { return ref(t, "/psf"); }, "psf", psf);
  s.iterations = parse_list<int>("iterations", v["iterations"].as<std::string>(), 1);
  s.factors = parse_list<double>("halo-factors", v["halo-factors"].as<std::string>(), 0.0,
                                 DecompositionOptions{}.halo_psf_factor);
  s.block = parse_block(v["block"].as<std::string>());
  s.rl.boundary = as_usage_error(parse_boundary, "boundary", v["boundary"].as<std::string>());
  s.rl.init = as_usage_error(parse_init, "init", v["init"].as<std::string>());
  s.backend.planner =
      as_usage_error(parse_planner, "fft-planner", v["fft-planner"].as<std::string>());
  s.backend.threads = v["threads"].as<int>();
  if (s.backend.threads < 0) throw UsageError("--threads must be >= 0");
  if (v.count("check")) s.check = v["check"].as<double>();
  if (s.check && !(*s.check > 0)) throw UsageError("--check must be a positive bound");
  return s;
}

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

Volume deconvolve_whole(Backend& backend, const Psf& psf, const Volume& observed,
                        const RlOptions& rl) {
  Volume result(observed.shape);
  backend.make_engine(psf, observed.shape, rl)->deconvolve(observed.span(), result.span());
  return result;
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
  const Shape5 dataset{1, 1, observed.shape};
  const DecompositionPlan plan = plan_decomposition(dataset, psf.kernel.shape, options);
  SeamRow row;
  row.factor = factor;
  row.halo = auto_halo(psf.kernel.shape, factor);
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
                  const DecompositionPlan& plan) {
  std::cout << "Seam error of " << s.input.str() << " volume c=0 t=0 (" << volume.str() << "), PSF "
            << psf.kernel.shape.str() << ", boundary " << to_string(s.rl.boundary) << ", init "
            << to_string(s.rl.init) << "; blocks: grid " << plan.grid.str() << ", interior "
            << plan.interior.str() << ".\n"
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

void execute(SeamSettings s) {
  const io::InputDataset input(s.input, MPI_COMM_SELF);
  const Volume observed = input.read_volume(0, 0);
  const Psf psf = prepare_psf(io::read_psfs(s.psf, MPI_COMM_SELF, input.shape().c)[0], s.psf.str(),
                              observed.shape);
  const double default_factor = DecompositionOptions{}.halo_psf_factor;
  if (s.check && std::find(s.factors.begin(), s.factors.end(), default_factor) == s.factors.end())
    s.factors.push_back(default_factor);
  std::sort(s.factors.begin(), s.factors.end());
  s.factors.erase(std::unique(s.factors.begin(), s.factors.end()), s.factors.end());
  const Shape3 block = s.block ? *s.block : quarter_block(observed.shape);
  DecompositionOptions probe;
  probe.block = block;
  print_header(s, observed.shape, psf,
               plan_decomposition({1, 1, observed.shape}, psf.kernel.shape, probe));
  auto backend = make_backend("cpu", s.backend);
  std::vector<SeamRow> rows;
  for (int iterations : s.iterations) {
    RlOptions rl = s.rl;
    rl.iterations = iterations;
    const Volume whole = deconvolve_whole(*backend, psf, observed, rl);
    for (double factor : s.factors) {
      rows.push_back(measure(*backend, psf, observed, whole, rl, block, factor));
      std::cout << row_text(rows.back()) << std::endl;
    }
  }
  if (s.check) check_default(rows, default_factor, *s.check);
}

}  // namespace

int seam_command(int argc, char** argv) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  SeamSettings s;
  agree_on(MPI_COMM_WORLD, [&] {
    s = parse_seam_settings(argc, argv);
    if (size > 1)
      throw UsageError(
          "'h5decon seams' runs in one process (it uses every core of it); "
          "start it without mpiexec");
  });
  if (s.help) {
    print_help(std::cout, "seams", kSeamSynopsis, kSeamDescription, seam_option_descriptions());
    return kExitOk;
  }
  execute(std::move(s));
  return kExitOk;
}

}  // namespace h5decon::app
