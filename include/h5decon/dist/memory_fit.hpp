#pragma once
// The decomposition for a backend that computes in its own memory (a GPU): the
// budget is the device's free memory less a margin, the cost of a block is the
// backend's own estimate (cuFFT's work area included), and a shortage seen when
// the largest engine is actually made shrinks the blocks: the budget is halved
// and the volumes re-planned, a few times, then a clear error with the free and
// requested bytes. Host-memory backends (CPU): the budget is the host's, the cost
// of a block its CPU engine's state for the RL options plus the block's buffers.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/decomposition.hpp"

namespace h5decon::dist {

/// How many times the budget is halved before giving up.
inline constexpr int kMaxMemoryHalvings = 4;

/// A shortage of backend memory seen when an engine was made.
struct MemoryShortage {
  std::int64_t requested = 0;  ///< bytes asked for (0: unknown)
  std::int64_t free = -1;      ///< bytes free at that moment (-1: unknown)
  std::string message;         ///< the backend's own words
};

/// Plans for a budget (bytes per block).
using PlanFunction = std::function<DecompositionPlan(std::int64_t budget)>;
/// Tries a plan; the shortage if it does not fit.
using PlanProbe = std::function<std::optional<MemoryShortage>(const DecompositionPlan&)>;

/// Makes the engine of the plan's largest block (with the largest PSF) on
/// `backend`: nullopt when that worked, the shortage on OutOfMemoryError. The
/// engine goes to `*keep` when given (held until every rank sharing the device has
/// made its own), else it is dropped. Any other failure is thrown.
std::optional<MemoryShortage> try_largest_engine(Backend& backend, const Psf& psf,
                                                 const RlOptions& rl, const DecompositionPlan& plan,
                                                 std::unique_ptr<RlEngine>* keep = nullptr);

/// plan(budget), then probe it; on a shortage, logs "out of GPU memory (free X,
/// requested Y): shrinking blocks to ..." and re-plans with half the budget (half
/// the plan's largest block when the budget was unlimited), at most
/// `max_halvings` times; then throws OutOfMemoryError naming free and requested
/// bytes. Errors of `plan` (a budget too small for any block) are thrown as they are.
DecompositionPlan fit_plan(std::int64_t budget, const PlanFunction& plan, const PlanProbe& probe,
                           const std::function<void(const std::string&)>& log,
                           int max_halvings = kMaxMemoryHalvings);

/// Collective: runs `local` on every rank; the largest shortage of any rank, the
/// same on every rank (nullopt when none). A failure other than a shortage is
/// rethrown on its rank after the collective step; the other ranks then see no
/// shortage, so that every rank leaves and the caller's agreement reports it.
std::optional<MemoryShortage> shortage_on_any_rank(
    MPI_Comm comm, const std::function<std::optional<MemoryShortage>()>& local);

/// What plan_for_backend needs besides the dataset.
struct BackendPlanRequest {
  DecompositionOptions options;  ///< halo, block, chunk limit; the budget is set here
  bool auto_budget = true;       ///< false: options.memory_budget_bytes as given
  std::string backend;           ///< this rank's make_backend() kind (after GPU binding)
  BackendOptions backend_options;
  RlOptions rl;
  /// Ranks on this node computing on the same GPU (by UUID, GpuBinding::sharers):
  /// each plans with its share of the device's free memory.
  int device_sharers = 1;
  /// Bytes of one stored input sample (the regions received are in the stored type).
  int sample_bytes = 4;
};

/// Host bytes of one block beyond its engine: the float32 region, the result and
/// the cropped interior (BlockProcessor), and two regions of stored samples (the
/// block being computed and the next, received meanwhile; BlockWorker).
std::int64_t block_buffer_bytes(const Shape3& region, int sample_bytes);

/// Most regions rank 0's reader thread keeps ready ahead of the requests.
inline constexpr std::size_t kMaxReadAhead = 4;

/// Rank 0's region buffers for serving (docs/design.md §4).
struct ReadAhead {
  std::size_t depth = 1;  ///< regions its reader thread keeps ready ahead of the requests
  std::size_t kept = 2;   ///< region buffers beside the one being read: kept + 1 in all
};

/// One region of stored samples ready per worker, at most kMaxReadAhead, at
/// least 1, with one buffer being read and one spare (a region read while a send
/// still holds another is then not allocated, and its pages faulted in, again).
/// With a budget (`budget` > 0) every buffer, ready, being read or being sent,
/// fits in what it leaves beside rank 0's own block (`own_block_bytes`, 0 when
/// rank 0 does not compute), at most a quarter of it: fewer ready regions and
/// no spare where it is short, and a single buffer (reads wait for each send)
/// where it holds fewer than two regions.
ReadAhead read_ahead_regions(std::int64_t region_bytes, std::size_t workers, std::int64_t budget,
                             std::int64_t own_block_bytes);

/// Collective. The plan every rank uses. With a host backend on every rank:
/// rank 0 plans with auto_memory_budget() or the given budget, each block costed
/// as the CPU engine for request.rl (Backend::engine_bytes) plus block_buffer_bytes(). Where some
/// rank computes on a device: the budget is the smallest device budget of all
/// ranks (and at most the given one), rank 0 plans with its backend's block cost
/// and broadcasts the plan, every rank tries the largest engine, and the blocks
/// shrink as fit_plan says. Throws on failure (the caller agrees).
DecompositionPlan plan_for_backend(MPI_Comm comm, const Shape5& dataset,
                                   const std::vector<Psf>& psfs, const BackendPlanRequest& request,
                                   std::ostream& log);

}  // namespace h5decon::dist
