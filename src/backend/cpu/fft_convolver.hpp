#pragma once
// Convolution of one volume shape with one PSF under a boundary mode, by FFTW.

#include <complex>
#include <functional>

#include "backend/cpu/boundary.hpp"
#include "backend/cpu/split_fft.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/psf.hpp"

namespace h5decon::cpu {

/// Holds the plans, spectrum and OTF for convolving volumes of one shape with
/// one PSF. The operand lives only as a spectrum: load() a volume, then either
/// convolve() and read output(), or chain convolutions plane by plane with
/// convolve_into(). The transform is split_fft.hpp's: it skips what the
/// boundary layout makes zero or unread, and its result does not depend on the
/// number of threads.
class FftConvolver {
 public:
  /// Element-wise work on volume plane z between two convolutions: `result`
  /// holds the plane of H x (rows at y * layout().row_stride(), y < volume.y);
  /// the next operand's volume rows are to be written to `next` (same layout),
  /// which is null when no next operand is wanted.
  using PlaneOp = std::function<void(std::int64_t z, const float* result, float* next)>;
  /// Writes the volume rows of operand plane z to `plane` (rows at y * layout().row_stride()).
  using PlaneFill = std::function<void(std::int64_t z, float* plane)>;

  /// `fft` must satisfy fits_linear_convolution(fft, volume, psf).
  FftConvolver(const Psf& psf, Shape3 volume, Boundary boundary, Shape3 fft,
               const BackendOptions& options);
  /// Convolves with `psf` the volumes of `layout` (whose extension need not be the
  /// PSF's: the bertero engine's operand is its whole domain, with no margins).
  /// `back`, of the PSF's shape, replaces the PSF in adjoint convolutions (an
  /// unmatched back projector, back_projector.hpp); null: the PSF's own adjoint.
  FftConvolver(const Psf& psf, ExtensionLayout layout, const BackendOptions& options,
               const Volume* back = nullptr);

  const ExtensionLayout& layout() const { return layout_; }
  int threads() const { return threads_; }

  /// Makes `volume`, extended by the boundary mode, the operand.
  void load(const float* volume);
  /// As load(), with each plane's volume rows written by `fill`, in parallel.
  void load_planes(const PlaneFill& fill);
  /// Computes H x (H^T x, the correlation, when `adjoint`) of the operand x and
  /// calls op on every volume plane, in parallel; the planes op writes to `next`
  /// (when `refill`) become the next operand, extended by the boundary mode.
  void convolve_into(bool adjoint, bool refill, const PlaneOp& op);
  /// output() = H x (or H^T x); consumes the operand: load() again before the next call.
  void convolve(bool adjoint);
  /// The FFT-shaped array of the last convolve(): volume rows at layout().row_offset(z, y).
  const float* output() const { return out_.data(); }
  /// Bytes of buffers, spectrum and OTF.
  std::int64_t bytes() const;
  /// bytes() of a convolver of `fft` on `threads` threads that never calls
  /// convolve() (the engines' use), without making one.
  /// `back`: with a back projector's OTF beside the PSF's.
  static std::int64_t planned_bytes(Shape3 fft, int threads, bool back = false);

 private:
  void compute_otf(const Volume& kernel, FftwBuffer<cfloat>& otf);
  float* plane_buffer(int which) const;
  void forward(float* plane, std::int64_t z) const;

  ExtensionLayout layout_;
  int threads_;
  FftwBuffer<float> planes_;  // two real planes per thread: result, next operand
  SplitFft fft_;
  FftwBuffer<cfloat> otf_;       // scaled by 1/N, in SplitFft's pencil layout
  FftwBuffer<cfloat> back_otf_;  // the back projector's, when it is not the PSF's
  FftwBuffer<float> out_;   // convolve()'s result only; allocated on first use
  bool loaded_ = false;
};

}  // namespace h5decon::cpu
