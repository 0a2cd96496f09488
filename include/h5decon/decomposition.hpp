#pragma once
// Split of every (c, t) volume into 3D blocks with halos (docs/design.md §3).
// A pure function of (dataset shape, PSF shape, options): no MPI, no I/O.
//
// Terms, per axis:
//  - interior: the voxels a block is responsible for writing. Interiors have the
//    nominal extent except the last one along an axis, which ends at the volume's
//    far edge. Every voxel of every volume lies in exactly one interior.
//  - halo: extra voxels read on each side of the interior that touches another
//    block; 0 on an axis with a single block (no neighbours there). At the volume
//    edge the engine's boundary mode applies instead of a halo.
//  - region: the interior grown by the halo and clipped to the volume; it is what
//    is read and deconvolved.
//  - chunk: the output's HDF5 chunk. The nominal interior is a whole number of
//    chunks, so no two blocks ever write the same chunk.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "h5decon/shape.hpp"
#include "h5decon/volume.hpp"

namespace h5decon {

/// Seam error the automatic halo is meant to keep under: the largest difference
/// between blocked and whole-volume results, relative to the volume's maximum.
inline constexpr double kSeamErrorTarget = 1e-4;

/// How to split the volumes; every field has a working default.
struct DecompositionOptions {
  /// Halo per side along z, y, x; empty: auto_halo(psf_support or the PSF's
  /// extent, halo_psf_factor).
  std::optional<Shape3> halo;
  /// The extent that holds the PSF's light (halo_support()); the automatic halo
  /// is taken from it rather than from the box the PSF is stored in.
  std::optional<Shape3> psf_support;
  /// Nominal interior along z, y, x (clipped to the volume, rounded up to whole
  /// chunks); empty: chosen to fit memory_budget_bytes with the least FFT work.
  std::optional<Shape3> block;
  /// Most bytes one block may need (block_bytes); 0: unlimited, one block per volume.
  std::int64_t memory_budget_bytes = 0;
  /// Bytes one block of this region and FFT shape needs (a backend's own
  /// estimate, e.g. the CUDA engine's with cuFFT's work area); empty: block_bytes().
  /// It must grow with the region and the FFT shape.
  std::function<std::int64_t(const Shape3& region, const Shape3& fft)> block_cost;
  /// Largest output chunk per axis.
  Shape3 chunk_limit{64, 256, 256};
  /// Automatic halo = ceil(factor × PSF extent). 2.5 is the smallest factor (in
  /// steps of 0.25) that kept the seam error under kSeamErrorTarget for 20 and 50
  /// iterations on the `stack` and `medium` phantoms: 3.4e-5 at 2.5, 1.01e-4 at 2.25
  /// (medium, 50 iterations; `h5decon seams`, docs/seam_error.md).
  double halo_psf_factor = 2.5;
};

/// Share of a PSF's flux its support holds: the automatic halo is a multiple of the
/// smallest centred box holding this share (crop_psf), not of the stored box.
inline constexpr double kHaloSupportEnergy = 0.9999;

/// The support of `psfs` for the automatic halo: per axis the largest extent of
/// crop_psf(psf, kHaloSupportEnergy) over the PSFs (non-negative, positive sum).
Shape3 halo_support(const std::vector<Volume>& psfs);

/// The decomposition of one dataset: everything needed to enumerate its blocks.
struct DecompositionPlan {
  Shape5 dataset;                    ///< (c, t, z, y, x) extent of the whole dataset
  Shape3 psf;                        ///< PSF extent, for the FFT padding
  Shape3 halo;                       ///< halo per side, 0 on axes with one block
  Shape3 interior;                   ///< nominal interior extent (the last block may be smaller)
  Shape3 grid;                       ///< blocks per axis in one volume
  Shape3 chunk;                      ///< output chunk; divides `interior` on split axes
  std::int64_t block_count = 0;      ///< c * t * grid.z * grid.y * grid.x
  Shape3 max_region;                 ///< largest region extent per axis
  Shape3 max_fft;                    ///< padded_shape(max_region, psf): the largest FFT
  std::int64_t max_block_bytes = 0;  ///< block cost of (max_region, max_fft): the most any block needs
  std::int64_t memory_budget_bytes = 0;  ///< the budget it was planned for; 0: unlimited
  bool auto_halo = true;                 ///< halo chosen from the PSF (not given explicitly)
  Shape3 halo_basis;                     ///< what the automatic halo is a multiple of (the support)
  double halo_factor = 0;                ///< that multiple
  bool auto_block = true;                ///< grid chosen by the search (not given explicitly)

  /// Voxels read (every block's region, halos included) per voxel of a volume.
  double read_amplification() const;
  /// FFT voxels (every block's padded FFT shape) per voxel of a volume.
  double fft_amplification() const;
};

/// One block of one volume, computed on demand by block_at.
struct Block {
  std::int64_t id = 0;     ///< position in the enumeration order c, t, z, y, x
  std::int64_t c = 0;      ///< channel
  std::int64_t t = 0;      ///< time point
  Shape3 index;            ///< grid index along z, y, x
  Shape3 interior_offset;  ///< first interior voxel, volume coordinates
  Shape3 interior_count;   ///< interior extent
  Shape3 region_offset;    ///< first region voxel (interior grown by the halo, clipped)
  Shape3 region_count;     ///< region extent
  Shape3 fft;              ///< padded_shape(region_count, psf)
};

/// Automatic halo per side: ceil(factor × PSF extent) on each axis.
Shape3 auto_halo(const Shape3& psf, double factor);

/// Estimated bytes to deconvolve one region with the CPU engine: two real FFT
/// arrays and two half-spectra (spectrum, OTF) of padded_shape(region, psf),
/// about 16 bytes per FFT voxel, plus observed and estimate at 8 bytes per region voxel.
std::int64_t block_bytes(const Shape3& region, const Shape3& psf);

/// Plans the decomposition; throws InputError for invalid shapes or options and
/// when no block fits memory_budget_bytes. Tolerates a PSF larger than the volume.
DecompositionPlan plan_decomposition(const Shape5& dataset, const Shape3& psf,
                                     const DecompositionOptions& options = {});

/// Block number `id` (0 <= id < block_count); throws Error when out of range.
Block block_at(const DecompositionPlan& plan, std::int64_t id);

/// Inverse of block_at: the id of the block at grid index (iz, iy, ix) of volume (c, t).
std::int64_t block_id(const DecompositionPlan& plan, std::int64_t c, std::int64_t t,
                      std::int64_t iz, std::int64_t iy, std::int64_t ix);

/// Multi-line human summary (blocks, grid, halo, regions, FFT sizes, chunk, bytes).
std::string describe(const DecompositionPlan& plan);

}  // namespace h5decon
