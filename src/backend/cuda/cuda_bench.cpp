// h5decon_cuda_bench: time per RL iteration of the CUDA engine, set against the
// memory traffic an iteration cannot avoid and the device's peak bandwidth, and
// optionally against plain CuPy RL (scripts/bench_cupy_rl.py) on the same size,
// and the overlapped path's time per block for float32 and uint16 blocks (the
// stored type uploaded and converted on the device: half the PCIe bytes).
// No MPI, no HDF5: it runs from a GPU bundle (scripts/gather_gpu_bundle.sh).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_engine.hpp"
#include "backend/cuda/cuda_fft.hpp"
#include "backend/cuda/extension_layout.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"
#include "h5decon/phantom.hpp"
#include "h5decon/psf.hpp"

namespace h5decon::cuda {
namespace {

/// Result checks that failed (a benchmark that computes wrong bits exits 1).
int mismatches = 0;

struct BenchOptions {
  std::vector<Shape3> sizes{{256, 256, 256}, {512, 512, 512}, {256, 1024, 1024}};
  int iterations = 20;
  Shape3 psf{33, 17, 17};
  Boundary boundary = Boundary::periodic;
  bool compare_cupy = false;
  int pipeline_blocks = 0;  // 0: no pipeline timing
  std::string python = "python3";
  std::string cupy_script;
};

constexpr const char* kUsage = R"(usage: h5decon_cuda_bench [options]
  --sizes ZxYxX[,ZxYxX...]  volumes (default 256x256x256,512x512x512,256x1024x1024)
  --iterations N            RL iterations per volume (default 20; the first is not timed)
  --psf ZxYxX               odd PSF extent, a Gaussian elongated along z (default 33x17x17)
  --boundary NAME           periodic|zero|reflect|neumann (default periodic, as CuPy's)
  --compare-cupy            also time scripts/bench_cupy_rl.py on each size
  --pipeline N              also time N blocks through the overlapped path, as float32 and
                            as uint16 blocks (with --iterations 2 the transfers show most)
  --python EXE              interpreter for the CuPy script (default python3)
  --cupy-script PATH        the script (default: next to this program, else the source tree)
)";

Shape3 parse_shape(const std::string& text) {
  Shape3 s;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  in >> s.z >> x1 >> s.y >> x2 >> s.x;
  H5DECON_REQUIRE(in && in.eof() && x1 == 'x' && x2 == 'x' && s.size() > 0, InputError,
                  "expected a shape ZxYxX, got '", text, "'");
  return s;
}

std::vector<Shape3> parse_shapes(const std::string& text) {
  std::vector<Shape3> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(parse_shape(item));
  return out;
}

BenchOptions parse_args(int argc, char** argv) {
  BenchOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      H5DECON_REQUIRE(i + 1 < argc, InputError, a, " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--sizes")
      o.sizes = parse_shapes(value());
    else if (a == "--iterations")
      o.iterations = std::stoi(value());
    else if (a == "--psf")
      o.psf = parse_shape(value());
    else if (a == "--boundary")
      o.boundary = parse_boundary(value());
    else if (a == "--compare-cupy")
      o.compare_cupy = true;
    else if (a == "--pipeline")
      o.pipeline_blocks = std::stoi(value());
    else if (a == "--python")
      o.python = value();
    else if (a == "--cupy-script")
      o.cupy_script = value();
    else
      throw InputError("unknown option '" + a + "'\n" + kUsage);
  }
  H5DECON_REQUIRE(o.iterations >= 2, InputError,
                  "--iterations must be >= 2 (the first is warm-up)");
  H5DECON_REQUIRE(o.pipeline_blocks >= 0, InputError, "--pipeline must be >= 0");
  return o;
}

struct DeviceInfo {
  std::string name;
  double peak_bytes_per_s = 0;  // 2 transfers per memory clock (DDR/HBM) x bus width
};

DeviceInfo query_device() {
  int device = 0, clock_khz = 0, bus_bits = 0;
  H5DECON_CHECK_CUDA(cudaGetDevice(&device));
  // Attributes, not cudaDeviceProp::memoryClockRate: CUDA 13 removed that field.
  H5DECON_CHECK_CUDA(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device));
  H5DECON_CHECK_CUDA(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  cudaDeviceProp prop{};
  H5DECON_CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
  return {prop.name, 2.0 * clock_khz * 1e3 * bus_bits / 8.0};
}

// Background plus sparse bright points: RL's cost does not depend on the content,
// so a cheap scene serves; values stay positive like photon counts.
Volume make_scene(Shape3 s) {
  Volume v(s, 10.0f);
  Rng rng(20240601);
  const std::int64_t points = std::max<std::int64_t>(1, s.size() / 2000);
  for (std::int64_t i = 0; i < points; ++i) {
    const auto z = static_cast<std::int64_t>(rng.uniform() * double(s.z));
    const auto y = static_cast<std::int64_t>(rng.uniform() * double(s.y));
    const auto x = static_cast<std::int64_t>(rng.uniform() * double(s.x));
    v.at(z, y, x) += static_cast<float>(rng.uniform(200.0, 1000.0));
  }
  return v;
}

// A light-sheet-like detection PSF: narrow in x/y, elongated along z, faint wide tail.
Psf make_bench_psf(Shape3 k, Shape3 volume) {
  PsfModel m;
  m.shape = k;
  m.sigma_z = double(k.z) / 8.0;
  m.sigma_xy = double(k.y) / 10.0;
  m.tail_sigma_z = double(k.z) / 4.0;
  m.tail_sigma_xy = double(k.y) / 5.0;
  m.tail_weight = 0.1;
  return prepare_psf(make_psf(m), "bench model " + k.str(), volume);
}

/// Bytes one iteration must move at best, by pass (see print_traffic_model()).
struct Traffic {
  double fft = 0, multiply = 0, rows = 0, total = 0;
};

Traffic iteration_traffic(Shape3 v, Shape3 fft, Shape3 psf, std::int64_t margin_rows) {
  const double P = double(fft.size()), S = double(spectrum_elements(fft)), N = double(v.size());
  const double ext_row = double(v.z * v.y) * double(v.x + 2 * (psf.x / 2));
  const double row_copy = double(margin_rows) * double(v.x + 2 * (psf.x / 2));
  Traffic t;
  t.fft = 4 * (4 * P + 8 * S);       // each transform reads its input and writes its output once
  t.multiply = 2 * (3 * 8 * S);      // read spectrum and OTF, write spectrum
  t.rows = (8 * N + 4 * ext_row)     // ratio: read d and H u, write r extended
           + (12 * N + 4 * ext_row)  // update: read u and H^T r, write u and u extended
           + 2 * 8 * row_copy;       // two margin-row copies: read + write
  t.total = t.fft + t.multiply + t.rows;
  return t;
}

void print_traffic_model() {
  std::cout << "traffic model per iteration (the floor, assuming one pass per step):\n"
               "  4 FFTs of the padded array P (float) <-> spectrum S = z*y*(x/2+1) (complex):\n"
               "    each reads its input once and writes its output once: 4 x (4P + 8S) bytes\n"
               "  2 spectrum multiplies: read spectrum + OTF, write spectrum: 2 x 24S bytes\n"
               "  ratio pass: read d, H u (8N), write the extended rows (4 bytes each)\n"
               "  update pass: read u, H^T r, write u (12N), write the extended rows\n"
               "  margin rows (z/y extension): read + write, twice\n"
               "  (real cuFFT needs 2-3 passes over the data for large 3D sizes, so >100% "
               "of this floor is out of reach; fusing the multiply into cuFFT callbacks "
               "would remove 2 x 24S)\n\n";
}

double median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string find_cupy_script(const BenchOptions& o) {
  if (!o.cupy_script.empty()) return o.cupy_script;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto beside = exe.parent_path() / "bench_cupy_rl.py";
    if (std::filesystem::exists(beside)) return beside.string();
  }
  return std::string(H5DECON_SOURCE_DIR) + "/scripts/bench_cupy_rl.py";
}

