// The CUDA engine against the CPU engine (the reference) and the RL invariants.
// Every test that needs a device skips with "skipped: no GPU" when none is
// visible; ctest turns that message into a skip. The CudaBackendFactory,
// CudaExtensionLayout and CudaChecks tests need no device and run everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/cuda_engine.hpp"
#include "backend/cuda/cuda_fft.hpp"
#include "backend/cuda/cuda_resources.hpp"
#include "backend/cuda/extension_layout.hpp"
#include "backend/gpu_test_support.hpp"
#include "backend/reference.hpp"
#include "backend/rl_scenes.hpp"
#include "h5decon/back_projector.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/metrics.hpp"

using namespace h5decon;

namespace {

using test::gpu_visible;
using test::quick;

const Boundary kBoundaries[] = {Boundary::periodic, Boundary::zero, Boundary::reflect,
                                Boundary::neumann};
const InitMode kInits[] = {InitMode::observed, InitMode::constant, InitMode::mean};

Volume run_rl(std::string_view kind, const Volume& d, const Psf& psf, const RlOptions& o,
              Shape3 fft = {}) {
  auto engine = make_backend(kind, quick())->make_engine(psf, d.shape, o, fft);
  Volume u(d.shape);
  engine->deconvolve(d.span(), u.span());
  return u;
}

// Largest difference relative to the reference's largest value.
double relative_diff(const Volume& a, const Volume& reference) {
  return max_abs_diff(a.span(), reference.span()) / max_abs(reference.span());
}

Psf delta_psf(Shape3 s) {
  Volume h(s);
  h.at(s.z / 2, s.y / 2, s.x / 2) = 1.0f;
  return {h, "delta", 0};
}

std::string label(Boundary b, InitMode init, const Psf& psf) {
  return to_string(b) + " " + to_string(init) + " psf " + psf.kernel.shape.str();
}

std::size_t device_total_bytes() {
  std::size_t free = 0, total = 0;
  EXPECT_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  return total;
}

// The FFT array the kernels build for `f`, emulated on the host with the same
// boundary_source() and margin-row table: volume rows, x margins, margin rows.
std::vector<float> emulate_extension(const Volume& f, Shape3 psf, Shape3 fft, Boundary b) {
  const cuda::RowGeometry g = cuda::make_row_geometry(f.shape, psf, fft, b);
  std::vector<float> a(static_cast<std::size_t>(fft.size()), 0.0f);
  for (std::int64_t z = 0; z < g.nz; ++z)
    for (std::int64_t y = 0; y < g.ny; ++y) {
      float* row = a.data() + g.row_offset(z, y);
      for (std::int64_t x = 0; x < g.nx; ++x) row[x] = f.at(z, y, x);
      for (std::int64_t k = 0; k < 2 * g.mx; ++k) {
        const std::int64_t j = k < g.mx ? k - g.mx : g.nx + (k - g.mx);
        const std::int64_t s = cuda::boundary_source(b, j, g.nx);
        if (s >= 0) row[cuda::positive_mod(j, g.px)] = row[s];
      }
    }
  for (const cuda::RowCopy& c : cuda::margin_row_table(f.shape, psf, fft, b))
    for (std::int64_t k = 0; k < g.nx + 2 * g.mx; ++k) {
      const std::int64_t pos = cuda::positive_mod(k - g.mx, g.px);
      a[static_cast<std::size_t>(c.dst + pos)] = a[static_cast<std::size_t>(c.src + pos)];
    }
  return a;
}

// What the extension must be: every extended index at its position j mod P
// holds numpy.pad's value (reference.hpp), everything else is zero.
std::vector<float> expected_extension(const Volume& f, Shape3 psf, Shape3 fft, Boundary b) {
  std::vector<float> a(static_cast<std::size_t>(fft.size()), 0.0f);
  const Shape3 n = f.shape;
  const Shape3 m{psf.z / 2, psf.y / 2, psf.x / 2};
  for (std::int64_t z = -m.z; z < n.z + m.z; ++z)
    for (std::int64_t y = -m.y; y < n.y + m.y; ++y)
      for (std::int64_t x = -m.x; x < n.x + m.x; ++x) {
        const std::int64_t pz = cuda::positive_mod(z, fft.z), py = cuda::positive_mod(y, fft.y),
                           px = cuda::positive_mod(x, fft.x);
        a[static_cast<std::size_t>((pz * fft.y + py) * fft.x + px)] =
            test::extended_value(f, b, z, y, x);
      }
  return a;
}

}  // namespace

