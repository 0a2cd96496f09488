// Timing of bare FFT pairs: the floor an RL iteration is measured against.
#include "h5decon/fft_floor.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "backend/cpu/fftw_plan.hpp"

namespace h5decon {

double fft_pair_seconds(const Shape3& fft, const BackendOptions& options, int repeats) {
  cpu::FftwBuffer<float> in(static_cast<std::size_t>(fft.size())), out(in.size());
  cpu::FftwBuffer<std::complex<float>> spectrum(cpu::spectrum_size(fft));
  const cpu::FftPair plans = cpu::make_fft_pair(fft, in.data(), spectrum.data(), out.data(), options);
  std::fill_n(in.data(), in.size(), 1.0f);
  std::vector<double> times;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    plans.forward.execute();
    plans.inverse.execute();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

}  // namespace h5decon
