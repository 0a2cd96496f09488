// `h5decon bench`: times RL iterations on one volume of a synthetic data set,
// next to the FFT floor and to scikit-image measured in the same run.
#include "tools/bench_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_floor.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/metrics.hpp"

namespace po = boost::program_options;

namespace h5decon::tools {
namespace {

struct BenchOptions {
  std::string input;
  RlOptions rl;
  BackendOptions backend;
  int peer_iterations = 3;
  std::string peer_script;
};

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Seconds of each RL iteration on `d`, and the result; logs each iteration's
// relative change (and Biggs' alpha) after the timing.
std::vector<double> time_iterations(RlEngine& engine, const Volume& d, Volume& u) {
  std::vector<double> ends;
  std::vector<IterationReport> reports;
  const auto start = std::chrono::steady_clock::now();
  engine.deconvolve(d.span(), u.span(), [&](const IterationReport& r) {
    ends.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    reports.push_back({r.iteration, r.relative_change, r.alpha, r.stopping, {}});
  });
  for (const IterationReport& r : reports)
    std::printf("  iteration %3d: relative change %.3e, alpha %.3f%s\n", r.iteration,
                r.relative_change, r.alpha, r.stopping ? " (last)" : "");
  std::vector<double> per(ends.size());
  std::adjacent_difference(ends.begin(), ends.end(), per.begin());
  return per;
}

// Seconds per iteration of scikit-image on the same volume, or a negative value
// when it could not run (the reason is printed).
double skimage_seconds(const BenchOptions& o) {
  const std::string cmd = "/usr/bin/python3 '" + o.peer_script + "' '" + o.input + "' /data /psf " +
                          std::to_string(o.peer_iterations) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return -1.0;
  std::array<char, 512> line{};
  double seconds = -1.0;
  while (fgets(line.data(), int(line.size()), pipe.get())) {
    if (std::sscanf(line.data(), "skimage_seconds_per_iteration %lf", &seconds) != 1)
      std::cout << "  (scikit-image) " << line.data();
  }
  return seconds;
}

void report(const BenchOptions& o, const RlEngine& engine, const std::vector<double>& per,
            double setup) {
  const Shape3 v = engine.shape(), f = engine.fft_shape();
  const double t = median(per);
  const double floor = 2.0 * fft_pair_seconds(f, o.backend, 5);
  std::printf("  FFT shape                    %s (%.1f M voxels; volume %.1f M)\n", f.str().c_str(),
              f.size() / 1e6, v.size() / 1e6);
  std::printf("  engine setup (plans + OTF)   %.2f s (planner %s)\n", setup,
              to_string(o.backend.planner).c_str());
  std::printf("  time per iteration           %.4f s (median of %zu)\n", t, per.size());
  std::printf("  voxel-iterations per second  %.1f M\n", v.size() / t / 1e6);
  std::printf("  FFT floor (2 x r2c+c2r)      %.4f s -> iteration = %.2fx floor\n", floor, t / floor);
}

int run(const BenchOptions& o) {
  const io::InputDataset input(io::DatasetRef::parse(o.input, "/data"), MPI_COMM_SELF);
  const Volume d = input.read_volume(0, 0);
  const Psf psf = prepare_psf(io::read_psfs(io::DatasetRef{o.input, "/psf"}, MPI_COMM_SELF,
                                            input.shape().c)[0], o.input + ":/psf", d.shape);
  std::printf("h5decon bench: %s c=0 t=0, volume %s, PSF %s, %d iterations, boundary %s, init %s\n",
              o.input.c_str(), d.shape.str().c_str(), psf.kernel.shape.str().c_str(),
              o.rl.iterations, to_string(o.rl.boundary).c_str(), to_string(o.rl.init).c_str());
  auto backend = make_backend("cpu", o.backend);
  const auto t0 = std::chrono::steady_clock::now();
  auto engine = backend->make_engine(psf, d.shape, o.rl);
  const double setup = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Volume u(d.shape);
  const std::vector<double> per = time_iterations(*engine, d, u);
  std::printf("  backend                      %s\n", backend->name().c_str());
  report(o, *engine, per, setup);
  const Volume truth = io::InputDataset(io::DatasetRef{o.input, "/truth"}, MPI_COMM_SELF).read_volume(0, 0);
  std::printf("  PSNR vs /truth               input %.2f dB, result %.2f dB\n",
              psnr(d.span(), truth.span()), psnr(u.span(), truth.span()));
  if (o.peer_iterations > 0) {
    const double peer = skimage_seconds(o);
    if (peer > 0)
      std::printf("  scikit-image per iteration   %.4f s (%d iterations) -> h5decon %.2fx faster\n",
                  peer, o.peer_iterations, peer / median(per));
    else
      std::printf("  scikit-image per iteration   not measured (see above)\n");
  }
  return 0;
}

}  // namespace

int bench_command(int argc, char** argv) {
  BenchOptions o;
  o.rl.iterations = 10;
  o.rl.boundary = Boundary::zero;
  std::string boundary = "zero", init = "observed", planner = "measure";
  po::options_description desc("h5decon bench: time RL on volume (0,0) of a `synth` file");
  desc.add_options()("help,h", "show this help")
      ("input", po::value(&o.input)->required(), "FILE.h5 written by `h5decon synth` (/data, /psf, /truth)")
      ("iterations", po::value(&o.rl.iterations)->default_value(10), "RL iterations timed")
      ("boundary", po::value(&boundary)->default_value("zero"), "periodic|zero|reflect|neumann")
      ("init", po::value(&init)->default_value("observed"), "observed|constant|mean")
      ("threads", po::value(&o.backend.threads)->default_value(0), "threads (0: all cores)")
      ("fft-planner", po::value(&planner)->default_value("measure"), "estimate|measure|patient")
      ("wisdom", po::value(&o.backend.wisdom_file), "FFTW wisdom file (read and updated)")
      ("peer-iterations", po::value(&o.peer_iterations)->default_value(3),
       "scikit-image iterations timed in the same run (0: skip)")
      ("peer-script", po::value(&o.peer_script)->default_value(H5DECON_SOURCE_DIR "/scripts/bench_skimage.py"),
       "the scikit-image timing script");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, desc), vm);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  po::notify(vm);
  o.rl.boundary = parse_boundary(boundary);
  o.rl.init = parse_init(init);
  o.backend.planner = parse_planner(planner);
  validate(o.rl);
  return run(o);
}

}  // namespace h5decon::tools
