// The options of `run`: descriptions, parsing and the checks between options, all
// from the table in run_option_table.cpp.
#include "run_options.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <ostream>
#include <set>
#include <vector>

#include "run_option_table.hpp"

namespace h5decon::app {
namespace {

// The checks between options, after each was parsed on its own.
void check_combinations(RunSettings& s, const std::set<std::string>& given) {
  if (given.count("max-iterations")) {  // --iterations under the name of --stop-rel-change
    if (given.count("iterations") && s.max_iterations != s.rl.iterations)
      throw UsageError("--max-iterations " + std::to_string(s.max_iterations) + " and --iterations " +
                       std::to_string(s.rl.iterations) + " disagree; give one of them");
    s.rl.iterations = s.max_iterations;
  }
  s.rl.measure_divergence = s.log_iterations > 0;  // logged with each iteration
  if (given.count("input") == given.count("inputs"))
    throw UsageError(given.count("input") ? "--input and --inputs: give one (one input, or many)"
                                          : "missing required option --input (or --inputs for many)");
  if (given.count("inputs") && s.output.file.find("{name}") == std::string::npos)
    throw UsageError("--inputs: --output '" + s.output.file +
                     "' must contain {name}, the input's file name without extension, so that "
                     "every input has its own output (e.g. --output 'out/{name}_decon.h5')");
  try {
    validate(s.rl);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
  if (s.rl.back_projector != BackProjector::wb)
    for (const char* name : {"wb-alpha", "wb-beta", "wb-order", "wb-resolution"})
      if (given.count(name) && s.resolved.at(name) != find_run_option(name)->default_text)
        throw UsageError(std::string("--") + name + " applies only with --backprojector wb");
  if (s.psf_resample && s.ignore_voxel_size)
    throw UsageError("--psf-resample and --ignore-voxel-size contradict each other: one moves "
                     "the PSF onto the data's voxel grid, the other uses it as it is; give one");
  if (s.resume && s.overwrite)
    throw UsageError("--resume and --overwrite contradict each other: --resume finishes the "
                     "interrupted run's partial output, --overwrite starts over; give one");
  if (s.mode != "exact") return;
  // Exact mode: whole volumes on the CPU over FFTW3-MPI, one run, no blocks.
  if (s.backend == "cuda")
    throw UsageError("--backend cuda is not supported in --mode exact (it runs on the CPU with "
                     "FFTW3-MPI); use --backend cpu or --mode blocks");
  if (s.backend == "auto") s.backend = "cpu";
  for (const RunOption& o : run_option_table())
    if (!(o.modes & kExactMode) && given.count(std::string(o.name)) &&
        s.resolved.at(std::string(o.name)) != o.default_text)
      throw UsageError(detail::concat("--", o.name, " is not supported in --mode exact (",
                                      o.name == "shard"    ? "job arrays: run one job, or "
                                      : o.name == "resume" ? "it restarts whole; "
                                                           : "",
                                      "use --mode blocks)"));
}

}  // namespace

const char* const kRunSynopsis =
    "--input IN.h5[:/data] --psf PSF.h5[:/psf]|PSF.tif --output OUT.h5[:/path] [options]";
const char* const kRunDescription =
    "Deconvolves every (c, t) volume of a 5D (c, t, z, y, x) HDF5 dataset with\n"
    "Richardson-Lucy, one PSF per channel, and writes a float32 dataset of the same\n"
    "shape into a new file. Each volume is split into blocks with halos (one block\n"
    "when it fits the memory budget); under mpiexec rank 0 serves the blocks to every\n"
    "rank, itself included, and each rank writes its blocks' interiors.";

po::options_description run_option_descriptions() {
  // Groups in order of first appearance.
  std::vector<std::pair<std::string, std::unique_ptr<po::options_description>>> groups;
  for (const RunOption& o : run_option_table()) {
    const std::string group(o.group), name(o.name), help(o.help);
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const auto& e) { return e.first == group; });
    if (g == groups.end()) {
      groups.emplace_back(group, std::make_unique<po::options_description>(group));
      g = groups.end() - 1;
    }
    if (o.value_name.empty()) {
      g->second->add_options()(name.c_str(), switch_value(), help.c_str());
      continue;
    }
    auto* value = po::value<std::string>()->value_name(std::string(o.value_name));
    if (!o.default_text.empty()) value->default_value(std::string(o.default_text));
    g->second->add_options()(name.c_str(), value, help.c_str());
  }
  po::options_description all;
  for (const auto& [caption, group] : groups) all.add(*group);
  all.add(generic_options());
  return all;
}

RunSettings parse_run_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("run", argc, argv, run_option_descriptions());
  RunSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  for (const RunOption& o : run_option_table())
    if (o.required) require_option(parsed, std::string(o.name));
  std::set<std::string> given;
  for (const RunOption& o : run_option_table()) {
    const std::string name(o.name);
    const auto& v = parsed.values;
    if (!v.count(name) || v[name].empty()) continue;
    const std::string text =
        o.value_name.empty() ? (v[name].as<bool>() ? "true" : "false") : v[name].as<std::string>();
    if (!v[name].defaulted() && !(o.value_name.empty() && text == "false")) given.insert(name);
    const std::string canonical = o.apply(text, s);
    if (o.recorded) s.resolved[name] = canonical;
  }
  check_combinations(s, given);
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
