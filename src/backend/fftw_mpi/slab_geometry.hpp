#pragma once
// Where every voxel of a z-slab distributed FFT array comes from.
//
// The single-process layout (backend/cpu/boundary.hpp): the operand (the volume,
// or the bertero estimate domain) extended by m = psf/2 voxels on each side by
// the boundary mode, extended index j stored at position j mod P. FFTW-MPI gives
// each rank the FFT z-planes [p0, p0 + n0). The operand's planes sit at positions
// [0, domain.z), so a rank owns the operand planes [p0, p0 + n0) ∩ [0, domain.z),
// and a margin plane it holds is a copy of an operand plane that is either its
// own or another rank's: those arrive by HaloExchange.

#include <cstdint>
#include <vector>

#include "h5decon/exact_engine.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::exact {

class SlabGeometry {
 public:
  /// `domain` extended by `psf`/2 per side with `boundary` inside `fft`; `starts`
  /// and `counts`: every rank's FFT planes (local_n0 / local_0_start), in rank order.
  SlabGeometry(Shape3 domain, Shape3 psf, Boundary boundary, Shape3 fft,
               std::vector<std::int64_t> starts, std::vector<std::int64_t> counts, int rank);

  Shape3 domain() const { return domain_; }
  Shape3 fft() const { return fft_; }
  int rank() const { return rank_; }
  int ranks() const { return static_cast<int>(starts_.size()); }
  /// FFT planes of rank r.
  PlaneRange fft_planes(int r) const { return {starts_[r], starts_[r] + counts_[r]}; }
  /// Operand planes of rank r: its FFT planes within [0, domain.z).
  PlaneRange domain_planes(int r) const;
  PlaneRange local_fft() const { return fft_planes(rank_); }
  PlaneRange local_domain() const { return domain_planes(rank_); }
  /// The rank owning operand plane s.
  int owner(std::int64_t s) const;
  /// The operand plane that FFT position p (z) holds a copy of, or -1 for zero.
  std::int64_t plane_source(std::int64_t p) const { return planes_[p]; }

  /// Writes FFT plane `dst` (fft.y rows of `row_stride` floats): operand rows
  /// from `src` (domain.y rows of domain.x floats), or already in place when
  /// `src` is null; then the x and y margins by the boundary mode, zeros elsewhere.
  void extend_plane(float* dst, const float* src, std::int64_t row_stride) const;

 private:
  Shape3 domain_, fft_;
  std::vector<std::int64_t> starts_, counts_;
  int rank_;
  std::vector<std::int64_t> planes_, rows_, cols_;  // per FFT position: source or -1
};

}  // namespace h5decon::exact
