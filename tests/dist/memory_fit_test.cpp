// Memory planning for device backends: the decomposition with a backend's own
// block cost, and shrinking blocks when the largest engine runs out of memory
// (a fake backend with a fixed capacity stands in for a GPU). Runs on 1 and 3 ranks.
#include "h5decon/dist/memory_fit.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <sstream>
#include <string>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

constexpr std::int64_t kMiB = std::int64_t{1} << 20;

/// Engines that copy their input; making one that needs more than the
/// capacity throws OutOfMemoryError, as the CUDA backend does.
class FakeEngine final : public RlEngine {
 public:
  FakeEngine(Shape3 shape, Shape3 fft, std::int64_t bytes) : shape_(shape), fft_(fft), bytes_(bytes) {}
  void deconvolve(std::span<const float> observed, std::span<float> result,
                  const IterationObserver&) override {
    std::copy(observed.begin(), observed.end(), result.begin());
  }
  void set_background(float) override {}
  Shape3 shape() const override { return shape_; }
  Shape3 fft_shape() const override { return fft_; }
  std::int64_t bytes() const override { return bytes_; }

 private:
  Shape3 shape_, fft_;
  std::int64_t bytes_;
};

class FakeDeviceBackend final : public Backend {
 public:
  /// `factor`: the real engines need this much more than the estimate says.
  FakeDeviceBackend(std::int64_t capacity, double factor) : capacity_(capacity), factor_(factor) {}
  std::string name() const override { return "fake device"; }
  std::unique_ptr<RlEngine> make_engine(const Psf& psf, Shape3 shape, const RlOptions& o,
                                        Shape3 fft) override {
    ++made;
    const auto need = static_cast<std::int64_t>(factor_ * double(engine_bytes(psf.kernel.shape, shape, fft, o)));
    if (need > capacity_)
      throw OutOfMemoryError("out of fake memory: " + std::to_string(need) + " bytes", need,
                             capacity_);
    return std::make_unique<FakeEngine>(shape, fft, need);
  }
  std::int64_t engine_bytes(Shape3, Shape3 shape, Shape3 fft, const RlOptions&) const override {
    return 32 * fft.size() + 8 * shape.size();  // twice block_bytes() per FFT voxel
  }
  std::int64_t device_memory_budget() const override { return capacity_; }
  int made = 0;

 private:
  std::int64_t capacity_;
  double factor_;
};

Psf psf_of(Shape3 s) {
  Volume k(s);
  k.at(s.z / 2, s.y / 2, s.x / 2) = 1.0f;
  Psf p;
  p.kernel = k;
  p.source = "delta";
  return p;
}

const Shape5 kDataset{1, 1, {200, 512, 512}};
const Shape3 kPsf{9, 9, 9};

PlanFunction planner_for(const FakeDeviceBackend& backend) {
  return [&backend](std::int64_t budget) {
    DecompositionOptions o;
    o.memory_budget_bytes = budget;
    o.block_cost = [&backend](const Shape3& region, const Shape3& fft) {
      return backend.engine_bytes(kPsf, region, fft, RlOptions{});
    };
    return plan_decomposition(kDataset, kPsf, o);
  };
}

/// The probe plan_for_backend uses: try to make the plan's largest engine.
PlanProbe prober_for(FakeDeviceBackend& backend) {
  return [&backend](const DecompositionPlan& plan) {
    return try_largest_engine(backend, psf_of(kPsf), RlOptions{}, plan);
  };
}

TEST(MemoryFit, TheDecompositionUsesTheBackendsBlockCost) {
  const FakeDeviceBackend backend(0, 1.0);
  DecompositionOptions plain;
  plain.memory_budget_bytes = 400 * kMiB;
  const DecompositionPlan a = plan_decomposition(kDataset, kPsf, plain);
  const DecompositionPlan b = planner_for(backend)(400 * kMiB);
  EXPECT_EQ(b.max_block_bytes, backend.engine_bytes(kPsf, b.max_region, b.max_fft, {}));
  EXPECT_LE(b.max_block_bytes, 400 * kMiB);
  // The fake costs twice block_bytes() per FFT voxel: smaller blocks.
  EXPECT_LT(b.max_fft.size(), a.max_fft.size());
}

TEST(MemoryFit, KeepsAPlanWhoseLargestEngineFits) {
  FakeDeviceBackend backend(4000 * kMiB, 1.0);
  std::vector<std::string> lines;
  const DecompositionPlan p =
      fit_plan(1000 * kMiB, planner_for(backend), prober_for(backend),
               [&](const std::string& l) { lines.push_back(l); });
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(p.memory_budget_bytes, 1000 * kMiB);
  EXPECT_EQ(backend.made, 1);
}

TEST(MemoryFit, ShrinksTheBlocksByHalvingTheBudgetUntilTheLargestEngineFits) {
  // Engines need 3x the estimate: a 1000 MiB plan fails at 600 MiB of capacity.
  FakeDeviceBackend backend(600 * kMiB, 3.0);
  std::vector<std::string> lines;
  const DecompositionPlan p =
      fit_plan(1000 * kMiB, planner_for(backend), prober_for(backend),
               [&](const std::string& l) { lines.push_back(l); });
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("out of GPU memory (free ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("requested "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("shrinking blocks to interior "), std::string::npos) << lines[0];
  EXPECT_LE(3 * p.max_block_bytes, 600 * kMiB);
  EXPECT_EQ(p.memory_budget_bytes, (1000 * kMiB) >> lines.size());
}

TEST(MemoryFit, GivesUpAfterTheLastHalvingNamingFreeAndRequestedBytes) {
  FakeDeviceBackend backend(600 * kMiB, 1000.0);
  int logged = 0;
  try {
    fit_plan(1000 * kMiB, planner_for(backend), prober_for(backend),
             [&](const std::string&) { ++logged; }, 2);
    FAIL() << "fit_plan returned a plan that does not fit";
  } catch (const OutOfMemoryError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("free " + std::to_string(600 * kMiB) + " bytes"), std::string::npos) << m;
    EXPECT_NE(m.find("requested "), std::string::npos) << m;
    EXPECT_NE(m.find("after halving"), std::string::npos) << m;
    EXPECT_EQ(e.free_bytes(), 600 * kMiB);
    EXPECT_GT(e.requested_bytes(), 600 * kMiB);
  }
  EXPECT_EQ(logged, 2);
}

