// FFT convolution with boundary extension; see boundary.hpp for the layout.
#include "backend/cpu/fft_convolver.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "h5decon/error.hpp"

namespace h5decon::cpu {

FftConvolver::FftConvolver(const Psf& psf, Shape3 volume, Boundary boundary, Shape3 fft,
                           const BackendOptions& options)
    : FftConvolver(psf, ExtensionLayout(volume, psf.kernel.shape, fft, boundary), options) {}

FftConvolver::FftConvolver(const Psf& psf, ExtensionLayout layout, const BackendOptions& options,
                           const Volume* back)
    : layout_(std::move(layout)),
      threads_(resolve_threads(options)),
      planes_(static_cast<std::size_t>(2 * threads_ * layout_.plane_size())),
      fft_(layout_.fft(), layout_.row_stride(), planes_.data(), planes_.data() + layout_.plane_size(),
           threads_, options, layout_.live_rows(), {0, layout_.volume().y}),
      otf_(static_cast<std::size_t>(fft_.otf_size())) {
  compute_otf(psf.kernel, otf_);
  if (back) {
    H5DECON_REQUIRE(back->shape == psf.kernel.shape, Error,
                    "FftConvolver: the back projector's shape differs from the PSF's");
    back_otf_ = FftwBuffer<cfloat>(otf_.size());
    compute_otf(*back, back_otf_);
  }
  // Positions outside the extended volume must stay zero for every later use:
  // operand planes are only ever written there.
  std::fill_n(planes_.data(), planes_.size(), 0.0f);
}

float* FftConvolver::plane_buffer(int which) const {
  return planes_.data() + (2 * omp_get_thread_num() + which) * layout_.plane_size();
}

void FftConvolver::compute_otf(const Volume& kernel, FftwBuffer<cfloat>& otf) {
  // The PSF's centre voxel (n/2 on each axis) goes to the origin; the rest wraps.
  const Shape3 fft = layout_.fft();
  const Shape3 k = kernel.shape;
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (std::int64_t pz = 0; pz < fft.z; ++pz) {
    float* plane = plane_buffer(0);
    std::fill_n(plane, layout_.plane_size(), 0.0f);
    const std::int64_t z = (pz + k.z / 2) % fft.z;  // the PSF plane that lands here, if any
    for (std::int64_t y = 0; z < k.z && y < k.y; ++y)
      for (std::int64_t x = 0; x < k.x; ++x) {
        const std::int64_t py = (y - k.y / 2 + fft.y) % fft.y;
        const std::int64_t px = (x - k.x / 2 + fft.x) % fft.x;
        plane[py * layout_.row_stride() + px] = kernel.at(z, y, x);
      }
    fft_.forward_plane(plane, pz, true);
  }
  // FFTW's transforms are unnormalised: fold 1/N into the OTF once.
  fft_.export_pencils(otf.data(), 1.0f / static_cast<float>(fft.size()));
}

void FftConvolver::forward(float* plane, std::int64_t z) const {
  for (std::int64_t y = 0; y < layout_.volume().y; ++y)
    layout_.complete_row(plane + y * layout_.row_stride());
  layout_.complete_plane(plane);
  fft_.forward_plane(plane, z, false);
}

void FftConvolver::load(const float* volume) {
  const Shape3 v = layout_.volume();
  load_planes([&](std::int64_t z, float* plane) {
    for (std::int64_t y = 0; y < v.y; ++y)
      std::memcpy(plane + y * layout_.row_stride(), volume + (z * v.y + y) * v.x,
                  sizeof(float) * std::size_t(v.x));
  });
}

void FftConvolver::load_planes(const PlaneFill& fill) {
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (std::int64_t z = 0; z < layout_.volume().z; ++z) {
    float* plane = plane_buffer(1);
    fill(z, plane);
    forward(plane, z);
  }
  loaded_ = true;
}

void FftConvolver::convolve_into(bool adjoint, bool refill, const PlaneOp& op) {
  H5DECON_REQUIRE(loaded_, BackendError,
                  "FftConvolver: convolve without an operand (load() first)");
  const Shape3 v = layout_.volume();
  const cfloat* otf = adjoint && back_otf_.size() ? back_otf_.data() : otf_.data();
  fft_.filter_pencils(otf, adjoint, layout_.plane_sources(), {0, v.z});
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (std::int64_t z = 0; z < v.z; ++z) {
    float* result = plane_buffer(0);
    float* next = refill ? plane_buffer(1) : nullptr;
    fft_.inverse_plane(z, result);
    op(z, result, next);
    if (next) forward(next, z);
  }
  loaded_ = refill;
}

void FftConvolver::convolve(bool adjoint) {
  if (out_.size() == 0) out_ = FftwBuffer<float>(static_cast<std::size_t>(layout_.array_size()));
  const Shape3 v = layout_.volume();
  float* out = out_.data();
  convolve_into(adjoint, false, [&](std::int64_t z, const float* result, float*) {
    for (std::int64_t y = 0; y < v.y; ++y)
      std::memcpy(out + layout_.row_offset(z, y), result + y * layout_.row_stride(),
                  sizeof(float) * std::size_t(v.x));
  });
}

std::int64_t FftConvolver::planned_bytes(Shape3 fft, int threads, bool back) {
  return std::int64_t(sizeof(float)) * 2 * threads * fft.y * padded_row(fft.x) +
         SplitFft::planned_bytes(fft, threads) +
         std::int64_t(sizeof(cfloat)) * SplitFft::otf_size(fft) * (back ? 2 : 1);
}

std::int64_t FftConvolver::bytes() const {
  return static_cast<std::int64_t>(sizeof(float) * (planes_.size() + out_.size()) +
                                   sizeof(cfloat) * (otf_.size() + back_otf_.size())) +
         fft_.bytes();
}

}  // namespace h5decon::cpu
