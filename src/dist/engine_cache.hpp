#pragma once
// RL engines for the blocks a rank computes, one per (channel, region shape,
// FFT shape), kept within a byte budget; and the sharing of FFT plans (FFTW
// wisdom) from rank 0, which makes a block's bits independent of the rank
// that computes it.

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/decomposition.hpp"
#include "h5decon/psf.hpp"

namespace h5decon::dist {

/// Engines made on demand and reused; least recently used ones are dropped
/// when a new one would exceed the capacity (one engine is always kept).
class EngineCache {
 public:
  /// `capacity_bytes` 0: no limit.
  EngineCache(Backend& backend, const std::vector<Psf>& psfs, const RlOptions& rl,
              std::int64_t capacity_bytes);
  /// The engine for a block of channel `c` with this region and FFT shape.
  RlEngine& get(std::int64_t c, const Shape3& region, const Shape3& fft);
  std::size_t size() const { return entries_.size(); }
  /// Engines made so far (dropped ones included).
  std::int64_t made() const { return made_; }
  /// Drops every engine (their memory goes back to the backend).
  void clear() { entries_.clear(); }

 private:
  struct Entry {
    std::int64_t c;
    Shape3 region, fft;
    std::unique_ptr<RlEngine> engine;
    std::uint64_t last_use;
  };
  void make_room(std::int64_t needed);

  Backend& backend_;
  const std::vector<Psf>& psfs_;
  RlOptions rl_;
  std::int64_t capacity_;
  std::uint64_t clock_ = 0;
  std::int64_t made_ = 0;
  std::vector<Entry> entries_;
};

/// One (region, FFT) shape per distinct FFT shape among `blocks` (all blocks when empty).
std::vector<std::pair<Shape3, Shape3>> distinct_fft_shapes(const DecompositionPlan& plan,
                                                           const std::vector<std::int64_t>& blocks);

/// Collective. Rank 0 makes an engine for each of `shapes` (so the backend plans
/// them), exports the FFTW wisdom and broadcasts it; the other ranks import it.
/// Throws on rank 0 when planning fails there (the others then return).
void share_fft_wisdom(MPI_Comm comm, Backend& backend, const Psf& psf, const RlOptions& rl,
                      const std::vector<std::pair<Shape3, Shape3>>& shapes);

}  // namespace h5decon::dist
