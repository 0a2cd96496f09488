// The options of `h5decon seams`: descriptions, help text, parsing.
#include "tools/seam_options.hpp"

#include <filesystem>
#include <sstream>

#include "app/cli.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/rl_options.hpp"
#include "tools/seam_reference.hpp"

namespace h5decon::tools {
using namespace app;  // the program's shared pieces: options, agreement, errors
namespace {

const char* const kSeamSynopsis =
    "--input SYNTH.h5[:/data] [--iterations 20,50] [--halo-factors 0.5,1,2,3,4] "
    "[--block Z,Y,X] [--check BOUND] [--save-reference REF.h5]";
const char* const kSeamDescription =
    "Measures the seam error of the block decomposition on volume (c=0, t=0): the\n"
    "reference is the whole volume deconvolved in exact mode (FFTW3-MPI, distributed\n"
    "over every rank: run it under mpiexec for a volume that does not fit one rank).\n"
    "For each halo factor (halo = ceil(factor x PSF extent) voxels per side) rank 0\n"
    "deconvolves every block with its own FFT shape, assembles the interiors and\n"
    "compares. Prints a Markdown table: the largest error relative to the volume's\n"
    "maximum, and the mean relative error within 2 voxels of the seams. --threads is\n"
    "per rank.";

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
      "boundary",
      po::value<std::string>()->default_value(to_string(RlOptions{}.boundary))->value_name("MODE"),
      "volume edge: periodic|zero|reflect|neumann|bertero (the default of run)")(
      "init", po::value<std::string>()->default_value("observed")->value_name("MODE"),
      "first estimate: observed|constant|mean")(
      "threads", po::value<int>()->default_value(0)->value_name("N"), "threads (0: every core)")(
      "fft-planner", po::value<std::string>()->default_value("estimate")->value_name("MODE"),
      "estimate|measure|patient (estimate: many FFT shapes are planned once each)")(
      "check", po::value<double>()->value_name("BOUND"),
      "also measure the default halo factor and fail (exit 5) if its seam error exceeds BOUND")(
      "save-reference", po::value<std::string>()->value_name("REF.h5"),
      "write each reference (float32 z,y,x) to this new file as /iterations_N");
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

}  // namespace

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
  require_reference_support(s.rl);
  s.backend.planner =
      as_usage_error(parse_planner, "fft-planner", v["fft-planner"].as<std::string>());
  s.backend.threads = v["threads"].as<int>();
  if (s.backend.threads < 0) throw UsageError("--threads must be >= 0");
  if (v.count("check")) s.check = v["check"].as<double>();
  if (s.check && !(*s.check > 0)) throw UsageError("--check must be a positive bound");
  if (v.count("save-reference")) {
    s.save_reference = v["save-reference"].as<std::string>();
    std::error_code ec;
    if (std::filesystem::exists(*s.save_reference, ec))
      throw InputError("--save-reference: '" + *s.save_reference +
                       "' exists; remove it or choose another file");
  }
  return s;
}

void print_seam_help(std::ostream& out) {
  print_help(out, "seams", kSeamSynopsis, kSeamDescription, seam_option_descriptions());
}

}  // namespace h5decon::tools
