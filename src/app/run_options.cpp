#include "run_options.hpp"

#include <cctype>
#include <cmath>
#include <cstring>
#include <ostream>
#include <sstream>
#include <vector>

namespace h5decon::app {
namespace {

// Runs a parser of the engine's option names, reporting its error as a usage error.
template <class Parse>
auto parse_name(Parse&& parse, const std::string& value) {
  try {
    return parse(value);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
}

io::DatasetRef parse_ref(const std::string& option, const std::string& spec,
                         const std::string& default_path) {
  try {
    return io::DatasetRef::parse(spec, default_path);
  } catch (const InputError& e) {
    throw UsageError("--" + option + ": " + e.what());
  }
}

io::DatasetRef parse_psf(const std::string& spec) {
  try {
    return io::parse_psf_ref(spec, "/psf");
  } catch (const InputError& e) {
    throw UsageError(std::string("--psf: ") + e.what());
  }
}

std::string check_axes(const std::string& axes) {
  if (axes.empty() || axes == "ctzyx") return "";
  if (axes == "zyx" || axes == "czyx" || axes == "tzyx") return axes;
  throw UsageError("--axes: unknown value '" + axes + "'; valid: ctzyx, czyx, tzyx, zyx");
}

// "auto", "N" (every axis) or "Z,Y,X", each at least `minimum`.
std::optional<Shape3> parse_shape(const std::string& option, const std::string& text,
                                  std::int64_t minimum) {
  if (text == "auto") return std::nullopt;
  std::vector<std::int64_t> values;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || v < minimum)
      throw UsageError("--" + option + ": '" + text + "' is not auto, N or Z,Y,X with numbers >= " +
                       std::to_string(minimum));
    values.push_back(v);
  }
  if (values.size() == 1) return Shape3{values[0], values[0], values[0]};
  if (values.size() != 3)
    throw UsageError("--" + option + ": '" + text + "' is not auto, N or Z,Y,X");
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

void parse_decomposition(const po::variables_map& v, RunSettings& s) {
  s.mode = v["mode"].as<std::string>();
  if (s.mode != "blocks" && s.mode != "exact")
    throw UsageError("--mode: unknown value '" + s.mode + "'; valid: blocks, exact");
  s.halo = parse_shape("halo", v["halo"].as<std::string>(), 0);
  s.block = parse_shape("block", v["block"].as<std::string>(), 1);
  s.auto_memory_budget = parse_budget(v["memory-budget"].as<std::string>(), s.memory_budget);
  s.progress_interval = v["progress-interval"].as<double>();
  s.log_iterations = v["log-iterations"].as<int>();
  if (s.log_iterations < 0)
    throw UsageError("--log-iterations must be >= 0 (0: off), got " +
                     std::to_string(s.log_iterations));
  s.resume = v["resume"].as<bool>();
  if (s.resume && s.overwrite)
    throw UsageError("--resume and --overwrite contradict each other: --resume finishes the "
                     "interrupted run's partial output, --overwrite starts over; give one");
  s.allow_singleton = v["allow-singleton"].as<bool>();
  s.shard = v["shard"].as<std::string>();
  s.sync_blocks = v["sync-blocks"].as<bool>();
  s.no_compute = v["no-compute"].as<bool>();
  if (!(std::isfinite(s.progress_interval) && s.progress_interval > 0))
    throw UsageError("--progress-interval must be a positive number of seconds, got " +
                     std::to_string(s.progress_interval));
}

// --max-iterations is --iterations under the name that goes with --stop-rel-change.
void parse_iterations(const po::variables_map& v, RunSettings& s) {
  s.rl.iterations = v["iterations"].as<int>();
  if (!v.count("max-iterations")) return;
  const int max = v["max-iterations"].as<int>();
  if (!v["iterations"].defaulted() && max != s.rl.iterations)
    throw UsageError("--max-iterations " + std::to_string(max) + " and --iterations " +
                     std::to_string(s.rl.iterations) + " disagree; give one of them");
  s.rl.iterations = max;
}

// "auto", or a number >= 0 in the data's units.
void parse_background(const std::string& text, RlOptions& rl) {
  rl.background_auto = text == "auto";
  if (rl.background_auto) return;
  std::size_t used = 0;
  float value = -1.0f;
  try {
    value = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(std::isfinite(value) && value >= 0.0f))
    throw UsageError("--background: '" + text + "' is not auto or a number >= 0");
  rl.background = value;
}

void parse_quality(const po::variables_map& v, RunSettings& s) {
  parse_iterations(v, s);
  s.rl.accel = parse_name(parse_acceleration, v["accel"].as<std::string>());
  s.rl.tv_lambda = v["tv"].as<float>();
  parse_background(v["background"].as<std::string>(), s.rl);
  s.rl.stop_rel_change = v["stop-rel-change"].as<double>();
  try {
    validate(s.rl);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
}

void check_numbers(const RunSettings& s) {
  if (s.rl.iterations < 1)
    throw UsageError("--iterations must be >= 1, got " + std::to_string(s.rl.iterations));
  if (!(std::isfinite(s.rl.eps) && s.rl.eps > 0.0f))
    throw UsageError("--eps must be a positive number, got " + std::to_string(s.rl.eps));
  // The guard only keeps d / max(Hu, eps) finite where Hu is 0; above one count it
  // replaces the model wherever the prediction is dimmer, and the result decays to 0.
  if (s.rl.eps > 1.0f)
    throw UsageError("--eps " + detail::concat(s.rl.eps) + " would replace the data term d / Hu "
                     "wherever Hu < " + detail::concat(s.rl.eps) + " (the result decays towards "
                     "0); it guards against dividing by 0 and must be at most 1 (default 1e-6)");
  if (s.backend_options.threads < 0)
    throw UsageError("--threads must be >= 0 (0: every core), got " +
                     std::to_string(s.backend_options.threads));
  if (s.backend != "auto" && s.backend != "cpu" && s.backend != "cuda")
    throw UsageError("--backend: unknown value '" + s.backend + "'; valid: auto, cpu, cuda");
}

}  // namespace

void add_quality_options(po::options_description& algo) {
  const RlOptions rl;
  algo.add_options()("max-iterations", po::value<int>()->value_name("N"),
                     "the same as --iterations: the most iterations when --stop-rel-change is set")(
      "accel", po::value<std::string>()->default_value(to_string(rl.accel))->value_name("MODE"),
      "none|biggs|biggs-log: Biggs-Andrews vector extrapolation of u (biggs, as MATLAB "
      "deconvlucy) or of log u (biggs-log: the best result in the fewest iterations)")(
      "tv", po::value<float>()->default_value(rl.tv_lambda, "0")->value_name("LAMBDA"),
      "total-variation weight of RL-TV (Dey et al.); 0: plain RL; typical 0.001-0.01")(
      "background", po::value<std::string>()->default_value("0")->value_name("B|auto"),
      "constant camera offset in the model, d / (Hu + B); auto: estimated per volume from "
      "its darkest 8^3 tiles")(
      "stop-rel-change", po::value<double>()->default_value(0.0, "0")->value_name("X"),
      "stop once ||u_k - u_k-1||_1 / ||u_k-1||_1 < X (0: run every iteration)");
}

const char* const kRunSynopsis =
    "--input IN.h5[:/data] --psf PSF.h5[:/psf]|PSF.tif --output OUT.h5[:/path] [options]";
const char* const kRunDescription =
    "Deconvolves every (c, t) volume of a 5D (c, t, z, y, x) HDF5 dataset with\n"
    "Richardson-Lucy, one PSF per channel, and writes a float32 dataset of the same\n"
    "shape into a new file. Each volume is split into blocks with halos (one block\n"
    "when it fits the memory budget); under mpiexec rank 0 serves the blocks to every\n"
    "rank, itself included, and each rank writes its blocks' interiors.";

po::options_description run_option_descriptions() {
  const RlOptions rl;
  po::options_description data("Data");
  data.add_options()("input", po::value<std::string>()->value_name("IN.h5[:/data]"),
                     "input dataset (c,t,z,y,x); uint8, uint16 or float32")(
      "psf", po::value<std::string>()->value_name("PSF.h5[:/psf]|PSF.tif"),
      "PSF: HDF5 (z,y,x) for every channel or (c,z,y,x); or a multi-page TIFF (.tif/.tiff, "
      "one page per z plane, uint8/uint16/float32), one PSF for every channel; any size; "
      "normalised to sum 1")(
      "ignore-voxel-size", switch_value(),
      "run even though the PSF's recorded voxel size (element_size_um; a TIFF's ImageJ "
      "calibration) differs from the input's by more than 1% (otherwise an error)")(
      "output", po::value<std::string>()->value_name("OUT.h5[:/path]"),
      "output file (never the input); the dataset path defaults to the input's")(
      "axes", po::value<std::string>()->default_value("ctzyx")->value_name("AXES"),
      "stored axes of the input: ctzyx, or zyx|czyx|tzyx for rank 3/4 data")(
      "overwrite", switch_value(), "replace an existing output file");
  po::options_description algo("Algorithm");
  algo.add_options()("iterations", po::value<int>()->default_value(rl.iterations)->value_name("N"),
                     "RL iterations (>= 1)")(
      "boundary",
      po::value<std::string>()->default_value(to_string(rl.boundary))->value_name("MODE"),
      "volume edge: periodic|zero|reflect|neumann|bertero")(
      "init", po::value<std::string>()->default_value(to_string(rl.init))->value_name("MODE"),
      "first estimate: observed|constant|mean")(
      "eps", po::value<float>()->default_value(rl.eps, detail::concat(rl.eps))->value_name("E"),
      "guard of the ratio d / max(Hu, eps), in the data's units")(
      "psf-crop", po::value<double>()->default_value(0.0, "0")->value_name("E"),
      "crop each PSF to the smallest centred box holding this share of its flux "
      "(e.g. 0.999): smaller halos and FFTs; 0: off");
  add_quality_options(algo);
  po::options_description compute("Compute");
  compute.add_options()("backend",
                        po::value<std::string>()->default_value("cpu")->value_name("NAME"),
                        "auto|cpu|cuda (auto: a visible GPU, else cpu, said in the log)")(
      "threads", po::value<int>()->default_value(0)->value_name("N"),
      "threads per rank (0: every core the rank may use)")(
      "fft-planner", po::value<std::string>()->default_value("measure")->value_name("MODE"),
      "FFTW planning effort: estimate|measure|patient")(
      "wisdom", po::value<std::string>()->value_name("FILE"),
      "FFTW wisdom file: read before planning, updated after")(
      "dry-run", switch_value(), "check the options, print them as a config file, and stop");
  po::options_description blocks("Decomposition");
  blocks.add_options()("mode", po::value<std::string>()->default_value("blocks")->value_name("MODE"),
                       "blocks: volumes split into blocks with halos, served to all ranks; "
                       "exact: each volume whole over all ranks in z-slabs (FFTW3-MPI, cpu), "
                       "no seams, memory per rank ~1/ranks of the volume's")(
      "halo", po::value<std::string>()->default_value("auto")->value_name("auto|Z,Y,X"),
      "voxels read beyond each block side; auto: from the PSF extent")(
      "block", po::value<std::string>()->default_value("auto")->value_name("auto|Z,Y,X"),
      "block interior; auto: the least FFT work within the memory budget")(
      "memory-budget", po::value<std::string>()->default_value("auto")->value_name("BYTES|auto"),
      "most bytes one block (exact mode: one rank's slab) may need (K/M/G/T suffixes); "
      "0: unlimited; auto: half the node's memory shared by its ranks")(
      "progress-interval", po::value<double>()->default_value(10, "10")->value_name("S"),
      "seconds between progress lines when stdout is not a terminal")(
      "log-iterations", po::value<int>()->default_value(0)->value_name("K"),
      "log every K-th RL iteration of each block (relative change, alpha), a line per block "
      "(iterations, last change, --stop-rel-change met) and one for the run; K above "
      "--iterations: only those; 0: off");
  po::options_description dist("Distributed runs");
  dist.add_options()("resume", switch_value(),
                     "finish the partial output of an interrupted run (same options): blocks "
                     "recorded done in OUT.partial.journal are not recomputed")(
      "shard", po::value<std::string>()->default_value("off")->value_name("K/N|auto|off"),
      "compute only the (c,t) volumes i = c*T+t with i % N == K, into OUT.shardK-of-N.h5; "
      "auto: K and N from SLURM_ARRAY_TASK_ID/_MIN/_MAX/_STEP (off outside an array); "
      "off: every volume (an array whose tasks each have their own input)")(
      "allow-singleton", switch_value(),
      "run on one rank even though SLURM_NTASKS (or SLURM_STEP_NUM_TASKS) says more tasks were "
      "started (otherwise an error: srun without MPI support starts N separate 1-rank runs)")(
      "sync-blocks", switch_value(),
      "fdatasync the output after each block, before it is recorded done (survives a node "
      "crash, not only a killed process)")(
      "no-compute", switch_value(),
      "diagnostic: skip the deconvolution and write the observed data (measures serving and I/O)");
  po::options_description all;
  all.add(data).add(algo).add(compute).add(blocks).add(dist).add(generic_options());
  return all;
}

RunSettings parse_run_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("run", argc, argv, run_option_descriptions());
  RunSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  const auto& v = parsed.values;
  for (const char* name : {"input", "psf", "output"}) require_option(parsed, name);
  s.input = parse_ref("input", v["input"].as<std::string>(), "/data");
  s.psf = parse_psf(v["psf"].as<std::string>());
  s.ignore_voxel_size = v["ignore-voxel-size"].as<bool>();
  s.output = parse_ref("output", v["output"].as<std::string>(), s.input.path);
  s.axes = check_axes(v["axes"].as<std::string>());
  s.overwrite = v["overwrite"].as<bool>();
  s.dry_run = v["dry-run"].as<bool>();
  parse_quality(v, s);
  s.rl.eps = v["eps"].as<float>();
  s.psf_crop = v["psf-crop"].as<double>();
  if (!(std::isfinite(s.psf_crop) && s.psf_crop >= 0 && s.psf_crop <= 1))
    throw UsageError("--psf-crop must be a number in (0, 1] (0: off), got " +
                     std::to_string(s.psf_crop));
  s.rl.boundary = parse_name(parse_boundary, v["boundary"].as<std::string>());
  s.rl.init = parse_name(parse_init, v["init"].as<std::string>());
  s.backend = v["backend"].as<std::string>();
  s.backend_options.threads = v["threads"].as<int>();
  s.backend_options.planner = parse_name(parse_planner, v["fft-planner"].as<std::string>());
  if (v.count("wisdom")) s.backend_options.wisdom_file = v["wisdom"].as<std::string>();
  check_numbers(s);
  parse_decomposition(v, s);
  s.resolved = resolved_options(parsed);
  s.resolved["input"] = s.input.str();
  s.resolved["psf"] = s.psf.str();
  s.resolved["output"] = s.output.str();
  return s;
}

void check_background_for(const RlOptions& rl, io::DType dtype, const std::string& input) {
  double largest = 0;
  switch (dtype) {
    case io::DType::uint8: largest = 255; break;
    case io::DType::int8: largest = 127; break;
    case io::DType::uint16: largest = 65535; break;
    case io::DType::int16: largest = 32767; break;
    default: return;
  }
  if (rl.background_auto || rl.background < largest) return;
  throw InputError(detail::concat("--background ", rl.background, " is at least the largest ",
                                  io::to_string(dtype), " value of input '", input, "' (", largest,
                                  "): every voxel would lie below the model's background and the "
                                  "result decays to 0; give the camera offset in counts, or auto"));
}

void print_settings(std::ostream& os, const RunSettings& s) {
  os << "# h5decon run: resolved options\n";
  for (const auto& [name, value] : s.resolved) os << name << " = " << value << "\n";
}

}  // namespace h5decon::app
