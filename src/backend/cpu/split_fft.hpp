#pragma once
// A 3D real FFT split by axis, pruned to the planes and rows that matter, with
// the spectrum multiply fused into the pass along z.
//
// A whole-array 3D FFTW plan transforms every plane and row, although in an RL
// convolution many are known to be zero on input (outside the extended volume)
// or never read on output (outside the volume), and it streams the spectrum
// through memory once more for the multiply. Split, one convolution is:
//   1. per volume z-plane: r2c along x of the rows that can be non-zero, then
//      c2c along y (the plane, ~0.3 MB, stays in cache); margin planes are
//      copies of volume planes and so are their spectra: they are not stored;
//   2. per y and batch of kx: gather the (z, kx) slab into a cache-resident
//      buffer, c2c along z, multiply by the OTF, inverse c2c along z, scatter
//      the needed planes back;
//   3. per needed z-plane: inverse c2c along y, c2r along x of the needed rows.
// Steps 1 and 3 split the plane transform into rows and columns so that rows
// can be skipped (a whole-plane 2D plan measured no faster). Step 3 of one
// convolution and step 1 of the next run back to back on each plane, with the
// caller's element-wise work between them (FftConvolver::convolve_into), so
// real-space volumes never go through memory.
// Every unit of work runs a single-threaded plan on its own data, so the result
// is the same bits for any number of OpenMP threads. The spectrum's layout is
// that of a 3D r2c, (z, y, kx), with rows padded to 64 bytes; the OTF is stored
// slab by slab, in the order step 2 reads it.

#include <complex>
#include <cstdint>
#include <vector>

#include "backend/cpu/boundary.hpp"
#include "backend/cpu/fftw_plan.hpp"

namespace h5decon::cpu {

using cfloat = std::complex<float>;

/// The split, pruned 3D r2c / c2r pair of one FFT shape; owns the spectrum.
/// Plane functions transform one plane and are called from parallel loops.
class SplitFft {
 public:
  /// Real planes have rows of `real_row` floats; `live_rows` may be non-zero on
  /// input, `out_rows` are produced on output. Planning with measure/patient
  /// overwrites the planes `real_in` and `real_out`.
  SplitFft(Shape3 fft, std::int64_t real_row, float* real_in, float* real_out, int threads,
           const BackendOptions& options, Ranges live_rows, IndexRange out_rows);

  /// Complex elements of an OTF in the layout filter_pencils() reads.
  std::int64_t otf_size() const { return otf_size(fft_); }
  static std::int64_t otf_size(Shape3 fft);
  /// Bytes of the spectrum and the per-thread pencil buffers.
  std::int64_t bytes() const;
  /// The same for a SplitFft of `fft` on `threads` threads, without making one.
  static std::int64_t planned_bytes(Shape3 fft, int threads);

  /// Step 1 on plane z: `real` holds its live rows (or every row if `all_rows`).
  void forward_plane(const float* real, std::int64_t z, bool all_rows) const;
  /// Step 2 without the inverse: writes the z spectra of every plane, times
  /// `scale`, as an OTF.
  void export_pencils(cfloat* otf, float scale);
  /// Step 2: plane z of the operand is the transformed plane sources[z], or zero
  /// where that is -1; writes back only the planes of `keep`.
  void filter_pencils(const cfloat* otf, bool adjoint, const std::vector<std::int64_t>& sources,
                      IndexRange keep);
  /// Step 3 on plane z, into the output rows of `real` (other rows are not written).
  void inverse_plane(std::int64_t z, float* real) const;

 private:
  struct RowPlans {
    std::int64_t rows;
    FftwPlan plan;
  };
  void make_plans(float* real_in, float* real_out, const BackendOptions& options);
  fftwf_plan r2c_plan(std::int64_t rows) const;
  cfloat* plane(std::int64_t z) const { return spectrum_.data() + z * fft_.y * hs_; }
  cfloat* pencil_buffer() const;
  IndexRange batch(std::int64_t b) const;
  void gather(std::int64_t y, IndexRange k, cfloat* buf,
              const std::vector<std::int64_t>& sources) const;
  void scatter(std::int64_t y, IndexRange k, const cfloat* buf, IndexRange keep) const;

  Shape3 fft_;
  std::int64_t xs_, h_, hs_;  // real row stride, kx extent, spectrum row stride
  int threads_;
  std::int64_t bw_, batches_;  // pencils per z batch (a multiple of 8), batches per y
  Ranges live_rows_;
  IndexRange out_rows_;
  FftwBuffer<cfloat> spectrum_, pencils_;
  std::vector<RowPlans> r2c_;  // along x, by number of rows
  FftwPlan c2r_, y_forward_, y_inverse_;
  FftwPlan z_forward_[2], z_inverse_[2];  // full batch, last batch
};

}  // namespace h5decon::cpu
