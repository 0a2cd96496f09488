// `h5decon synth`: a deterministic phantom written as /data, /truth and /psf.
#include "synth_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/io/output_path.hpp"
#include "h5decon/phantom.hpp"

namespace h5decon::app {
namespace {

struct SynthSettings {
  bool help = false, dry_run = false, overwrite = false;
  std::string preset, output;
  std::uint64_t seed = 1;
  double offset = 0.0;  ///< camera offset added to /data
};

po::options_description synth_option_descriptions() {
  po::options_description desc("Synth options");
  desc.add_options()("preset", po::value<std::string>()->value_name("NAME"),
                     "small (1x1x64x128x128), medium (1x1x128x256x256) or stack (2x3x48x96x96)")(
      "output", po::value<std::string>()->value_name("FILE.h5"), "the file to write")(
      "seed", po::value<std::uint64_t>()->default_value(1)->value_name("N"),
      "random seed: the same seed gives the same bytes on every machine")(
      "offset", po::value<double>()->default_value(0.0, "0")->value_name("B"),
      "constant camera offset added to /data (photons stay Poisson), recorded as its "
      "attribute camera_offset; tests --background")(
      "overwrite", switch_value(), "replace an existing output file")("dry-run", switch_value(),
                                                                      "check the options and stop");
  desc.add(generic_options());
  return desc;
}

SynthSettings parse_synth_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("synth", argc, argv, synth_option_descriptions());
  SynthSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  require_option(parsed, "preset");
  require_option(parsed, "output");
  const auto& v = parsed.values;
  s.preset = v["preset"].as<std::string>();
  s.output = v["output"].as<std::string>();
  s.seed = v["seed"].as<std::uint64_t>();
  s.overwrite = v["overwrite"].as<bool>();
  s.dry_run = v["dry-run"].as<bool>();
  s.offset = v["offset"].as<double>();
  if (!(std::isfinite(s.offset) && s.offset >= 0.0 && s.offset <= 60000.0))
    throw UsageError("--offset must be a number in [0, 60000], got " + std::to_string(s.offset));
  try {
    phantom_preset(s.preset);
  } catch (const InputError& e) {
    throw UsageError(std::string("--preset: ") + e.what());
  }
  return s;
}

double max_of(const std::vector<float>& v) {
  return v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end()));
}

// Generates every volume and writes the file (one process).
void generate_and_write(const SynthSettings& s) {
  io::check_output_path(s.output, s.overwrite, {});
  const auto start = std::chrono::steady_clock::now();
  const Phantom phantom(phantom_preset(s.preset), s.seed);
  const PhantomSpec& spec = phantom.spec();
  std::vector<float> truth, data, psf;
  double blurred_peak = 0;
  for (std::int64_t c = 0; c < spec.channels; ++c) {
    const Volume p = phantom.psf(c);
    psf.insert(psf.end(), p.data.begin(), p.data.end());
    for (std::int64_t t = 0; t < spec.times; ++t) {
      const PhantomVolume v = phantom.volume(c, t);
      truth.insert(truth.end(), v.truth.data.begin(), v.truth.data.end());
      data.insert(data.end(), v.data.data.begin(), v.data.data.end());
      if (s.offset > 0)  // the camera adds its offset after counting photons
        for (auto i = data.end() - std::ptrdiff_t(v.data.data.size()); i != data.end(); ++i)
          *i += static_cast<float>(s.offset);
      blurred_peak = std::max(blurred_peak, max_of(v.blurred.data));
    }
  }
  const Shape3 vol = spec.volume, k = spec.psfs[0].shape;
  const std::vector<std::int64_t> dims5{spec.channels, spec.times, vol.z, vol.y, vol.x};
  io::write_array(s.output, "/data", data, dims5, io::DType::uint16, /*truncate_file=*/true);
  if (s.offset > 0) io::write_number_attribute(s.output, "/data", "camera_offset", s.offset);
  io::write_array(s.output, "/truth", truth, dims5, io::DType::float32, false);
  for (const PsfModel& m : spec.psfs)  // /psf is one (c, z, y, x) array
    H5DECON_REQUIRE(m.shape == k, Error, "synth: the PSFs of a preset must share one shape");
  io::write_array(s.output, "/psf", psf, {spec.channels, k.z, k.y, k.x}, io::DType::float32, false);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "synth " << s.preset << " (seed " << s.seed << "): wrote " << s.output << " in "
            << seconds << " s\n"
            << "  /data  uint16  " << Shape5{spec.channels, spec.times, vol}.str()
            << " (c,t,z,y,x), max " << max_of(data) << " photons\n"
            << "  /truth float32 " << Shape5{spec.channels, spec.times, vol}.str() << ", max "
            << max_of(truth) << ", background " << spec.background * spec.peak << "\n"
            << "  /psf   float32 " << spec.channels << "x" << k.str()
            << " (c,z,y,x), sum 1 per channel; blurred peak " << blurred_peak << " photons\n";
}

}  // namespace

int synth_command(int argc, char** argv) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  SynthSettings s;
  agree_on(MPI_COMM_WORLD, [&] { s = parse_synth_settings(argc, argv); });
  if (s.help) {
    if (rank == 0)
      print_help(std::cout, "synth", "--preset small|medium|stack --output FILE.h5 [options]",
                 "Writes a deterministic synthetic light-sheet data set: /data uint16\n"
                 "(c,t,z,y,x) = Poisson(truth blurred by the PSF, reflect boundary),\n"
                 "/truth float32 (c,t,z,y,x) and /psf float32 (c,z,y,x).",
                 synth_option_descriptions());
    return kExitOk;
  }
  if (s.dry_run) return kExitOk;
  agree_on(MPI_COMM_WORLD, [&] {
    if (rank == 0) generate_and_write(s);
  });
  return kExitOk;
}

}  // namespace h5decon::app