// Seconds per iteration the CuPy script reports, or nothing (its stderr says why).
std::optional<double> run_cupy(const BenchOptions& o, Shape3 s) {
  const std::string cmd = detail::concat(o.python, " '", find_cupy_script(o), "' --shape ", s.z,
                                         " ", s.y, " ", s.x, " --psf ", o.psf.z, " ", o.psf.y, " ",
                                         o.psf.x, " --iterations ", o.iterations);
  std::FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::optional<double> seconds;
  char line[512];
  const std::string key = "seconds_per_iteration=";
  while (std::fgets(line, sizeof line, pipe)) {
    const std::string text = line;
    if (text.rfind(key, 0) == 0) seconds = std::strtod(text.c_str() + key.size(), nullptr);
  }
  const int status = pclose(pipe);
  if (status != 0) {
    std::cout << "  cupy: the script failed (" << cmd << ", status " << status << ")\n";
    return std::nullopt;
  }
  return seconds;
}

void report(const BenchOptions& o, const DeviceInfo& dev, Shape3 s, const CudaEngine& engine,
            double setup_s) {
  const Shape3 fft = engine.fft_shape();
  const std::vector<float> ms(engine.iteration_ms().begin() + 1, engine.iteration_ms().end());
  const double t = median(ms) * 1e-3;
  const auto rows = static_cast<std::int64_t>(margin_row_table(s, o.psf, fft, o.boundary).size());
  const Traffic traffic = iteration_traffic(s, fft, o.psf, rows);
  const double bandwidth = traffic.total / t;
  std::printf("volume %s  fft %s  psf %s  boundary %s  iterations %d\n", s.str().c_str(),
              fft.str().c_str(), o.psf.str().c_str(), to_string(o.boundary).c_str(), o.iterations);
  std::printf("  setup (plans, OTF)            : %.3f s, device memory %.2f GiB\n", setup_s,
              double(engine.bytes()) / (1 << 30));
  std::printf("  time per iteration (median)   : %.3f ms (min %.3f, max %.3f; cudaEvent)\n",
              t * 1e3, *std::min_element(ms.begin(), ms.end()),
              *std::max_element(ms.begin(), ms.end()));
  std::printf("  bytes per iteration (model)   : %.3f GB (FFTs %.3f, multiplies %.3f, rows %.3f)\n",
              traffic.total * 1e-9, traffic.fft * 1e-9, traffic.multiply * 1e-9,
              traffic.rows * 1e-9);
  std::printf("  effective bandwidth           : %.1f GB/s = %.1f %% of peak %.1f GB/s\n",
              bandwidth * 1e-9, 100.0 * bandwidth / dev.peak_bytes_per_s,
              dev.peak_bytes_per_s * 1e-9);
  std::printf("  throughput                    : %.3g voxels/s per iteration\n",
              double(s.size()) / t);
  if (!o.compare_cupy) return;
  std::cout.flush();
  const auto cupy = run_cupy(o, s);
  if (cupy)
    std::printf("  cupy plain RL (circular, %s)  : %.3f ms per iteration; h5decon/cupy time %.3f\n",
                s.str().c_str(), *cupy * 1e3, t / *cupy);
}

