// FFT convolution with boundary extension; see boundary.hpp for the layout.
#include "backend/cpu/fft_convolver.hpp"

#include <algorithm>
#include <cstring>

namespace h5decon::cpu {
namespace {

// Row counts the forward transform runs with: the live row ranges of the
// operand, and every row for the OTF.
std::vector<std::int64_t> forward_row_counts(const ExtensionLayout& layout) {
  std::vector<std::int64_t> out{layout.fft().y};
  for (const IndexRange& r : layout.live(1)) out.push_back(r.size());
  return out;
}

}  // namespace

FftConvolver::FftConvolver(const Psf& psf, Shape3 volume, Boundary boundary, Shape3 fft,
                           const BackendOptions& options)
    : layout_(volume, psf.kernel.shape, fft, boundary),
      threads_(resolve_threads(options)),
      in_(static_cast<std::size_t>(layout_.array_size())),
      out_(static_cast<std::size_t>(layout_.array_size())),
      fft_(fft, layout_.row_stride(), in_.data(), out_.data(), threads_, options,
           forward_row_counts(layout_), volume.y),
      otf_(static_cast<std::size_t>(fft_.otf_size())) {
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
        in_[static_cast<std::size_t>(layout_.row_offset(pz, py) + px)] = kernel.at(z, y, x);
      }
  const Ranges all_planes{{0, fft.z}}, all_rows{{0, fft.y}};
  fft_.forward_planes(in_.data(), all_planes, all_rows);
  // FFTW's transforms are unnormalised: fold 1/N into the OTF once.
  fft_.export_pencils(otf_.data(), 1.0f / static_cast<float>(fft.size()));
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
  // The operand lives on layout_.live() planes and rows; only the volume's are read.
  const Shape3 v = layout_.volume();
  const Ranges volume_planes{{0, v.z}};
  fft_.forward_planes(in_.data(), layout_.live(0), layout_.live(1));
  fft_.filter_pencils(otf_.data(), adjoint, layout_.live(0), volume_planes);
  fft_.inverse_planes(out_.data(), volume_planes, {0, v.y});
}

std::int64_t FftConvolver::bytes() const {
  return static_cast<std::int64_t>(sizeof(float) * (in_.size() + out_.size()) +
                                   sizeof(cfloat) * otf_.size()) +
         fft_.bytes();
}

}  // namespace h5decon::cpu
