// The table of `run`'s options (run_option_table.hpp) and their parsers.
#include "run_option_table.hpp"

#include <cctype>
#include <cmath>
#include <cstring>
#include <sstream>

#include "run_options.hpp"

namespace h5decon::app {
namespace {

// --- parsers of single values: each throws UsageError naming the option ----------------

// Runs a parser of the engine's option names, reporting its error as a usage error.
template <class Parse>
auto parse_name(Parse&& parse, const std::string& value) {
  try {
    return parse(value);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
}

long long whole_number(std::string_view option, const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(detail::concat("--", option, ": '", text, "' is not a whole number"));
  return v;
}

int int_at_least(std::string_view option, const std::string& text, int minimum,
                 std::string_view meaning) {
  const long long v = whole_number(option, text);
  if (v < minimum || v > 1000000000)
    throw UsageError(detail::concat("--", option, " must be >= ", minimum, meaning, ", got ", text));
  return static_cast<int>(v);
}

template <class Real>
Real real_number(std::string_view option, const std::string& text) {
  return static_cast<Real>(parse_number(option, text));
}

io::DatasetRef parse_ref(std::string_view option, const std::string& spec,
                         const std::string& default_path) {
  try {
    return io::DatasetRef::parse(spec, default_path);
  } catch (const InputError& e) {
    throw UsageError(detail::concat("--", option, ": ", e.what()));
  }
}

// "auto", "N" (every axis) or "Z,Y,X", each at least `minimum`.
std::optional<Shape3> parse_shape(std::string_view option, const std::string& text,
                                  std::int64_t minimum) {
  if (text == "auto") return std::nullopt;
  std::vector<std::int64_t> values;
  std::stringstream in(text);
  std::string part;
  const std::string what = detail::concat("--", option, ": '", text, "' is not auto, N or Z,Y,X");
  while (std::getline(in, part, ',')) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || v < minimum)
      throw UsageError(detail::concat(what, " with numbers >= ", minimum));
    values.push_back(v);
  }
  if (values.size() == 1) return Shape3{values[0], values[0], values[0]};
  if (values.size() != 3) throw UsageError(what);
  return Shape3{values[0], values[1], values[2]};
}

// "auto" (true) or bytes with an optional K/M/G/T suffix (powers of 1024).
bool parse_budget(const std::string& text, std::int64_t& bytes) {
  if (text == "auto") return true;
  std::size_t used = 0;
  double number = -1;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string suffix = used ? text.substr(used) : "";
  for (const char* tail : {"iB", "B"})
    if (suffix.size() > std::strlen(tail) && suffix.ends_with(tail))
      suffix.resize(suffix.size() - std::strlen(tail));
  const std::string units = "KMGT";
  const auto unit = suffix.empty() ? std::string::npos : units.find(char(std::toupper(suffix[0])));
  if (used == 0 || !(number >= 0) || !std::isfinite(number) ||
      (!suffix.empty() && (suffix.size() != 1 || unit == std::string::npos)))
    throw UsageError("--memory-budget: '" + text +
                     "' is not auto or a number of bytes >= 0 (suffixes K, M, G, T: powers of 1024)");
  const double value = number * std::pow(1024.0, suffix.empty() ? 0.0 : double(unit + 1));
  if (value >= 0x1p62)  // 4 EiB: no machine's; beyond it the byte count overflows
    throw UsageError("--memory-budget: '" + text + "' is more than 4 EiB; use 0 for unlimited");
  bytes = static_cast<std::int64_t>(value);
  return false;
}

// A switch: "true" or "false" (parse_run_settings() passes a bool's text).
template <bool RunSettings::*Field>
std::string apply_switch(const std::string& t, RunSettings& s) {
  s.*Field = t == "true";
  return t;
}

// --- the appliers: one per option ---------------------------------------------------

std::string apply_input(const std::string& t, RunSettings& s) {
  s.input = parse_ref("input", t, "/data");
  return s.input.str();
}
std::string apply_read(const std::string& t, RunSettings& s) {
  if (t != "served" && t != "chunks" && t != "direct")
    throw UsageError("--read: unknown value '" + t + "'; valid: served, chunks, direct");
  s.direct_reads = t == "direct";
  s.chunk_reads = t == "chunks";
  return t;
}
std::string apply_inputs(const std::string& t, RunSettings& s) {
  if (t.empty()) throw UsageError(std::string("--inputs: empty; give a list file or a quoted glob"));
  s.inputs = t;
  return s.inputs;
}
std::string apply_psf(const std::string& t, RunSettings& s) {
  try {
    s.psf = io::parse_psf_ref(t, "/psf");
  } catch (const InputError& e) {
    throw UsageError(std::string("--psf: ") + e.what());
  }
  return s.psf.str();
}
std::string apply_output(const std::string& t, RunSettings& s) {
  // After --input: its path by default (/data with --inputs).
  s.output = parse_ref("output", t, s.input.path.empty() ? "/data" : s.input.path);
  return s.output.str();
}
std::string apply_axes(const std::string& t, RunSettings& s) {
  if (t != "ctzyx" && t != "zyx" && t != "czyx" && t != "tzyx")
    throw UsageError("--axes: unknown value '" + t + "'; valid: ctzyx, czyx, tzyx, zyx");
  s.axes = t == "ctzyx" ? "" : t;
  return t;
}
std::string apply_iterations(const std::string& t, RunSettings& s) {
  s.rl.iterations = int_at_least("iterations", t, 1, "");
  return std::to_string(s.rl.iterations);
}
std::string apply_max_iterations(const std::string& t, RunSettings& s) {
  s.max_iterations = int_at_least("max-iterations", t, 1, "");
  return std::to_string(s.max_iterations);
}
std::string apply_boundary(const std::string& t, RunSettings& s) {
  s.rl.boundary = parse_name(parse_boundary, t);
  return to_string(s.rl.boundary);
}
std::string apply_init(const std::string& t, RunSettings& s) {
  s.rl.init = parse_name(parse_init, t);
  return to_string(s.rl.init);
}
std::string apply_eps(const std::string& t, RunSettings& s) {
  s.rl.eps = real_number<float>("eps", t);
  if (!(std::isfinite(s.rl.eps) && s.rl.eps > 0.0f))
    throw UsageError("--eps must be a positive number, got " + t);
  // The guard only keeps d / max(Hu, eps) finite where Hu is 0; above one count it
  // replaces the model wherever the prediction is dimmer, and the result decays to 0.
  if (s.rl.eps > 1.0f) {
    const std::string e = detail::concat(s.rl.eps);
    throw UsageError("--eps " + e + " would replace the data term d / Hu wherever Hu < " + e +
                     " (the result decays towards 0); it guards against dividing by 0 and must "
                     "be at most 1 (default 1e-6)");
  }
  return shortest_text(s.rl.eps);
}
std::string apply_psf_crop(const std::string& t, RunSettings& s) {
  s.psf_crop = real_number<double>("psf-crop", t);
  if (!(std::isfinite(s.psf_crop) && s.psf_crop >= 0 && s.psf_crop <= 1))
    throw UsageError("--psf-crop must be a number in (0, 1] (0: off), got " + t);
  return shortest_text(s.psf_crop);
}
std::string apply_accel(const std::string& t, RunSettings& s) {
  s.rl.accel = parse_name(parse_acceleration, t);
  return to_string(s.rl.accel);
}
std::string apply_tv(const std::string& t, RunSettings& s) {
  s.rl.tv_lambda = real_number<float>("tv", t);
  return shortest_text(s.rl.tv_lambda);
}
// "auto", or a number >= 0 in the data's units.
std::string apply_background(const std::string& t, RunSettings& s) {
  s.rl.background_auto = t == "auto";
  if (s.rl.background_auto) return t;
  std::size_t used = 0;
  float value = -1.0f;
  try {
    value = std::stof(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != t.size() || !(std::isfinite(value) && value >= 0.0f))
    throw UsageError("--background: '" + t + "' is not auto or a number >= 0");
  s.rl.background = value;
  return shortest_text(value);
}
std::string apply_stop_rel_change(const std::string& t, RunSettings& s) {
  s.rl.stop_rel_change = real_number<double>("stop-rel-change", t);
  return shortest_text(s.rl.stop_rel_change);
}
std::string apply_backprojector(const std::string& t, RunSettings& s) {
  s.rl.back_projector = parse_name(parse_back_projector, t);
  return to_string(s.rl.back_projector);
}
std::string apply_wb_alpha(const std::string& t, RunSettings& s) {
  s.rl.wb.alpha = real_number<double>("wb-alpha", t);
  if (!(std::isfinite(s.rl.wb.alpha) && s.rl.wb.alpha > 0))
    throw UsageError("--wb-alpha must be a positive number, got " + t);
  return shortest_text(s.rl.wb.alpha);
}
// "auto" (0: the traditional back projector's gain at the cut-off), or a number in (0, 1).
std::string apply_wb_beta(const std::string& t, RunSettings& s) {
  s.rl.wb.beta = t == "auto" ? 0.0 : real_number<double>("wb-beta", t);
  if (t != "auto" && !(s.rl.wb.beta > 0 && s.rl.wb.beta < 1))
    throw UsageError("--wb-beta must be auto or a number in (0, 1), got " + t);
  return t == "auto" ? t : shortest_text(s.rl.wb.beta);
}
std::string apply_wb_order(const std::string& t, RunSettings& s) {
  s.rl.wb.order = int_at_least("wb-order", t, 1, "");
  if (s.rl.wb.order > 64) throw UsageError("--wb-order must be at most 64, got " + t);
  return std::to_string(s.rl.wb.order);
}
// "fwhm" (0 on every axis: the PSF's full width at half maximum) or "Z,Y,X" voxels > 0.
std::string apply_wb_resolution(const std::string& t, RunSettings& s) {
  s.rl.wb.resolution = {0.0, 0.0, 0.0};
  if (t == "fwhm") return t;
  std::stringstream in(t);
  std::string part, out;
  std::size_t n = 0;
  while (std::getline(in, part, ',')) {
    const double v = n < 3 ? real_number<double>("wb-resolution", part) : 0.0;
    if (n >= 3 || !(std::isfinite(v) && v > 0))
      throw UsageError("--wb-resolution: '" + t + "' is not fwhm or Z,Y,X voxels > 0");
    s.rl.wb.resolution[n++] = v;
    out.append(out.empty() ? "" : ",").append(shortest_text(v));
  }
  if (n != 3) throw UsageError("--wb-resolution: '" + t + "' is not fwhm or Z,Y,X voxels > 0");
  return out;
}
std::string apply_stop_divergence(const std::string& t, RunSettings& s) {
  s.rl.stop_divergence = real_number<double>("stop-divergence", t);
  if (!(std::isfinite(s.rl.stop_divergence) && s.rl.stop_divergence >= 0 &&
        s.rl.stop_divergence < 1))
    throw UsageError("--stop-divergence must be a number in [0, 1) (0: off), got " + t);
  return shortest_text(s.rl.stop_divergence);
}
std::string apply_backend(const std::string& t, RunSettings& s) {
  if (t != "auto" && t != "cpu" && t != "cuda")
    throw UsageError("--backend: unknown value '" + t + "'; valid: auto, cpu, cuda");
  s.backend = t;
  return t;
}
std::string apply_threads(const std::string& t, RunSettings& s) {
  s.backend_options.threads = int_at_least("threads", t, 0, " (0: every core)");
  return std::to_string(s.backend_options.threads);
}
std::string apply_fft_planner(const std::string& t, RunSettings& s) {
  s.backend_options.planner = parse_name(parse_planner, t);
  return to_string(s.backend_options.planner);
}
std::string apply_wisdom(const std::string& t, RunSettings& s) {
  s.backend_options.wisdom_file = t;
  return t;
}
std::string apply_mode(const std::string& t, RunSettings& s) {
  if (t != "blocks" && t != "exact")
    throw UsageError("--mode: unknown value '" + t + "'; valid: blocks, exact");
  s.mode = t;
  return t;
}
std::string apply_halo(const std::string& t, RunSettings& s) {
  s.halo = parse_shape("halo", t, 0);
  return t;
}
std::string apply_block(const std::string& t, RunSettings& s) {
  s.block = parse_shape("block", t, 1);
  return t;
}
std::string apply_memory_budget(const std::string& t, RunSettings& s) {
  s.auto_memory_budget = parse_budget(t, s.memory_budget);
  return t;
}
std::string apply_progress_interval(const std::string& t, RunSettings& s) {
  s.progress_interval = real_number<double>("progress-interval", t);
  if (!(std::isfinite(s.progress_interval) && s.progress_interval > 0))
    throw UsageError("--progress-interval must be a positive number of seconds, got " + t);
  return shortest_text(s.progress_interval);
}
std::string apply_log_iterations(const std::string& t, RunSettings& s) {
  s.log_iterations = int_at_least("log-iterations", t, 0, " (0: off)");
  return std::to_string(s.log_iterations);
}
std::string apply_shard(const std::string& t, RunSettings& s) {
  s.shard = t;
  return t;
}

using S = InSignature;
constexpr bool kRecorded = true;
constexpr bool kRequired = true;

}  // namespace

const std::vector<RunOption>& run_option_table() {
  // clang-format off
  static const std::vector<RunOption> table = {
    // name, group, value name, default, help, signature, modes, recorded, parser, required
    {"input", "Data", "IN.h5[:/data]", "",
     "input dataset (c,t,z,y,x); uint8, uint16 or float32",
     S::other_form /* the input's identity and shape */, kBothModes, kRecorded, apply_input, !kRequired},
    {"inputs", "Data", "LIST|'GLOB'", "",
     "many inputs in one job instead of --input: a file listing one input per line (FILE[:/path]; "
     "# starts a comment) or a quoted glob ('raw/*.h5', natural order); each is run in turn into "
     "--output with {name} (the input's file name without extension) replaced, e.g. "
     "--output 'out/{name}_decon.h5'; with --shard or a SLURM array, each task runs its share of "
     "the inputs whole",
     S::none /* each input's run records its own --input */, kBothModes, !kRecorded, apply_inputs,
     !kRequired},
    {"psf", "Data", "PSF.h5[:/psf]|PSF.tif", "",
     "PSF: HDF5 (z,y,x) for every channel or (c,z,y,x); or a multi-page TIFF (.tif/.tiff, "
     "one page per z plane, uint8/uint16/float32), one PSF for every channel; any size; "
     "normalised to sum 1",
     S::other_form /* the PSFs' bits */, kBothModes, kRecorded, apply_psf, kRequired},
    {"ignore-voxel-size", "Data", "", "false",
     "run even though the PSF's recorded voxel size (element_size_um; a TIFF's ImageJ "
     "calibration) differs from the input's by more than 1% (otherwise an error)",
     S::none, kBothModes, kRecorded, apply_switch<&RunSettings::ignore_voxel_size>, !kRequired},
    {"psf-resample", "Data", "", "false",
     "resample the PSF onto the input's voxel grid when their recorded voxel sizes differ "
     "(by more than 1% on an axis; otherwise an error)",
     S::result, kBothModes, kRecorded, apply_switch<&RunSettings::psf_resample>, !kRequired},
    {"output", "Data", "OUT.h5[:/path]", "",
     "output file (never the input); the dataset path defaults to the input's",
     S::other_form /* the dataset path */, kBothModes, kRecorded, apply_output, kRequired},
    {"axes", "Data", "AXES", "ctzyx",
     "stored axes of the input: ctzyx, or zyx|czyx|tzyx for rank 3/4 data",
     S::result, kBothModes, kRecorded, apply_axes, !kRequired},
    {"overwrite", "Data", "", "false", "replace an existing output file",
     S::none, kBothModes, kRecorded, apply_switch<&RunSettings::overwrite>, !kRequired},

    {"iterations", "Algorithm", "N", "20", "RL iterations (>= 1)",
     S::other_form /* "iterations", with --max-iterations resolved */, kBothModes, kRecorded,
     apply_iterations, !kRequired},
    {"boundary", "Algorithm", "MODE", "bertero",
     "volume edge: periodic|zero|reflect|neumann|bertero", S::result, kBothModes, kRecorded,
     apply_boundary, !kRequired},
    {"init", "Algorithm", "MODE", "observed", "first estimate: observed|constant|mean",
     S::result, kBothModes, kRecorded, apply_init, !kRequired},
    {"eps", "Algorithm", "E", "1e-06", "guard of the ratio d / max(Hu, eps), in the data's units",
     S::result, kBothModes, kRecorded, apply_eps, !kRequired},
    {"psf-crop", "Algorithm", "E", "0",
     "crop each PSF to the smallest centred box holding this share of its flux "
     "(e.g. 0.999): smaller halos and FFTs; 0: off",
     S::result, kBothModes, kRecorded, apply_psf_crop, !kRequired},
    {"max-iterations", "Algorithm", "N", "",
     "the same as --iterations: the most iterations when --stop-rel-change is set",
     S::other_form /* "iterations" */, kBothModes, kRecorded, apply_max_iterations, !kRequired},
    {"accel", "Algorithm", "MODE", "none",
     "none|biggs|biggs-log: Biggs-Andrews vector extrapolation of u (biggs, as MATLAB "
     "deconvlucy) or of log u (biggs-log: the best result in the fewest iterations)",
     S::result, kBothModes, kRecorded, apply_accel, !kRequired},
    {"tv", "Algorithm", "LAMBDA", "0",
     "total-variation weight of RL-TV (Dey et al.); 0: plain RL; typical 0.001-0.01",
     S::result, kBothModes, kRecorded, apply_tv, !kRequired},
    {"background", "Algorithm", "B|auto", "0",
     "constant camera offset in the model, d / (Hu + B); auto: estimated per volume from "
     "its darkest 8^3 tiles",
     S::result, kBothModes, kRecorded, apply_background, !kRequired},
    {"stop-rel-change", "Algorithm", "X", "0",
     "stop once ||u_k - u_k-1||_1 / ||u_k-1||_1 < X (0: run every iteration)",
     S::result, kBothModes, kRecorded, apply_stop_rel_change, !kRequired},
    {"stop-divergence", "Algorithm", "X", "0",
     "stop once two iterations in a row improve the fit to the data (I-divergence) by less "
     "than the fraction X over the best, and keep the best estimate (works with --accel "
     "and --backprojector wb; e.g. 0.001); 0: off",
     S::result, kBothModes, kRecorded, apply_stop_divergence, !kRequired},

    {"backprojector", "Algorithm", "NAME", "traditional",
     "traditional: RL's back projector, the mirrored PSF; wb: the Wiener-Butterworth back "
     "projector (Guo et al. 2020), a few iterations in place of tens (docs/quality.md)",
     S::result, kBothModes, kRecorded, apply_backprojector, !kRequired},
    {"wb-alpha", "Algorithm", "ALPHA", "0.05",
     "wb: the Wiener parameter alpha of conj(H) / (|H|^2 + alpha), H the OTF with maximum 1",
     S::result, kBothModes, kRecorded, apply_wb_alpha, !kRequired},
    {"wb-beta", "Algorithm", "BETA|auto", "auto",
     "wb: the back projector's gain at the cut-off frequency; auto: the OTF's gain there",
     S::result, kBothModes, kRecorded, apply_wb_beta, !kRequired},
    {"wb-order", "Algorithm", "N", "10", "wb: order n of the Butterworth filter",
     S::result, kBothModes, kRecorded, apply_wb_order, !kRequired},
    {"wb-resolution", "Algorithm", "fwhm|Z,Y,X", "fwhm",
     "wb: the resolution in voxels whose inverse is the cut-off frequency on each axis; "
     "fwhm: the PSF's full width at half maximum",
     S::result, kBothModes, kRecorded, apply_wb_resolution, !kRequired},

    {"backend", "Compute", "NAME", "cpu",
     "auto|cpu|cuda (auto: a visible GPU, else cpu, said in the log)",
     S::result, kBothModes, kRecorded, apply_backend, !kRequired},
    {"threads", "Compute", "N", "0", "threads per rank (0: every core the rank may use)",
     S::none /* bitwise independent of the thread count */, kBothModes, kRecorded,
     apply_threads, !kRequired},
    {"fft-planner", "Compute", "MODE", "measure", "FFTW planning effort: estimate|measure|patient",
     S::result, kBothModes, kRecorded, apply_fft_planner, !kRequired},
    {"wisdom", "Compute", "FILE", "", "FFTW wisdom file: read before planning, updated after",
     S::other_form /* "wisdom": the file, or auto */, kBothModes, kRecorded, apply_wisdom, !kRequired},
    {"dry-run", "Compute", "", "false", "check the options, print them as a config file, and stop",
     S::none, kBothModes, !kRecorded, apply_switch<&RunSettings::dry_run>, !kRequired},

    {"mode", "Decomposition", "MODE", "blocks",
     "blocks: volumes split into blocks with halos, served to all ranks; exact: each volume "
     "whole over all ranks in z-slabs (FFTW3-MPI, cpu), no seams, memory per rank ~1/ranks "
     "of the volume's",
     S::result, kBothModes, kRecorded, apply_mode, !kRequired},
    {"halo", "Decomposition", "auto|Z,Y,X", "auto",
     "voxels read beyond each block side; auto: from the PSF extent",
     S::other_form /* the plan */, kBothModes /* exact mode: unused, said in its log */, kRecorded, apply_halo, !kRequired},
    {"block", "Decomposition", "auto|Z,Y,X", "auto",
     "block interior; auto: the least FFT work within the memory budget",
     S::other_form /* the plan */, kBothModes /* exact mode: unused, said in its log */, kRecorded, apply_block, !kRequired},
    {"memory-budget", "Decomposition", "BYTES|auto", "auto",
     "most bytes one block (exact mode: one rank's slab) may need (K/M/G/T suffixes); "
     "0: unlimited; auto: half the node's memory shared by its ranks",
     S::other_form /* the plan */, kBothModes, kRecorded, apply_memory_budget, !kRequired},
    {"progress-interval", "Decomposition", "S", "10",
     "seconds between progress lines when stdout is not a terminal",
     S::none, kBothModes, kRecorded, apply_progress_interval, !kRequired},
    {"log-iterations", "Decomposition", "K", "0",
     "log every K-th RL iteration of each block (relative change, alpha), a line per block "
     "(iterations, last change, --stop-rel-change met) and one for the run; K above "
     "--iterations: only those; 0: off",
     S::none, kBothModes, kRecorded, apply_log_iterations, !kRequired},

    {"resume", "Distributed runs", "", "false",
     "finish the partial output of an interrupted run (same options): blocks recorded done "
     "in OUT.partial.journal are not recomputed",
     S::none, kBlocksMode, kRecorded, apply_switch<&RunSettings::resume>, !kRequired},
    {"shard", "Distributed runs", "K/N|auto|off", "off",
     "compute only the (c,t) volumes i = c*T+t with i % N == K, into OUT.shardK-of-N.h5; "
     "auto: K and N from SLURM_ARRAY_TASK_ID/_MIN/_MAX/_STEP (off outside an array); "
     "off: every volume (an array whose tasks each have their own input)",
     S::other_form /* "shards"/"shard": the resolved K/N */, kBlocksMode, kRecorded,
     apply_shard, !kRequired},
    {"allow-singleton", "Distributed runs", "", "false",
     "run on one rank even though SLURM_NTASKS (or SLURM_STEP_NUM_TASKS) says more tasks were "
     "started (otherwise an error: srun without MPI support starts N separate 1-rank runs)",
     S::none, kBothModes, kRecorded, apply_switch<&RunSettings::allow_singleton>, !kRequired},
    {"sync-blocks", "Distributed runs", "", "false",
     "fdatasync the output after each block, before it is recorded done (survives a node "
     "crash, not only a killed process)",
     S::none, kBlocksMode, kRecorded, apply_switch<&RunSettings::sync_blocks>, !kRequired},
    {"read", "Distributed runs", "served|chunks|direct", "served",
     "who reads the blocks' regions: served, rank 0 (one reader; regions sent to the ranks); "
     "chunks, rank 0 too, assembling them from whole chunks it holds so that each chunk is read "
     "from the file once (where bytes read cost more than memory copies); direct, each rank its "
     "own through parallel HDF5 and rank 0 only schedules (for parallel file systems)",
     S::none, kBlocksMode, kRecorded, apply_read, !kRequired},
    {"no-compute", "Distributed runs", "", "false",
     "diagnostic: skip the deconvolution and write the observed data (measures serving and I/O)",
     S::result, kBlocksMode, kRecorded, apply_switch<&RunSettings::no_compute>, !kRequired},
  };
  // clang-format on
  return table;
}

const RunOption* find_run_option(std::string_view name) {
  for (const RunOption& o : run_option_table())
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace h5decon::app

namespace h5decon::app {

std::vector<std::pair<std::string, std::string>> result_option_signature(
    const std::map<std::string, std::string>& resolved) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : resolved) {
    const RunOption* o = find_run_option(name);
    if (o && o->signature == InSignature::result) out.emplace_back("opt." + name, value);
  }
  return out;
}

}  // namespace h5decon::app