TEST(MemoryFit, EveryRankSeesTheShortageOfAnyRank) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int short_rank = size - 1;
  const auto s = shortage_on_any_rank(MPI_COMM_WORLD, [&]() -> std::optional<MemoryShortage> {
    if (rank != short_rank) return std::nullopt;
    return MemoryShortage{777, 555, "short"};
  });
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->requested, 777);
  EXPECT_EQ(s->free, 555);
  EXPECT_FALSE(shortage_on_any_rank(MPI_COMM_WORLD, [] { return std::optional<MemoryShortage>{}; }));
}

TEST(MemoryFit, AFailureOtherThanAShortageIsThrownOnItsRankOnly) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  auto step = [&]() -> std::optional<MemoryShortage> {
    if (rank == 0) throw IoError("broken");
    return MemoryShortage{1, 1, "short"};  // ignored: the run is failing anyway
  };
  if (rank == 0)
    EXPECT_THROW(shortage_on_any_rank(MPI_COMM_WORLD, step), IoError);
  else
    EXPECT_FALSE(shortage_on_any_rank(MPI_COMM_WORLD, step).has_value());
}

TEST(MemoryFit, HostBackendsCostABlockAsItsCpuEngineForTheOptionsPlusItsBuffers) {
  BackendPlanRequest r;
  r.backend = "cpu";
  r.auto_budget = false;
  r.options.memory_budget_bytes = 300 * kMiB;
  r.backend_options.threads = 2;
  r.sample_bytes = 2;
  std::ostringstream log;
  const DecompositionPlan p =
      plan_for_backend(MPI_COMM_WORLD, kDataset, {psf_of(kPsf)}, r, log);
  const auto cpu = make_backend("cpu", r.backend_options);
  DecompositionOptions o;
  o.memory_budget_bytes = 300 * kMiB;
  o.block_cost = [&](const Shape3& region, const Shape3& fft) {
    return cpu->engine_bytes(kPsf, region, fft, r.rl) + block_buffer_bytes(region, 2);
  };
  const DecompositionPlan q = plan_decomposition(kDataset, kPsf, o);
  EXPECT_EQ(p.interior, q.interior);
  EXPECT_EQ(p.max_block_bytes, q.max_block_bytes);
  EXPECT_LE(p.max_block_bytes, 300 * kMiB);
  EXPECT_TRUE(log.str().empty());
  // Biggs' three vectors and the TV factor cost memory: the blocks shrink to fit.
  BackendPlanRequest heavy = r;
  heavy.rl.accel = Acceleration::biggs_log;
  heavy.rl.tv_lambda = 0.002f;
  const DecompositionPlan h = plan_for_backend(MPI_COMM_WORLD, kDataset, {psf_of(kPsf)}, heavy, log);
  EXPECT_LE(h.max_block_bytes, 300 * kMiB);
  EXPECT_LT(h.max_region.size(), p.max_region.size());
}

}  // namespace

TEST(MemoryFit, ReadAheadIsOneRegionPerWorkerCappedAndWithinWhatTheBudgetLeaves) {
  const auto depth = [](std::int64_t region, std::size_t workers, std::int64_t budget,
                        std::int64_t block) {
    return read_ahead_regions(region, workers, budget, block).depth;
  };
  EXPECT_EQ(depth(kMiB, 1, 0, 0), 1u);
  EXPECT_EQ(depth(kMiB, 3, 0, 0), 3u);
  EXPECT_EQ(depth(kMiB, 15, 0, 0), kMaxReadAhead);
  // 40 MiB budget: a quarter holds two 5 MiB regions: one ready, one being read.
  EXPECT_EQ(depth(5 * kMiB, 3, 40 * kMiB, 0), 1u);
  // 80 MiB: a quarter holds four: three ready (one per worker) and one being read.
  EXPECT_EQ(depth(5 * kMiB, 3, 80 * kMiB, 0), 3u);
  // A region larger than the room still gets one slot.
  EXPECT_EQ(depth(50 * kMiB, 3, 40 * kMiB, 0), 1u);
}

TEST(MemoryFit, ReadAheadBuffersAllFitTheRoomBesideRankZerosBlock) {
  const auto buffers = [](std::int64_t region, std::size_t workers, std::int64_t budget,
                          std::int64_t block) {
    return read_ahead_regions(region, workers, budget, block).kept + 1;
  };
  EXPECT_EQ(buffers(kMiB, 2, 0, 0), 4u);                      // no budget: 2 ready, 1 read, 1 spare
  EXPECT_EQ(buffers(5 * kMiB, 1, 80 * kMiB, 0), 3u);          // 20 MiB room: 1 + 1 + spare
  EXPECT_EQ(buffers(5 * kMiB, 3, 80 * kMiB, 0), 4u);          // 20 MiB: no spare
  EXPECT_EQ(buffers(5 * kMiB, 3, 80 * kMiB, 70 * kMiB), 2u);  // 10 MiB beside the block
  EXPECT_EQ(buffers(5 * kMiB, 3, 80 * kMiB, 76 * kMiB), 1u);  // 4 MiB: one buffer
}

}  // namespace h5decon::dist
