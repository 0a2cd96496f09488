#pragma once
// Convolution of one volume shape with one PSF under a boundary mode, by FFTW.

#include <complex>

#include "backend/cpu/boundary.hpp"
#include "backend/cpu/split_fft.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/psf.hpp"

namespace h5decon::cpu {

/// Holds the plans, buffers and OTF for convolving volumes of one shape with one
/// PSF. The caller writes the extended operand into input() (through layout()),
/// calls convolve(), and reads the result from output() at the volume's rows.
/// The transform is split_fft.hpp's: it skips what the boundary layout makes
/// zero or unread, and its result does not depend on the number of threads.
class FftConvolver {
 public:
  /// `fft` must satisfy fits_linear_convolution(fft, volume, psf).
  FftConvolver(const Psf& psf, Shape3 volume, Boundary boundary, Shape3 fft,
               const BackendOptions& options);

  /// The FFT-shaped input array: volume rows at layout().row_offset(z, y).
  float* input() { return in_.data(); }
  /// The FFT-shaped output array of the last convolve(), same layout as input();
  /// only the volume's rows are written.
  const float* output() const { return out_.data(); }
  const ExtensionLayout& layout() const { return layout_; }
  int threads() const { return threads_; }

  /// Copies a volume into input() and extends it by the boundary mode.
  void load(const float* volume);
  /// output() = H input() (or H^T input(), the correlation, when `adjoint`).
  void convolve(bool adjoint);
  /// Bytes of buffers and OTF.
  std::int64_t bytes() const;

 private:
  void compute_otf(const Volume& kernel);

  ExtensionLayout layout_;
  int threads_;
  FftwBuffer<float> in_, out_;
  SplitFft fft_;
  FftwBuffer<cfloat> otf_;  // scaled by 1/N, in SplitFft's pencil layout
};

}  // namespace h5decon::cpu
