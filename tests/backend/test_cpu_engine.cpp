// Invariants of the CPU RL engine.
#include <gtest/gtest.h>

#include <algorithm>

#include "backend/reference.hpp"
#include "h5decon/back_projector.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/convolve.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/metrics.hpp"

using namespace h5decon;

namespace {

BackendOptions quick() {
  BackendOptions o;
  o.planner = FftPlanner::estimate;
  return o;
}

Volume run_rl(const Volume& d, const Psf& psf, const RlOptions& o, Shape3 fft = {}) {
  auto engine = make_backend("cpu", quick())->make_engine(psf, d.shape, o, fft);
  Volume u(d.shape);
  engine->deconvolve(d.span(), u.span());
  return u;
}

Psf delta_psf(Shape3 s) {
  Volume h(s);
  h.at(s.z / 2, s.y / 2, s.x / 2) = 1.0f;
  return {h, "delta", 0};
}

const Boundary kBoundaries[] = {Boundary::periodic, Boundary::zero, Boundary::reflect,
                                Boundary::neumann};

}  // namespace

TEST(CpuEngine, KeepsTheFluxWithANormalisedPsfAndPeriodicBoundary) {
  const Volume d = test::test_volume({12, 14, 16}, 7);
  const Psf psf{test::test_psf({5, 3, 3}, 8), "test", 0};
  for (InitMode init : {InitMode::observed, InitMode::constant, InitMode::mean}) {
    const Volume u = run_rl(d, psf, {10, Boundary::periodic, init, 1e-6f});
    EXPECT_NEAR(sum(u.span()) / sum(d.span()), 1.0, 1e-5) << to_string(init);
  }
}

TEST(CpuEngine, AnIdentityPsfReturnsTheInput) {
  const Volume d = test::test_volume({7, 9, 10}, 9);
  for (Shape3 s : {Shape3{1, 1, 1}, Shape3{3, 3, 3}, Shape3{2, 4, 2}})
    for (Boundary b : kBoundaries)
      for (InitMode init : {InitMode::observed, InitMode::constant, InitMode::mean}) {
        const Volume u = run_rl(d, delta_psf(s), {4, b, init, 1e-6f});
        EXPECT_LE(max_abs_diff(u.span(), d.span()), 1e-5 * max_abs(d.span()))
            << s.str() << " " << to_string(b) << " " << to_string(init);
      }
}

TEST(CpuEngine, EstimatesStayNonNegative) {
  Volume d = test::test_volume({10, 12, 12}, 10);
  for (std::size_t i = 0; i < d.data.size(); i += 7) d.data[i] = 0.0f;  // sparse zeros
  const Psf psf{test::test_psf({5, 5, 3}, 11), "test", 0};
  for (Boundary b : kBoundaries) {
    const Volume u = run_rl(d, psf, {15, b, InitMode::observed, 1e-6f});
    EXPECT_GE(*std::min_element(u.data.begin(), u.data.end()), 0.0f) << to_string(b);
  }
}

TEST(CpuEngine, ResultDoesNotDependOnTheFftShape) {
  const Volume d = test::test_volume({11, 13, 12}, 12);
  const Psf psf{test::test_psf({5, 4, 3}, 13), "test", 0};
  for (Boundary b : kBoundaries) {
    const RlOptions o{10, b, InitMode::observed, 1e-6f};
    const Shape3 p = padded_shape(d.shape, psf.kernel.shape);
    const Volume a = run_rl(d, psf, o);
    const Volume c = run_rl(d, psf, o, {p.z + 3, p.y + 7, p.x + 6});
    EXPECT_LE(max_abs_diff(a.span(), c.span()), 1e-5 * max_abs(a.span())) << to_string(b);
  }
}

TEST(CpuEngine, SharpensABlurredImage) {
  Volume truth({16, 24, 24}, 1.0f);
  for (int i = 0; i < 6; ++i) truth.at(4 + i, 6 + 2 * i, 18 - 2 * i) = 200.0f;
  const Psf psf{test::test_psf({5, 3, 3}, 14), "test", 0};
  const Volume d = convolve(truth, psf, Boundary::reflect);
  const Volume u = run_rl(d, psf, {30, Boundary::reflect, InitMode::observed, 1e-6f});
  EXPECT_GT(psnr(u.span(), truth.span()), psnr(d.span(), truth.span()) + 3.0);
}

TEST(CpuEngine, CallsTheObserverOncePerIteration) {
  const Volume d = test::test_volume({6, 6, 6}, 15);
  auto engine = make_backend("cpu", quick())
                    ->make_engine(delta_psf({3, 3, 3}), d.shape, {7, Boundary::zero, InitMode::mean, 1e-6f});
  Volume u(d.shape);
  std::vector<int> seen;
  engine->deconvolve(d.span(), u.span(), [&](const IterationReport& r) { seen.push_back(r.iteration); });
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
}

TEST(CpuEngine, RefusesAnFftShapeTooSmall) {
  EXPECT_THROW(make_backend("cpu", quick())
                   ->make_engine(delta_psf({5, 5, 5}), {8, 8, 8}, {}, Shape3{10, 12, 12}),
               InputError);
}

TEST(CpuEngine, PlannedBytesAreTheEnginesOwnForEveryOptionCombination) {
  // Memory planning costs a block with Backend::engine_bytes() before any engine
  // exists: it must count exactly the state the engine then allocates.
  Volume h({5, 7, 3}, 1.0f / 105.0f);
  Psf psf;
  psf.kernel = h;
  psf.source = "box";
  for (const BackProjector bp : {BackProjector::traditional, BackProjector::wb})
  for (const Boundary b : {Boundary::periodic, Boundary::reflect, Boundary::bertero})
    for (const Acceleration a : {Acceleration::none, Acceleration::biggs, Acceleration::biggs_log})
      for (const float tv : {0.0f, 0.01f})
        for (const int threads : {1, 3})
          for (const Shape3 shape : {Shape3{9, 20, 17}, Shape3{1, 33, 8}}) {
            RlOptions o;
            o.boundary = b;
            o.accel = a;
            o.tv_lambda = tv;
            o.stop_divergence = threads == 3 ? 1e-3 : 0.0;  // keeps the last operand
            o.back_projector = bp;
            attach_back_projector(psf, o);
            BackendOptions bo = quick();
            bo.threads = threads;
            const auto backend = make_backend("cpu", bo);
            const Shape3 fft = padded_shape(shape, h.shape);
            const auto engine = backend->make_engine(psf, shape, o, fft);
            EXPECT_EQ(engine->bytes(), backend->engine_bytes(h.shape, shape, fft, o))
                << to_string(bp) << " " << to_string(b) << " " << to_string(a) << " tv " << tv << " threads " << threads
                << " shape " << shape.str();
          }
}