// ---- host side: run with or without a device --------------------------------

TEST(CudaExtensionLayout, PlacesEveryExtendedVoxelWhereTheCpuLayoutDoes) {
  const Volume f = test::test_volume({5, 6, 7}, 3);
  for (Shape3 psf : {Shape3{5, 4, 6}, Shape3{1, 3, 7}, Shape3{4, 6, 1}, Shape3{3, 1, 2}})
    for (Boundary b : kBoundaries) {
      const Shape3 fft = padded_shape(f.shape, psf);
      const Shape3 wide{fft.z + 3, fft.y + 1, fft.x + 4};
      for (Shape3 p : {fft, wide})
        EXPECT_EQ(emulate_extension(f, psf, p, b), expected_extension(f, psf, p, b))
            << to_string(b) << " psf " << psf.str() << " fft " << p.str();
    }
}

TEST(CudaExtensionLayout, HasNoMarginRowsForTheZeroBoundary) {
  EXPECT_TRUE(cuda::margin_row_table({6, 6, 6}, {5, 5, 5}, {12, 12, 12}, Boundary::zero).empty());
}

TEST(CudaBackendFactory, AutoPicksCudaExactlyWhenADeviceIsVisible) {
  const std::string name = make_backend("auto", quick())->name();
  if (gpu_visible())
    EXPECT_EQ(name.rfind("cuda (", 0), 0u) << name;
  else
    EXPECT_EQ(name.rfind("cpu", 0), 0u) << name;
}

TEST(CudaBackendFactory, CudaWithoutADeviceIsAClearInputError) {
  if (gpu_visible()) {
    EXPECT_NO_THROW(make_backend("cuda", quick()));
    return;
  }
  try {
    make_backend("cuda", quick());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device visible"), std::string::npos) << e.what();
  }
}

TEST(CudaChecks, EvaluateTheCallOnceAndNameItWithFileAndLine) {
  int calls = 0;
  auto failing = [&] {
    ++calls;
    return cudaErrorInvalidValue;
  };
  try {
    H5DECON_CHECK_CUDA(failing());
    FAIL() << "expected BackendError";
  } catch (const BackendError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("failing()"), std::string::npos) << what;
    EXPECT_NE(what.find("test_cuda_engine.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("cudaErrorInvalidValue"), std::string::npos) << what;
  }
  EXPECT_EQ(calls, 1);
  auto fft_failing = [&] {
    ++calls;
    return CUFFT_INVALID_SIZE;
  };
  try {
    H5DECON_CHECK_CUFFT(fft_failing());
    FAIL() << "expected BackendError";
  } catch (const BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("CUFFT_INVALID_SIZE"), std::string::npos) << e.what();
  }
  EXPECT_EQ(calls, 2);
  EXPECT_NO_THROW(H5DECON_CHECK_CUDA(cudaSuccess));
}

// ---- device side ------------------------------------------------------------

TEST(CudaBackend, NamesTheDevice) {
  H5DECON_REQUIRE_GPU();
  const std::string name = make_backend("cuda", quick())->name();
  EXPECT_EQ(name.rfind("cuda (", 0), 0u) << name;
  EXPECT_NE(name.find("GPU-"), std::string::npos) << name;
}

TEST(CudaBackend, RefusesAnFftShapeTooSmall) {
  H5DECON_REQUIRE_GPU();
  EXPECT_THROW(make_backend("cuda", quick())
                   ->make_engine(delta_psf({5, 5, 5}), {8, 8, 8}, {}, Shape3{10, 12, 12}),
               InputError);
}

TEST(CudaEngine, MatchesTheCpuEngineForEveryBoundaryInitAndPsfParity) {
  H5DECON_REQUIRE_GPU();
  struct Case {
    Volume d;
    Psf psf;
  };
  const Case cases[] = {
      {test::test_volume({12, 14, 16}, 7), {test::test_psf({5, 3, 3}, 8), "odd", 0}},
      {test::test_volume({11, 13, 15}, 20), {test::test_psf({4, 2, 6}, 21), "even", 0}},
  };
  for (const Case& c : cases)
    for (Boundary b : kBoundaries)
      for (InitMode init : kInits) {
        const RlOptions o{10, b, init, 1e-6f};
        const Volume gpu = run_rl("cuda", c.d, c.psf, o);
        const Volume cpu = run_rl("cpu", c.d, c.psf, o);
        EXPECT_LE(relative_diff(gpu, cpu), 1e-4) << label(b, init, c.psf);
      }
}

