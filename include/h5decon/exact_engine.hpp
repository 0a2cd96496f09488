#pragma once
// Exact mode (docs/design.md §4): one whole volume deconvolved across every rank of a
// communicator in z-slabs with FFTW3-MPI distributed transforms: no blocks, no
// seams. The FFT shape, boundary extension and RL semantics are those of the
// single-process CPU engine (padded_shape(), boundary.hpp); each rank holds only
// its slab of the volume and of the FFT arrays, so memory per rank scales as 1/N.

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "h5decon/backend.hpp"
#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::exact {

/// A half-open range [begin, end) of z-planes of a volume.
struct PlaneRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end > begin ? end - begin : 0; }
};

/// What one rank of an exact-mode engine holds, from fftwf_mpi_local_size.
struct ExactMemory {
  Shape3 fft;                      ///< the padded FFT shape (as the single-process engine's)
  std::int64_t fft_planes = 0;     ///< FFT z-planes of this rank (local_n0)
  PlaneRange fft_range;            ///< those planes [local_0_start, + local_n0)
  PlaneRange output;               ///< the volume planes this rank computes
  std::int64_t fft_bytes = 0;      ///< the distributed FFT array and the OTF(s)
  std::int64_t slab_bytes = 0;     ///< estimate, observed data, halo planes, extension buffers
  std::int64_t total() const { return fft_bytes + slab_bytes; }
};

/// Bytes the exact engine needs on the calling rank of `comm` for one volume
/// shape, computed without allocating (fftwf_mpi_local_size). Collective on `comm`.
/// `fft` as in ExactEngine.
ExactMemory exact_memory(Shape3 volume, Shape3 psf, const RlOptions& options, MPI_Comm comm,
                         const BackendOptions& backend = {}, Shape3 fft = {});

/// Calls fftwf_init_threads() and fftwf_mpi_init() once per process (after MPI_Init).
void init_fftw_mpi();

/// Richardson-Lucy of whole volumes of one shape over the ranks of `comm`.
/// Construction, deconvolve() and nothing else are collective on `comm`; the
/// destructor communicates with nobody.
class ExactEngine {
 public:
  /// `fft`, when non-zero, overrides padded_shape(volume, psf) (it must satisfy
  /// fits_linear_convolution()); the result does not depend on it.
  ExactEngine(const Psf& psf, Shape3 volume, const RlOptions& options, MPI_Comm comm,
              const BackendOptions& backend, Shape3 fft = {});
  ~ExactEngine();
  ExactEngine(const ExactEngine&) = delete;
  ExactEngine& operator=(const ExactEngine&) = delete;

  /// The observed planes this rank supplies to deconvolve() (its slab, and for
  /// the bertero boundary the edge planes its extended domain replicates).
  PlaneRange input_planes() const;
  /// The result planes this rank produces; the ranks' ranges partition [0, volume.z)
  /// in rank order (some may be empty).
  PlaneRange output_planes() const;
  /// Runs RL (collective). `observed` holds input_planes() of the volume, `result`
  /// receives output_planes(). The observer is called on every rank after each
  /// iteration (copy_estimate is empty: the estimate is distributed).
  void deconvolve(std::span<const float> observed, std::span<float> result,
                  const IterationObserver& observer = {});
  /// The background b of the next deconvolve() calls, estimated for the volume by
  /// the caller (--background auto: the whole volume's estimate, which no rank's
  /// slab can make alone). Required before deconvolve() with background_auto.
  void set_background(float background);

  Shape3 shape() const;
  Shape3 fft_shape() const;
  /// Bytes held on this rank.
  std::int64_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace h5decon::exact