// Seconds per block of `blocks` calls of submit(k) (a ticket writing into
// results[k % 2]), two outstanding as a block worker keeps them; one call first,
// untimed (pinned memory is allocated on first use).
template <class Submit>
double seconds_per_block(int blocks, const Submit& submit) {
  submit(0)->wait();
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<RlTicket> previous;
  for (int k = 0; k < blocks; ++k) {
    auto ticket = submit(k);
    if (previous) previous->wait();
    previous = std::move(ticket);
  }
  previous->wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / blocks;
}

// The overlapped path with the scene as float32 blocks and as uint16 blocks (its
// values rounded): both are converted and checked on the device, from the same
// values, so the results must be the same bits.
void bench_pipeline(const BenchOptions& o, RlEngine& engine, const Volume& scene) {
  const auto n = static_cast<std::size_t>(scene.shape.size());
  std::vector<std::uint16_t> counts(n);
  std::vector<float> values(n);
  for (std::size_t i = 0; i < n; ++i) {
    counts[i] = static_cast<std::uint16_t>(std::clamp(std::lround(scene.data[i]), 0L, 65535L));
    values[i] = counts[i];
  }
  std::vector<float> results[4];
  for (auto& r : results) r.resize(n);
  const SampleView as_float = SampleView::of(values);
  const SampleView as_uint16{SampleType::uint16, std::as_bytes(std::span(counts))};
  const double f = seconds_per_block(o.pipeline_blocks, [&](int k) {
    return engine.deconvolve_samples_async(as_float, results[k % 2]);
  });
  const double u = seconds_per_block(o.pipeline_blocks, [&](int k) {
    return engine.deconvolve_samples_async(as_uint16, results[2 + k % 2]);
  });
  std::printf(
      "  overlapped path, %d blocks    : float32 %.3f ms per block (%.1f MB up), "
      "uint16 %.3f ms per block (%.1f MB up): %.1f %% less time\n",
      o.pipeline_blocks, f * 1e3, double(as_float.bytes.size()) * 1e-6, u * 1e3,
      double(as_uint16.bytes.size()) * 1e-6, 100.0 * (f - u) / f);
  const bool same = results[0] == results[2];
  std::printf("  uint16 and float32 results    : %s\n",
              same ? "the same bits" : "DIFFERENT (a bug: the benchmark exits 1)");
  if (!same) ++mismatches;
}

