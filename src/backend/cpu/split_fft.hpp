#pragma once
// A 3D real FFT split by axis, pruned to the planes and rows that matter, with
// the spectrum multiply fused into the pass along z.
//
// A whole-array 3D FFTW plan transforms every plane and row, although in an RL
// convolution many are known to be zero on input (outside the extended volume)
// or never read on output (outside the volume), and it streams the spectrum
// through memory once more for the multiply. Split, one convolution is:
//   1. per z-plane that can be non-zero: r2c along x of the rows that can be
//      non-zero, then c2c along y (the plane, ~0.3 MB, stays in cache);
//   2. per y and batch of kx: gather the (z, kx) slab into a cache-resident
//      buffer, c2c along z, multiply by the OTF, inverse c2c along z, scatter
//      the needed planes back;
//   3. per needed z-plane: inverse c2c along y, c2r along x of the needed rows.
// Steps 1 and 3 split the plane transform into rows and columns so that rows
// can be skipped (a whole-plane 2D plan measured no faster). Every unit of work runs a
// single-threaded plan on its own data, so the result is the same bits for any number of OpenMP
// threads. The spectrum's layout is that of a 3D r2c, (z, y, kx), with rows padded to
// spectrum_row() elements; the OTF is stored slab by slab, in the order step 2 reads it.

#include <complex>
#include <cstdint>
#include <vector>

#include "backend/cpu/boundary.hpp"
#include "backend/cpu/fftw_plan.hpp"

namespace h5decon::cpu {

using cfloat = std::complex<float>;

/// The split, pruned 3D r2c / c2r pair of one FFT shape; owns the spectrum.
class SplitFft {
 public:
  /// Real arrays have rows of `real_row` floats. `forward_rows`: the row counts
  /// forward_planes() will be called with; `inverse_rows`: that of inverse_planes().
  /// Planning with measure/patient overwrites `real_in` and `real_out`.
  SplitFft(Shape3 fft, std::int64_t real_row, float* real_in, float* real_out, int threads,
           const BackendOptions& options, const std::vector<std::int64_t>& forward_rows,
           std::int64_t inverse_rows);

  /// Complex elements between spectrum rows: P_x/2+1 padded to 64 bytes.
  std::int64_t spectrum_row() const { return hs_; }
  /// Complex elements of an OTF in the layout filter_pencils() reads.
  std::int64_t otf_size() const { return fft_.y * batches_ * fft_.z * bw_; }
  /// Bytes of the spectrum and the per-thread pencil buffers.
  std::int64_t bytes() const;

  /// Step 1 on `planes` of `real`; rows outside `rows` are taken as zero.
  void forward_planes(const float* real, const Ranges& planes, const Ranges& rows);
  /// Step 2 without the inverse: writes the z spectra, times `scale`, as an OTF.
  void export_pencils(cfloat* otf, float scale);
  /// Step 2: planes outside `in` are taken as zero; writes back only `out`.
  void filter_pencils(const cfloat* otf, bool adjoint, const Ranges& in, const Ranges& out);
  /// Step 3 on `planes`, into rows `rows` of `real` (other rows are not written).
  void inverse_planes(float* real, const Ranges& planes, IndexRange rows);

 private:
  struct RowPlans {
    std::int64_t rows;
    FftwPlan plan;
  };
  void make_plans(float* real_in, float* real_out, const BackendOptions& options,
                  const std::vector<std::int64_t>& forward_rows, std::int64_t inverse_rows);
  fftwf_plan row_plan(const std::vector<RowPlans>& plans, std::int64_t rows) const;
  cfloat* plane(std::int64_t z) const { return spectrum_.data() + z * fft_.y * hs_; }
  cfloat* pencil_buffer() const;
  IndexRange batch(std::int64_t b) const;
  void gather(std::int64_t y, IndexRange k, cfloat* buf, const std::vector<char>& live) const;
  void scatter(std::int64_t y, IndexRange k, const cfloat* buf,
               const std::vector<char>& keep) const;

  Shape3 fft_;
  std::int64_t xs_, h_, hs_;  // real row stride, kx extent, spectrum row stride
  int threads_;
  std::int64_t bw_, batches_;  // pencils per z batch (a multiple of 8), batches per y
  FftwBuffer<cfloat> spectrum_, pencils_;
  std::vector<RowPlans> r2c_, c2r_;  // along x, by number of rows
  FftwPlan y_forward_, y_inverse_;
  FftwPlan z_forward_[2], z_inverse_[2];  // full batch, last batch
};

/// Every position of `ranges`, in order.
std::vector<std::int64_t> positions(const Ranges& ranges);

}  // namespace h5decon::cpu