TEST(CudaEngine, StaysWithinAThousandthOfTheMaxOfTheCpuEngineAfterFiftyIterations) {
  H5DECON_REQUIRE_GPU();
  const Volume d = test::test_volume({16, 20, 18}, 30);
  const Psf psf{test::test_psf({7, 5, 4}, 31), "test", 0};
  for (Boundary b : kBoundaries) {
    const RlOptions o{50, b, InitMode::observed, 1e-6f};
    EXPECT_LE(relative_diff(run_rl("cuda", d, psf, o), run_rl("cpu", d, psf, o)), 1e-3)
        << to_string(b);
  }
}

TEST(CudaEngine, ResultDoesNotDependOnTheFftShape) {
  H5DECON_REQUIRE_GPU();
  const Volume d = test::test_volume({11, 13, 12}, 12);
  const Psf psf{test::test_psf({5, 4, 3}, 13), "test", 0};
  for (Boundary b : kBoundaries) {
    const RlOptions o{10, b, InitMode::observed, 1e-6f};
    const Shape3 p = padded_shape(d.shape, psf.kernel.shape);
    const Volume a = run_rl("cuda", d, psf, o);
    const Volume c = run_rl("cuda", d, psf, o, {p.z + 3, p.y + 7, p.x + 6});
    EXPECT_LE(relative_diff(c, a), 1e-5) << to_string(b);
  }
}

TEST(CudaEngine, KeepsTheFluxWithANormalisedPsfAndPeriodicBoundary) {
  H5DECON_REQUIRE_GPU();
  const Volume d = test::test_volume({12, 14, 16}, 7);
  const Psf psf{test::test_psf({5, 3, 3}, 8), "test", 0};
  for (InitMode init : kInits) {
    const Volume u = run_rl("cuda", d, psf, {10, Boundary::periodic, init, 1e-6f});
    EXPECT_NEAR(sum(u.span()) / sum(d.span()), 1.0, 1e-5) << to_string(init);
  }
}

TEST(CudaEngine, AnIdentityPsfReturnsTheInput) {
  H5DECON_REQUIRE_GPU();
  const Volume d = test::test_volume({7, 9, 10}, 9);
  for (Shape3 s : {Shape3{1, 1, 1}, Shape3{3, 3, 3}, Shape3{2, 4, 2}})
    for (Boundary b : kBoundaries)
      for (InitMode init : kInits) {
        const Volume u = run_rl("cuda", d, delta_psf(s), {4, b, init, 1e-6f});
        EXPECT_LE(max_abs_diff(u.span(), d.span()), 1e-5 * max_abs(d.span()))
            << s.str() << " " << to_string(b) << " " << to_string(init);
      }
}

TEST(CudaEngine, EstimatesStayNonNegative) {
  H5DECON_REQUIRE_GPU();
  Volume d = test::test_volume({10, 12, 12}, 10);
  for (std::size_t i = 0; i < d.data.size(); i += 7) d.data[i] = 0.0f;  // sparse zeros
  const Psf psf{test::test_psf({5, 5, 3}, 11), "test", 0};
  for (Boundary b : kBoundaries) {
    const Volume u = run_rl("cuda", d, psf, {15, b, InitMode::observed, 1e-6f});
    EXPECT_GE(*std::min_element(u.data.begin(), u.data.end()), 0.0f) << to_string(b);
  }
}

TEST(CudaEngine, GivesTheSameBitsWhenReusedForOtherData) {
  H5DECON_REQUIRE_GPU();
  const Volume d1 = test::test_volume({9, 10, 12}, 40), d2 = test::test_volume({9, 10, 12}, 41);
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  for (Boundary b : kBoundaries) {
    auto engine =
        make_backend("cuda", quick())->make_engine(psf, d1.shape, {6, b, InitMode::mean, 1e-6f});
    Volume first(d1.shape), other(d1.shape), again(d1.shape);
    engine->deconvolve(d1.span(), first.span());
    engine->deconvolve(d2.span(), other.span());
    engine->deconvolve(d1.span(), again.span());
    EXPECT_EQ(first.data, again.data) << to_string(b);
  }
}

