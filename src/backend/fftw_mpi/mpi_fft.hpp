#pragma once
// RAII over one FFTW3-MPI real 3D transform pair, z-slab distributed, in place,
// with the transposed spectrum (FFTW_MPI_TRANSPOSED_OUT / _IN): the forward
// transform leaves the spectrum as (ky, kz, kx) distributed over ky, the inverse
// takes it back, so neither pays for the global transpose back to (kz, ky, kx).

#include <fftw3-mpi.h>
#include <mpi.h>

#include <complex>
#include <cstdint>
#include <memory>

#include "backend/cpu/fftw_plan.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::exact {

using cfloat = std::complex<float>;

/// Deleter for memory from fftwf_alloc_real / fftwf_alloc_complex.
struct FftwMpiFree {
  void operator()(void* p) const noexcept { fftwf_free(p); }
};

/// An fftwf_alloc_complex array (SIMD-aligned) of n complex floats.
class ComplexBuffer {
 public:
  ComplexBuffer() = default;
  explicit ComplexBuffer(std::int64_t n);
  cfloat* data() const { return p_.get(); }
  std::int64_t size() const { return n_; }

 private:
  std::int64_t n_ = 0;
  std::unique_ptr<cfloat, FftwMpiFree> p_;
};

/// The local share of a distributed r2c transform of `fft` (fftwf_mpi_local_size_3d_transposed).
struct LocalSizes {
  std::int64_t n0 = 0, start0 = 0;  ///< real layout: z-planes [start0, start0 + n0)
  std::int64_t n1 = 0, start1 = 0;  ///< transposed spectrum: ky rows [start1, start1 + n1)
  std::int64_t alloc = 0;           ///< complex elements to allocate
};
LocalSizes local_sizes(Shape3 fft, MPI_Comm comm);

/// The in-place distributed pair on one buffer. Real layout: local planes of
/// fft.y rows of row_stride() floats (the r2c padding); spectrum: (ky local, kz, kx).
class MpiFft {
 public:
  /// Collective. Plans with options.planner and options.threads threads; wisdom
  /// from options.wisdom_file is read on rank 0 and broadcast, and gathered back
  /// and saved by rank 0.
  MpiFft(Shape3 fft, MPI_Comm comm, const BackendOptions& options);

  Shape3 shape() const { return fft_; }
  const LocalSizes& local() const { return local_; }
  std::int64_t row_stride() const { return 2 * (fft_.x / 2 + 1); }
  std::int64_t plane_floats() const { return fft_.y * row_stride(); }
  std::int64_t spectrum_row() const { return fft_.x / 2 + 1; }
  float* real() const { return reinterpret_cast<float*>(buf_.data()); }
  float* real_plane(std::int64_t local_z) const { return real() + local_z * plane_floats(); }
  cfloat* spectrum() const { return buf_.data(); }
  /// Complex values of the local transposed spectrum: n1 * fft.z * (fft.x/2+1).
  std::int64_t spectrum_size() const { return local_.n1 * fft_.z * spectrum_row(); }
  void forward() const { forward_.execute(); }  ///< real -> transposed spectrum (collective)
  void inverse() const { inverse_.execute(); }  ///< transposed spectrum -> real, unnormalised
  std::int64_t bytes() const { return 8 * buf_.size(); }

 private:
  Shape3 fft_;
  LocalSizes local_;
  ComplexBuffer buf_;
  // cpu::FftwPlan: destroying an FFTW-MPI plan also frees FFTW's duplicate of the
  // communicator (MPI_Comm_free, which Open MPI and MPICH complete locally).
  cpu::FftwPlan forward_, inverse_;
};

}  // namespace h5decon::exact
