// Manual benchmark (not a test): a convolution pair of the split transform
// against the plain 3D r2c+c2r pair, interleaved in one process so that load
// from other processes hits both alike. Usage:
//   bench_split_fft [repeats] [wisdom] [threads]   (medium preset: 128x256x256, PSF 33x17x17, zero)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "backend/cpu/fft_convolver.hpp"
#include "backend/reference.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/fft_shape.hpp"

using namespace h5decon;

namespace {

// Wall seconds, or with H5DECON_BENCH_CPU set the process's CPU seconds: with one
// thread, less disturbed by other processes sharing the cores.
double seconds(const std::function<void()>& f) {
  static const bool cpu = std::getenv("H5DECON_BENCH_CPU") != nullptr;
  if (cpu) {
    const std::clock_t c0 = std::clock();
    f();
    return double(std::clock() - c0) / CLOCKS_PER_SEC;
  }
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::stoi(argv[1]) : 9;
  BackendOptions o;
  o.wisdom_file = argc > 2 ? argv[2] : "";
  o.threads = argc > 3 ? std::stoi(argv[3]) : 0;
  const Shape3 volume{128, 256, 256}, psf_shape{33, 17, 17};
  const Shape3 fft = padded_shape(volume, psf_shape);
  const Psf psf{test::test_psf(psf_shape, 1), "bench", 0};
  const Volume f = test::test_volume(volume, 2);

  cpu::FftConvolver conv(psf, volume, Boundary::zero, fft, o);
  cpu::FftwBuffer<float> in(static_cast<std::size_t>(fft.size())), out(in.size());
  cpu::FftwBuffer<std::complex<float>> spectrum(cpu::spectrum_size(fft));
  const cpu::FftPair plain = cpu::make_fft_pair(fft, in.data(), spectrum.data(), out.data(), o);
  std::fill_n(in.data(), in.size(), 1.0f);

  // One RL iteration: the time between the observer's calls for iterations 1 and 2.
  auto engine = make_backend("cpu", o)->make_engine(psf, volume,
                                                    {2, Boundary::zero, InitMode::observed, 1e-6f});
  Volume u(volume);
  auto iteration = [&] {
    std::chrono::steady_clock::time_point t1;
    double t = 0.0;
    engine->deconvolve(f.span(), u.span(), [&](const IterationReport& r) {
      const int it = r.iteration;
      if (it == 1) t1 = std::chrono::steady_clock::now();
      if (it == 2) t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    });
    return t;
  };

  std::vector<double> floor, split, iter;
  for (int i = 0; i < repeats; ++i) {
    iter.push_back(iteration());
    floor.push_back(seconds([&] {
      for (int k = 0; k < 2; ++k) {
        plain.forward.execute();
        plain.inverse.execute();
      }
    }));
    split.push_back(seconds([&] {
      conv.load(f.data.data());
      conv.convolve(false);
      conv.load(f.data.data());
      conv.convolve(true);
    }));
  }
  std::printf("FFT shape %s, %d threads, medians of %d\n", fft.str().c_str(), conv.threads(),
              repeats);
  std::printf("  plain 3D: 2 x (r2c + c2r)          %.4f s\n", median(floor));
  std::printf("  split:    load+H, load+H^T        %.4f s  (%.2fx)\n", median(split),
              median(split) / median(floor));
  std::printf("  RL iteration                        %.4f s  (%.2fx)\n", median(iter),
              median(iter) / median(floor));
  return 0;
}