TEST(CudaEngine, CallsTheObserverOncePerFinishedIterationAndTimesEach) {
  H5DECON_REQUIRE_GPU();
  const Volume d = test::test_volume({6, 6, 6}, 15);
  auto engine =
      make_backend("cuda", quick())
          ->make_engine(delta_psf({3, 3, 3}), d.shape, {7, Boundary::zero, InitMode::mean, 1e-6f});
  Volume u(d.shape);
  std::vector<int> seen;
  engine->deconvolve(d.span(), u.span(), [&](const IterationReport& r) { seen.push_back(r.iteration); });
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5, 6, 7}));
  const auto* cuda_engine = dynamic_cast<const cuda::CudaEngine*>(engine.get());
  ASSERT_NE(cuda_engine, nullptr);
  ASSERT_EQ(cuda_engine->iteration_ms().size(), 7u);
  for (float ms : cuda_engine->iteration_ms()) EXPECT_GT(ms, 0.0f);
  EXPECT_GT(engine->bytes(), 4 * engine->fft_shape().size());
}

TEST(CudaEngine, ReportsRequestedAndFreeBytesWhenTheVolumeDoesNotFit) {
  H5DECON_REQUIRE_GPU();
  // One FFT array alone takes twice the device's memory: the engine must refuse
  // before allocating anything (no host memory of that size is touched either).
  const std::int64_t plane = 4096 * 4096;
  const auto z =
      next_fast_size(static_cast<std::int64_t>(2 * device_total_bytes()) / (4 * plane) + 1);
  const Shape3 huge{z, 4096, 4096};
  try {
    make_backend("cuda", quick())->make_engine(delta_psf({1, 1, 1}), huge, {});
    FAIL() << "expected BackendError for " << huge.str();
  } catch (const BackendError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("out of GPU memory"), std::string::npos) << what;
    EXPECT_NE(what.find(huge.str()), std::string::npos) << what;
    EXPECT_NE(what.find(" bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("free "), std::string::npos) << what;
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // nothing left behind for later checks
}

TEST(CudaFft, RefusesAShapeCufftCannotPlanWithABackendError) {
  H5DECON_REQUIRE_GPU();
  EXPECT_THROW(cuda::CudaFftPair(Shape3{0, 4, 4}, nullptr), BackendError);
}

TEST(CudaBuffer, ReportsRequestedAndFreeBytesWhenCudaMallocFails) {
  H5DECON_REQUIRE_GPU();
  const std::size_t too_many = 2 * device_total_bytes() / sizeof(float);
  try {
    cuda::DeviceBuffer<float> b(too_many, "the test buffer");
    FAIL() << "cudaMalloc of twice the device memory succeeded";
  } catch (const BackendError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the test buffer needs " + std::to_string(too_many * sizeof(float))),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("free "), std::string::npos) << what;
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

// ---- the RL extensions: the CUDA engine against the CPU engine ---------------------

namespace {

RlOptions with(Boundary b, InitMode init, int iterations) {
  RlOptions o;
  o.iterations = iterations;
  o.boundary = b;
  o.init = init;
  return o;
}

struct ReportedRun {
  Volume u;
  std::vector<IterationReport> reports;  // without the snapshot function
};

ReportedRun run_reporting(std::string_view kind, const Volume& d, const Psf& psf, const RlOptions& o) {
  ReportedRun r;
  r.u = test::run_engine(kind, d, psf, o, [&](const IterationReport& rep) {
    r.reports.push_back({rep.iteration, rep.relative_change, rep.alpha, rep.stopping, {}});
  });
  return r;
}

const Boundary kAllBoundaries[] = {Boundary::periodic, Boundary::zero, Boundary::reflect,
                                   Boundary::neumann, Boundary::bertero};

}  // namespace

TEST(CudaExtensions, BerteroMatchesTheCpuEngineForEveryInitAndPsfParity) {
  H5DECON_REQUIRE_GPU();
  const Volume d1 = test::test_volume({12, 14, 16}, 7), d2 = test::test_volume({11, 13, 15}, 20);
  const Psf odd{test::test_psf({5, 3, 3}, 8), "odd", 0}, even{test::test_psf({4, 2, 6}, 21), "even", 0};
  for (InitMode init : kInits) {
    const RlOptions o = with(Boundary::bertero, init, 10);
    EXPECT_LE(relative_diff(run_rl("cuda", d1, odd, o), run_rl("cpu", d1, odd, o)), 1e-4)
        << label(Boundary::bertero, init, odd);
    EXPECT_LE(relative_diff(run_rl("cuda", d2, even, o), run_rl("cpu", d2, even, o)), 1e-4)
        << label(Boundary::bertero, init, even);
  }
}

TEST(CudaExtensions, BerteroDoesNotDependOnTheFftShape) {
  H5DECON_REQUIRE_GPU();
  const Volume d = test::test_volume({11, 13, 12}, 12);
  const Psf psf{test::test_psf({5, 4, 3}, 13), "test", 0};
  const RlOptions o = with(Boundary::bertero, InitMode::observed, 10);
  const Shape3 p = padded_shape(d.shape, psf.kernel.shape);
  EXPECT_LE(relative_diff(run_rl("cuda", d, psf, o, {p.z + 3, p.y + 7, p.x + 6}),
                          run_rl("cuda", d, psf, o)),
            1e-5);
}

TEST(CudaExtensions, BiggsMatchesTheCpuEngineForEveryBoundary) {
  H5DECON_REQUIRE_GPU();
  const test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 3);
  for (Boundary b : kAllBoundaries) {
    RlOptions o = with(b, InitMode::observed, 15);
    o.accel = Acceleration::biggs;
    const ReportedRun gpu = run_reporting("cuda", s.data, s.psf, o), cpu = run_reporting("cpu", s.data, s.psf, o);
    // Alpha comes from sums in another order: allow its rounding to propagate a little.
    EXPECT_LE(relative_diff(gpu.u, cpu.u), 1e-3) << to_string(b);
    ASSERT_EQ(gpu.reports.size(), cpu.reports.size());
    for (std::size_t i = 0; i < cpu.reports.size(); ++i)
      EXPECT_NEAR(gpu.reports[i].alpha, cpu.reports[i].alpha, 1e-3) << to_string(b) << " " << i;
    EXPECT_GE(*std::min_element(gpu.u.data.begin(), gpu.u.data.end()), 0.0f) << to_string(b);
  }
}

TEST(CudaExtensions, TotalVariationMatchesTheCpuEngineAndZeroLambdaIsPlainRl) {
  H5DECON_REQUIRE_GPU();
  const test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 4);
  for (Boundary b : {Boundary::reflect, Boundary::bertero}) {
    RlOptions o = with(b, InitMode::observed, 10);
    EXPECT_EQ(run_rl("cuda", s.data, s.psf, o).data,
              [&] { RlOptions z = o; z.tv_lambda = 0.0f; return run_rl("cuda", s.data, s.psf, z).data; }());
    o.tv_lambda = 0.01f;
    EXPECT_LE(relative_diff(run_rl("cuda", s.data, s.psf, o), run_rl("cpu", s.data, s.psf, o)), 1e-4)
        << to_string(b);
  }
}

TEST(CudaExtensions, BackgroundMatchesTheCpuEngineGivenOrEstimated) {
  H5DECON_REQUIRE_GPU();
  test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.0, 5);
  for (float& v : s.data.data) v += 100.0f;
  for (bool automatic : {false, true}) {
    RlOptions o = with(Boundary::reflect, InitMode::observed, 10);
    o.background = 100.0f;
    o.background_auto = automatic;
    EXPECT_LE(relative_diff(run_rl("cuda", s.data, s.psf, o), run_rl("cpu", s.data, s.psf, o)), 1e-4)
        << (automatic ? "auto" : "given");
  }
}

TEST(CudaExtensions, StopsAtTheSameIterationAsTheCpuEngineWithTheSameChanges) {
  H5DECON_REQUIRE_GPU();
  const test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 6);
  for (Acceleration a : {Acceleration::none, Acceleration::biggs, Acceleration::biggs_log}) {
    RlOptions o = with(Boundary::reflect, InitMode::observed, 300);
    o.accel = a;
    o.stop_rel_change = 3e-3;
    const ReportedRun gpu = run_reporting("cuda", s.data, s.psf, o), cpu = run_reporting("cpu", s.data, s.psf, o);
    ASSERT_EQ(gpu.reports.size(), cpu.reports.size()) << to_string(a);
    EXPECT_TRUE(gpu.reports.back().stopping);
    EXPECT_LT(gpu.reports.back().relative_change, o.stop_rel_change);
    for (std::size_t i = 0; i < cpu.reports.size(); ++i)
      EXPECT_NEAR(gpu.reports[i].relative_change, cpu.reports[i].relative_change,
                  1e-3 * cpu.reports[i].relative_change)
          << to_string(a) << " iteration " << i + 1;
    EXPECT_LE(relative_diff(gpu.u, cpu.u), 1e-3) << to_string(a);
  }
}

