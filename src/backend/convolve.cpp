// One-off convolution with boundary extension (synthetic data, tests).
#include "h5decon/convolve.hpp"

#include <algorithm>

#include "backend/cpu/fft_convolver.hpp"
#include "h5decon/fft_shape.hpp"

namespace h5decon {

Volume convolve(const Volume& f, const Psf& psf, Boundary boundary) {
  BackendOptions options;
  options.planner = FftPlanner::estimate;
  const Shape3 fft = padded_shape(f.shape, psf.kernel.shape);
  cpu::FftConvolver conv(psf, f.shape, boundary, fft, options);
  conv.load(f.data.data());
  conv.convolve(false);
  Volume out(f.shape);
  const Shape3 v = f.shape;
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y) {
      const float* row = conv.output() + conv.layout().row_offset(z, y);
      std::copy(row, row + v.x, &out.at(z, y, 0));
    }
  return out;
}

}  // namespace h5decon
