// Memory planning for device backends (memory_fit.hpp).
#include "h5decon/dist/memory_fit.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <type_traits>

#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

std::string mib(std::int64_t bytes) {
  if (bytes < 0) return "unknown";
  std::ostringstream os;
  os << bytes << " bytes (" << std::fixed << std::setprecision(1) << double(bytes) / (1 << 20)
     << " MiB)";
  return os.str();
}

std::string shortage_text(const MemoryShortage& s) {
  return "free " + mib(s.free) + ", requested " + (s.requested > 0 ? mib(s.requested) : "unknown");
}

std::string plan_text(const DecompositionPlan& p) {
  return detail::concat("interior ", p.interior.str(), ", region ", p.max_region.str(), ", FFT ",
                        p.max_fft.str(), ", ", mib(p.max_block_bytes), " per block, budget ",
                        mib(p.memory_budget_bytes));
}

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

static_assert(std::is_trivially_copyable_v<DecompositionPlan>, "the plan travels as bytes");

}  // namespace

std::optional<MemoryShortage> try_largest_engine(Backend& backend, const Psf& psf,
                                                 const RlOptions& rl, const DecompositionPlan& plan,
                                                 std::unique_ptr<RlEngine>* keep) {
  try {
    auto engine = backend.make_engine(psf, plan.max_region, rl, plan.max_fft);
    if (keep) *keep = std::move(engine);
    return std::nullopt;
  } catch (const OutOfMemoryError& e) {
    return MemoryShortage{e.requested_bytes(), e.free_bytes(), e.what()};
  }
}

DecompositionPlan fit_plan(std::int64_t budget, const PlanFunction& plan, const PlanProbe& probe,
                           const std::function<void(const std::string&)>& log, int max_halvings) {
  DecompositionPlan p = plan(budget);
  for (int halvings = 0;; ++halvings) {
    const std::optional<MemoryShortage> shortage = probe(p);
    if (!shortage) return p;
    if (halvings == max_halvings)
      throw OutOfMemoryError(
          detail::concat("out of GPU memory (", shortage_text(*shortage), ") even after halving ",
                         "the blocks' memory budget ", max_halvings, " times; the last try: ",
                         plan_text(p), ". Use fewer ranks per GPU, a smaller --block or ",
                         "--memory-budget, or a GPU with more memory. The backend said: ",
                         shortage->message),
          shortage->requested, shortage->free);
    const std::int64_t was = p.memory_budget_bytes > 0 ? p.memory_budget_bytes : p.max_block_bytes;
    try {
      p = plan(std::max<std::int64_t>(1, was / 2));
    } catch (const std::exception& e) {
      throw OutOfMemoryError(detail::concat("out of GPU memory (", shortage_text(*shortage),
                                            ") with ", plan_text(p),
                                            ", and the blocks cannot shrink further: ", e.what()),
                             shortage->requested, shortage->free);
    }
    log(detail::concat("out of GPU memory (", shortage_text(*shortage),
                       "): shrinking blocks to ", plan_text(p)));
  }
}

std::optional<MemoryShortage> shortage_on_any_rank(
    MPI_Comm comm, const std::function<std::optional<MemoryShortage>()>& local) {
  std::optional<MemoryShortage> mine;
  std::exception_ptr error;
  try {
    mine = local();
  } catch (...) {
    error = std::current_exception();
  }
  // {short anywhere, failed anywhere, largest request, -(smallest free)}: one MAX reduction.
  long long v[4] = {mine ? 1 : 0, error ? 1 : 0, mine ? mine->requested : 0,
                    mine && mine->free >= 0 ? -mine->free : LLONG_MIN};
  long long all[4];
  MPI_Allreduce(v, all, 4, MPI_LONG_LONG, MPI_MAX, comm);
  if (error) std::rethrow_exception(error);
  if (all[1] || !all[0]) return std::nullopt;
  MemoryShortage s;
  s.requested = all[2];
  s.free = all[3] == LLONG_MIN ? -1 : -all[3];
  s.message = mine ? mine->message : "(on another rank)";
  return s;
}

namespace {

/// Rank 0 plans; every rank gets its plan (or throws when rank 0 could not plan).
DecompositionPlan plan_on_rank0(MPI_Comm comm, const std::function<DecompositionPlan()>& make) {
  DecompositionPlan plan;
  std::exception_ptr error;
  if (comm_rank(comm) == 0) {
    try {
      plan = make();
    } catch (...) {
      error = std::current_exception();
    }
  }
  int failed = error ? 1 : 0;
  MPI_Bcast(&failed, 1, MPI_INT, 0, comm);
  if (error) std::rethrow_exception(error);
  if (failed) throw Error("rank 0 could not plan the decomposition");
  MPI_Bcast(&plan, static_cast<int>(sizeof plan), MPI_BYTE, 0, comm);
  return plan;
}

/// This rank's planning backend (none for "cpu") and its device memory budget
/// (0: it computes in host memory). Collective: a rank that could not start its
/// backend ends every rank's planning.
struct PlanningBackend {
  std::unique_ptr<Backend> backend;
  long long device_budget = 0;
};

PlanningBackend start_planning_backend(MPI_Comm comm, const BackendPlanRequest& request) {
  PlanningBackend b;
  std::exception_ptr error;  // thrown only after every rank has taken part
  try {
    if (request.backend != "cpu")
      b.backend = make_backend(request.backend, request.backend_options);
    b.device_budget = b.backend ? b.backend->device_memory_budget() : 0;
    // Ranks sharing one GPU each get their share of its free memory: each would
    // otherwise plan for all of it, and the first blocks would run out of memory.
    b.device_budget /= std::max(1, request.device_sharers);
  } catch (...) {
    error = std::current_exception();
  }
  int failed = error ? 1 : 0, any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, comm);
  if (error) std::rethrow_exception(error);
  if (any_failed) throw Error("another rank could not start its backend");
  return b;
}