TEST(CudaExtensions, WienerButterworthBackProjectorMatchesTheCpuEngine) {
  H5DECON_REQUIRE_GPU();
  test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 8);
  for (Boundary b : {Boundary::reflect, Boundary::bertero}) {
    RlOptions o = with(b, InitMode::observed, 4);
    o.back_projector = BackProjector::wb;
    attach_back_projector(s.psf, o);
    const Volume gpu = run_rl("cuda", s.data, s.psf, o);
    EXPECT_LE(relative_diff(gpu, run_rl("cpu", s.data, s.psf, o)), 1e-3) << to_string(b);
    EXPECT_GE(*std::min_element(gpu.data.begin(), gpu.data.end()), 0.0f) << to_string(b);
  }
}

TEST(CudaExtensions, StopsOnTheIDivergenceWhereTheCpuEngineDoes) {
  H5DECON_REQUIRE_GPU();
  test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 9);
  RlOptions o = with(Boundary::bertero, InitMode::observed, 80);
  o.accel = Acceleration::biggs_log;
  o.stop_divergence = 2e-3;
  std::vector<double> gpu_fit, cpu_fit;
  const Volume gpu = test::run_engine("cuda", s.data, s.psf, o, [&](const IterationReport& r) {
    gpu_fit.push_back(r.divergence);
  });
  const Volume cpu = test::run_engine("cpu", s.data, s.psf, o, [&](const IterationReport& r) {
    cpu_fit.push_back(r.divergence);
  });
  ASSERT_EQ(gpu_fit.size(), cpu_fit.size()) << "stopped after another iteration";
  EXPECT_LT(cpu_fit.size(), 80u);
  for (std::size_t i = 0; i < cpu_fit.size(); ++i)
    EXPECT_NEAR(gpu_fit[i], cpu_fit[i], 1e-4 * cpu_fit[i]) << "iteration " << i + 1;
  EXPECT_LE(relative_diff(gpu, cpu), 1e-3);
}

