// FFT convolution with boundary extension; see boundary.hpp for the layout.
#include "backend/cpu/fft_convolver.hpp"

#include <algorithm>
#include <cstring>

#include "h5decon/fft_shape.hpp"

namespace h5decon::cpu {

FftConvolver::FftConvolver(const Psf& psf, Shape3 volume, Boundary boundary, Shape3 fft,
                           const BackendOptions& options)
    : layout_(volume, psf.kernel.shape, fft, boundary),
      threads_(resolve_threads(options)),
      in_(static_cast<std::size_t>(fft.size())),
      out_(static_cast<std::size_t>(fft.size())),
      spectrum_(spectrum_size(fft)),
      otf_(spectrum_size(fft)) {
  plans_ = make_fft_pair(fft, in_.data(), spectrum_.data(), out_.data(), options);
  compute_otf(psf.kernel);
  // Positions outside the extended volume must stay zero for every later use.
  std::fill_n(in_.data(), in_.size(), 0.0f);
}

void FftConvolver::compute_otf(const Volume& kernel) {
  // The PSF's centre voxel (n/2 on each axis) goes to the origin; the rest wraps.
  const Shape3 fft = layout_.fft();
  const Shape3 k = kernel.shape;
  std::fill_n(in_.data(), in_.size(), 0.0f);
  for (std::int64_t z = 0; z < k.z; ++z)
    for (std::int64_t y = 0; y < k.y; ++y)
      for (std::int64_t x = 0; x < k.x; ++x) {
        const std::int64_t pz = (z - k.z / 2 + fft.z) % fft.z;
        const std::int64_t py = (y - k.y / 2 + fft.y) % fft.y;
        const std::int64_t px = (x - k.x / 2 + fft.x) % fft.x;
        in_[static_cast<std::size_t>((pz * fft.y + py) * fft.x + px)] = kernel.at(z, y, x);
      }
  plans_.forward.execute();
  // FFTW's transforms are unnormalised: fold 1/N into the OTF once.
  const float scale = 1.0f / static_cast<float>(fft.size());
  for (std::size_t i = 0; i < otf_.size(); ++i) otf_[i] = spectrum_[i] * scale;
}

void FftConvolver::load(const float* volume) {
  const Shape3 v = layout_.volume();
  float* in = in_.data();
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads_)
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y) {
      float* row = in + layout_.row_offset(z, y);
      std::memcpy(row, volume + (z * v.y + y) * v.x, sizeof(float) * std::size_t(v.x));
      layout_.complete_row(row);
    }
  layout_.fill_margin_rows(in);
}

void FftConvolver::convolve(bool adjoint) {
  plans_.forward.execute();
  multiply_spectrum(adjoint);
  plans_.inverse.execute();
}

void FftConvolver::multiply_spectrum(bool adjoint) {
  // Plain float arithmetic: std::complex's operator* guards against NaN/Inf
  // corner cases and does not vectorise.
  float* s = reinterpret_cast<float*>(spectrum_.data());
  const float* h = reinterpret_cast<const float*>(otf_.data());
  const auto n = static_cast<std::int64_t>(spectrum_.size());
  const float sign = adjoint ? -1.0f : 1.0f;  // conj(OTF): the mirrored PSF
#pragma omp parallel for simd schedule(static) num_threads(threads_)
  for (std::int64_t i = 0; i < n; ++i) {
    const float a = s[2 * i], b = s[2 * i + 1];
    const float c = h[2 * i], d = sign * h[2 * i + 1];
    s[2 * i] = a * c - b * d;
    s[2 * i + 1] = a * d + b * c;
  }
}

std::int64_t FftConvolver::bytes() const {
  return static_cast<std::int64_t>(sizeof(float) * (in_.size() + out_.size()) +
                                   sizeof(std::complex<float>) * (spectrum_.size() + otf_.size()));
}

}  // namespace h5decon::cpu
