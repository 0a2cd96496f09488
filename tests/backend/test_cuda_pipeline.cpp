// The CUDA engine's overlapped path (deconvolve_async) and the backend's memory
// estimates. Device tests print "skipped: no GPU" without a device.
#include <gtest/gtest.h>

#include <cstdio>

#include <cmath>
#include <memory>
#include <vector>

#include "backend/cuda/cuda_engine.hpp"
#include "backend/gpu_test_support.hpp"
#include "backend/reference.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"

using namespace h5decon;

namespace {

using test::gpu_visible;
using test::quick;

RlOptions variant(int k) {
  RlOptions o{8, Boundary::reflect, InitMode::mean, 1e-6f};
  if (k == 1) o.boundary = Boundary::bertero;
  if (k == 2) o.accel = Acceleration::biggs;
  if (k == 3) {
    o.boundary = Boundary::periodic;
    o.tv_lambda = 0.002f;
    o.background_auto = true;
  }
  return o;
}

/// Blocks of two shapes, as a worker meets them: interleaved on two engines.
struct Job {
  int engine;
  Volume data;
};

std::vector<Job> jobs() {
  std::vector<Job> j;
  for (unsigned k = 0; k < 6; ++k) {
    const int e = k % 3 == 2 ? 1 : 0;
    j.push_back({e, test::test_volume(e == 0 ? Shape3{12, 20, 18} : Shape3{9, 14, 16}, 70 + k)});
  }
  return j;
}

TEST(CudaPipeline, GivesTheSynchronousBitsForInterleavedBlocksOfTwoShapes) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  for (int v = 0; v < 4; ++v) {
    const RlOptions o = variant(v);
    auto backend = make_backend("cuda", quick());
    const std::vector<Job> work = jobs();
    std::unique_ptr<RlEngine> engines[2] = {
        backend->make_engine(psf, work[0].data.shape, o),
        backend->make_engine(psf, work[2].data.shape, o)};
    ASSERT_TRUE(engines[0]->overlaps());
    std::vector<Volume> sync, async;
    for (const Job& j : work) {
      sync.emplace_back(j.data.shape);
      engines[j.engine]->deconvolve(j.data.span(), sync.back().span());
      async.emplace_back(j.data.shape);
    }
    // Two outstanding at a time, as the block worker keeps them.
    std::unique_ptr<RlTicket> previous;
    for (std::size_t k = 0; k < work.size(); ++k) {
      Volume observed = work[k].data;  // the caller's buffer, reused at once
      auto ticket = engines[work[k].engine]->deconvolve_async(observed.span(), async[k].span());
      std::fill(observed.data.begin(), observed.data.end(), -1.0f);
      if (previous) previous->wait();
      previous = std::move(ticket);
    }
    previous->wait([] {});
    for (std::size_t k = 0; k < work.size(); ++k)
      EXPECT_EQ(sync[k].data, async[k].data) << "variant " << v << ", block " << k;
  }
}

TEST(CudaPipeline, RefusesAThirdOutstandingCall) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const Volume d = test::test_volume({8, 10, 12}, 1);
  auto engine = make_backend("cuda", quick())->make_engine(psf, d.shape, variant(0));
  Volume a(d.shape), b(d.shape), c(d.shape);
  auto t1 = engine->deconvolve_async(d.span(), a.span());
  auto t2 = engine->deconvolve_async(d.span(), b.span());
  EXPECT_THROW(engine->deconvolve_async(d.span(), c.span()), Error);
  t1->wait();
  t2->wait();
  EXPECT_EQ(a.data, b.data);
}

TEST(CudaPipeline, RunsSynchronouslyWhenStoppingOnTheRelativeChange) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  RlOptions o = variant(0);
  o.stop_rel_change = 1e-3;
  const Volume d = test::test_volume({8, 10, 12}, 2);
  auto engine = make_backend("cuda", quick())->make_engine(psf, d.shape, o);
  EXPECT_FALSE(engine->overlaps());
  Volume a(d.shape), b(d.shape);
  engine->deconvolve(d.span(), a.span());
  auto t = engine->deconvolve_async(d.span(), b.span());
  EXPECT_TRUE(t->ready());
  EXPECT_EQ(a.data, b.data);
}

TEST(CudaMemory, TheEstimateCoversWhatAnEngineHoldsAndTheBudgetFitsTheDevice) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({9, 5, 5}, 3), "test", 0};
  auto backend = make_backend("cuda", quick());
  // The estimate against what the device lost to the engine (cudaMemGetInfo before
  // and after: cuFFT's plan data and allocation rounding included), not only against
  // the engine's own count, so that an estimate with no slack shows. Allocations are
  // rounded to 2 MiB pages: a few pages is the measurement's resolution.
  constexpr std::int64_t kResolution = std::int64_t{8} << 20;
  for (int v = 0; v < 4; ++v) {
    const Shape3 shape{40, 64, 60};
    const std::int64_t free_before = detail::cuda_device_info(0).free_bytes;
    auto engine = backend->make_engine(psf, shape, variant(v));
    const std::int64_t taken = free_before - detail::cuda_device_info(0).free_bytes;
    const std::int64_t estimate =
        backend->engine_bytes(psf.kernel.shape, shape, engine->fft_shape(), variant(v));
    EXPECT_GE(estimate, engine->bytes()) << "variant " << v;
    EXPECT_GE(estimate + kResolution, taken)
        << "variant " << v << ": estimate " << estimate << " bytes, the device lost " << taken;
    std::printf("variant %d: estimate %lld bytes, engine %lld, device memory taken %lld\n", v,
                static_cast<long long>(estimate), static_cast<long long>(engine->bytes()),
                static_cast<long long>(taken));
  }
  const detail::CudaDeviceInfo info = detail::cuda_device_info(0);
  EXPECT_GT(backend->device_memory_budget(), 0);
  EXPECT_LT(backend->device_memory_budget(), info.total_bytes);
  EXPECT_EQ(info.uuid.rfind("GPU-", 0), 0u) << info.uuid;
}

TEST(CudaMemory, TooLargeAnEngineIsAnOutOfMemoryErrorWithFreeAndRequestedBytes) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const detail::CudaDeviceInfo info = detail::cuda_device_info(0);
  // Twice the device's memory in the FFT arrays alone.
  const auto side = static_cast<std::int64_t>(std::cbrt(double(info.total_bytes) / 2.0)) + 64;
  try {
    make_backend("cuda", quick())->make_engine(psf, {side, side, side}, variant(0));
    FAIL() << "an engine larger than the device was made";
  } catch (const OutOfMemoryError& e) {
    EXPECT_GT(e.requested_bytes(), 0);
    EXPECT_GE(e.free_bytes(), 0);
    EXPECT_NE(std::string(e.what()).find("free "), std::string::npos) << e.what();
  }
}

}  // namespace