TEST(CudaExtensions, EveryFeatureAtOnceMatchesTheCpuEngineAndRepeatsBitForBit) {
  H5DECON_REQUIRE_GPU();
  const test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 7);
  RlOptions o = with(Boundary::bertero, InitMode::observed, 12);
  o.accel = Acceleration::biggs;
  o.tv_lambda = 0.002f;
  o.background_auto = true;
  o.stop_rel_change = 1e-9;
  const Volume gpu = run_rl("cuda", s.data, s.psf, o);
  EXPECT_LE(relative_diff(gpu, run_rl("cpu", s.data, s.psf, o)), 1e-3);
  EXPECT_EQ(gpu.data, run_rl("cuda", s.data, s.psf, o).data);
}

TEST(CudaExtensions, OffersTheEstimateToTheObserverWhenStoppingIsOn) {
  H5DECON_REQUIRE_GPU();
  const test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 8);
  RlOptions o = with(Boundary::bertero, InitMode::observed, 4);
  o.stop_rel_change = 1e-12;
  Volume snap(s.data.shape);
  const Volume u = test::run_engine("cuda", s.data, s.psf, o, [&](const IterationReport& r) {
    ASSERT_TRUE(static_cast<bool>(r.copy_estimate));
    r.copy_estimate(snap.span());
  });
  EXPECT_EQ(snap.data, u.data);
}

TEST(CudaExtensions, OffersEveryEstimateWhenAskedAndGivesTheSameResult) {
  H5DECON_REQUIRE_GPU();
  const test::Scene s = test::phantom_scene({16, 24, 24}, {7, 5, 5}, 400.0, 0.02, 9);
  RlOptions o = with(Boundary::bertero, InitMode::observed, 4);
  const Volume ahead = run_rl("cuda", s.data, s.psf, o);
  o.estimate_every_iteration = true;
  Volume snap(s.data.shape);
  int reports = 0;
  const Volume u = test::run_engine("cuda", s.data, s.psf, o, [&](const IterationReport& r) {
    ASSERT_TRUE(static_cast<bool>(r.copy_estimate));
    r.copy_estimate(snap.span());
    ++reports;
  });
  EXPECT_EQ(reports, 4);
  EXPECT_EQ(snap.data, u.data);
  EXPECT_EQ(u.data, ahead.data);
}