void bench_size(const BenchOptions& o, const DeviceInfo& dev, Shape3 s) {
  const Psf psf = make_bench_psf(o.psf, s);
  const Volume observed = make_scene(s);
  Volume result(s);
  const auto backend = detail::make_cuda_backend({});
  const auto t0 = std::chrono::steady_clock::now();
  const auto engine = backend->make_engine(psf, s, {o.iterations, o.boundary, InitMode::observed});
  const double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  engine->deconvolve(observed.span(), result.span());
  report(o, dev, s, dynamic_cast<const CudaEngine&>(*engine), setup_s);
  if (o.pipeline_blocks > 0) bench_pipeline(o, *engine, observed);
}

int run(int argc, char** argv) {
  const BenchOptions o = parse_args(argc, argv);
  std::string why;
  if (detail::cuda_device_count(&why) == 0) {
    std::cerr << "h5decon_cuda_bench: no CUDA device visible (" << why << ")\n";
    return 1;
  }
  const auto backend = detail::make_cuda_backend({});
  const DeviceInfo dev = query_device();
  std::cout << "device: " << backend->name()
            << "\npeak memory bandwidth: " << dev.peak_bytes_per_s * 1e-9
            << " GB/s (memory clock x bus width x 2)\n";
  print_traffic_model();
  for (const Shape3& s : o.sizes) {
    try {
      bench_size(o, dev, s);
    } catch (const BackendError& e) {  // e.g. a size that does not fit this device
      std::printf("volume %s: skipped: %s\n", s.str().c_str(), e.what());
    }
    std::cout << std::endl;
  }
  if (mismatches > 0)
    std::cerr << "h5decon_cuda_bench: " << mismatches << " result check(s) DIFFERENT\n";
  return mismatches > 0 ? 1 : 0;
}

}  // namespace
}  // namespace h5decon::cuda

int main(int argc, char** argv) {
  try {
    return h5decon::cuda::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "h5decon_cuda_bench: " << e.what() << "\n";
    return 1;
  }
}