/// The smallest device budget of the ranks that compute on a device; 0 when
/// every rank computes in host memory. Collective.
long long smallest_device_budget(MPI_Comm comm, long long device) {
  long long any = 0, smallest = 0;
  MPI_Allreduce(&device, &any, 1, MPI_LONG_LONG, MPI_MAX, comm);
  if (any <= 0) return 0;
  if (device <= 0) device = LLONG_MAX;  // host ranks do not lower the device budget
  MPI_Allreduce(&device, &smallest, 1, MPI_LONG_LONG, MPI_MIN, comm);
  return smallest;
}

/// Blocks sized by the engines' device bytes within `budget`, shrunk until the
/// largest engine can be made on every rank. Collective.
DecompositionPlan fit_device_plan(MPI_Comm comm, const Shape5& dataset,
                                  const std::vector<Psf>& psfs, const BackendPlanRequest& request,
                                  Backend* backend, std::int64_t budget, std::ostream& log) {
  const Shape3 psf = largest_psf_extent(psfs);
  const bool on_device = backend && backend->device_memory_budget() > 0;
  const PlanFunction plan = [&](std::int64_t b) {
    return plan_on_rank0(comm, [&] {
      DecompositionOptions o = request.options;
      o.memory_budget_bytes = b;
      if (on_device)
        o.block_cost = [&](const Shape3& region, const Shape3& fft) {
          return backend->engine_bytes(psf, region, fft, request.rl);
        };
      return plan_decomposition(dataset, psf, o);
    });
  };
  // Each rank's probe engine is held until every rank has made its own (the
  // reduction in shortage_on_any_rank): ranks sharing a GPU then probe together,
  // as their engines will compute together.
  std::unique_ptr<RlEngine> held;
  const PlanProbe probe = [&](const DecompositionPlan& p) {
    held.reset();
    auto shortage = shortage_on_any_rank(comm, [&]() -> std::optional<MemoryShortage> {
      if (!on_device) return std::nullopt;
      return try_largest_engine(*backend, largest_psf(psfs), request.rl, p, &held);
    });
    held.reset();
    return shortage;
  };
  return fit_plan(budget, plan, probe, [&](const std::string& line) {
    if (comm_rank(comm) == 0) log << "h5decon: warning: " << line << std::endl;
  });
}

}  // namespace

std::int64_t block_buffer_bytes(const Shape3& region, int sample_bytes) {
  return region.size() * (3 * std::int64_t(sizeof(float)) + 2 * std::int64_t(sample_bytes));
}

ReadAhead read_ahead_regions(std::int64_t region_bytes, std::size_t workers, std::int64_t budget,
                             std::int64_t own_block_bytes) {
  const std::size_t wanted = std::max<std::size_t>(1, std::min(workers, kMaxReadAhead));
  ReadAhead r{wanted, wanted + 1};  // and one buffer being read: wanted + 2 in all
  if (budget <= 0 || region_bytes <= 0) return r;
  const std::int64_t room = std::max<std::int64_t>(0, std::min(budget / 4, budget - own_block_bytes));
  const auto fits = static_cast<std::size_t>(room / region_bytes);
  if (fits >= wanted + 2) return r;
  // Every buffer within the room, at least one: fewer ready, no spare.
  r.kept = fits >= 2 ? fits - 1 : 0;
  r.depth = std::max<std::size_t>(1, std::min(wanted, r.kept));
  return r;
}

DecompositionPlan plan_for_backend(MPI_Comm comm, const Shape5& dataset,
                                   const std::vector<Psf>& psfs, const BackendPlanRequest& request,
                                   std::ostream& log) {
  const PlanningBackend planning = start_planning_backend(comm, request);
  const long long smallest = smallest_device_budget(comm, planning.device_budget);
  if (smallest <= 0) {  // every rank computes in host memory
    DecompositionOptions options = request.options;
    if (request.auto_budget) options.memory_budget_bytes = auto_memory_budget(comm);
    const Shape3 psf = largest_psf_extent(psfs);
    // On rank 0 only: the cost depends on its thread count, and every rank must
    // use one plan.
    return plan_on_rank0(comm, [&] {
      const std::unique_ptr<Backend> cpu = make_backend("cpu", request.backend_options);
      options.block_cost = [&](const Shape3& region, const Shape3& fft) {
        return cpu->engine_bytes(psf, region, fft, request.rl) +
               block_buffer_bytes(region, request.sample_bytes);
      };
      return plan_decomposition(dataset, psf, options);
    });
  }
  const std::int64_t budget = request.auto_budget ? smallest : request.options.memory_budget_bytes;
  if (comm_rank(comm) == 0)
    log << "memory: blocks planned for " << mib(budget)
        << (request.auto_budget ? " (the smallest free device memory of the ranks, less a margin)"
                                : " (--memory-budget)")
        << std::endl;
  return fit_device_plan(comm, dataset, psfs, request, planning.backend.get(), budget, log);
}

}  // namespace h5decon::dist
