// Engine cache and FFTW wisdom sharing of the block runtime.
//
// Why wisdom: FFTW_MEASURE picks among algorithms by timing them, so two
// processes planning the same shape may pick different ones, whose results
// differ in the last bits. Rank 0 plans every shape the run needs; its wisdom
// makes every other rank pick the same algorithms (with the same thread count).
#include "dist/engine_cache.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <map>
#include <tuple>

#include "h5decon/error.hpp"

namespace h5decon::dist {

EngineCache::EngineCache(Backend& backend, const std::vector<Psf>& psfs, const RlOptions& rl,
                         std::int64_t capacity_bytes)
    : backend_(backend), psfs_(psfs), rl_(rl), capacity_(capacity_bytes) {}

void EngineCache::make_room(std::int64_t needed) {
  if (capacity_ <= 0) return;
  auto total = [&] {
    std::int64_t sum = 0;
    for (const Entry& e : entries_) sum += e.engine->bytes();
    return sum;
  };
  while (!entries_.empty() && total() + needed > capacity_) {
    auto oldest =
        std::min_element(entries_.begin(), entries_.end(),
                         [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
    entries_.erase(oldest);
  }
}

RlEngine& EngineCache::get(std::int64_t c, const Shape3& region, const Shape3& fft) {
  ++clock_;
  for (Entry& e : entries_)
    if (e.c == c && e.region == region && e.fft == fft) {
      e.last_use = clock_;
      return *e.engine;
    }
  H5DECON_REQUIRE(c >= 0 && c < static_cast<std::int64_t>(psfs_.size()), Error, "channel ", c,
                  " has no PSF (", psfs_.size(), " channels)");
  // The backend's own estimate: device memory, cuFFT's work area included, for CUDA.
  make_room(backend_.engine_bytes(psfs_[static_cast<std::size_t>(c)].kernel.shape, region, fft, rl_));
  ++made_;
  entries_.push_back({c, region, fft,
                      backend_.make_engine(psfs_[static_cast<std::size_t>(c)], region, rl_, fft),
                      clock_});
  return *entries_.back().engine;
}

std::vector<std::pair<Shape3, Shape3>> distinct_fft_shapes(
    const DecompositionPlan& plan, const std::vector<std::int64_t>& blocks) {
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, Shape3> by_fft;
  auto add = [&](std::int64_t id) {
    const Block b = block_at(plan, id);
    by_fft.emplace(std::make_tuple(b.fft.z, b.fft.y, b.fft.x), b.region_count);
  };
  if (blocks.empty()) {
    // Every volume has the same shapes: the first volume's blocks are enough.
    for (std::int64_t id = 0; id < plan.grid.size(); ++id) add(id);
  } else {
    for (std::int64_t id : blocks) add(id);
  }
  std::vector<std::pair<Shape3, Shape3>> shapes;
  for (const auto& [key, region] : by_fft)
    shapes.emplace_back(region, Shape3{std::get<0>(key), std::get<1>(key), std::get<2>(key)});
  return shapes;
}

void share_fft_wisdom(MPI_Comm comm, Backend& backend, const Psf& psf, const RlOptions& rl,
                      const std::vector<std::pair<Shape3, Shape3>>& shapes) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string wisdom;
  std::exception_ptr error;
  if (rank == 0) {
    try {
      for (const auto& [region, fft] : shapes) backend.make_engine(psf, region, rl, fft);
      wisdom = backend.export_fft_plans();
    } catch (...) {
      error = std::current_exception();
    }
  }
  // -1: rank 0 failed; the others return and learn of it when the caller agrees.
  long long length = error ? -1 : static_cast<long long>(wisdom.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
  if (error) std::rethrow_exception(error);
  if (length < 0) return;
  wisdom.resize(static_cast<std::size_t>(length));
  MPI_Bcast(wisdom.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
  if (rank != 0) backend.import_fft_plans(wisdom);
}

}  // namespace h5decon::dist
