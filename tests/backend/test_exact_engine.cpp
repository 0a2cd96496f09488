// Exact mode (FFTW3-MPI slabs) against the single-process CPU engine on the whole
// volume, run under mpiexec with 1 to 4 ranks: every boundary and init mode, uneven
// slabs, ranks that own no volume planes, and the RL extensions (RL-TV across slabs).
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "backend/rl_scenes.hpp"
#include "h5decon/back_projector.hpp"
#include "h5decon/error.hpp"
#include "h5decon/exact_engine.hpp"
#include "h5decon/fft_shape.hpp"

using namespace h5decon;

namespace {

int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

double worst_relative_error = 0.0;  // over expect_matches_cpu(), reported once

BackendOptions one_thread() {
  BackendOptions b;
  b.threads = 1;
  b.planner = FftPlanner::estimate;
  return b;
}

// Runs the exact engine on every rank with its planes of `d`; gathers the result.
Volume run_exact(const Volume& d, const Psf& psf, const RlOptions& o,
                 const IterationObserver& observer = {}, bool* some_rank_empty = nullptr) {
  exact::ExactEngine engine(psf, d.shape, o, MPI_COMM_WORLD, one_thread());
  const std::int64_t plane = d.shape.y * d.shape.x;
  const exact::PlaneRange in = engine.input_planes(), out = engine.output_planes();
  std::vector<float> local_d(d.data.begin() + in.begin * plane, d.data.begin() + in.end * plane);
  std::vector<float> local_u(static_cast<std::size_t>(out.size() * plane));
  engine.deconvolve(local_d, local_u, observer);
  const int n = world_size();
  std::vector<int> counts(n), displs(n);
  const int mine = static_cast<int>(local_u.size());
  MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (int r = 1; r < n; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  Volume u(d.shape);
  MPI_Allgatherv(local_u.data(), mine, MPI_FLOAT, u.data.data(), counts.data(), displs.data(),
                 MPI_FLOAT, MPI_COMM_WORLD);
  if (some_rank_empty) {
    int empty = out.size() == 0, any = 0;
    MPI_Allreduce(&empty, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    *some_rank_empty = any != 0;
  }
  return u;
}

double max_abs_diff(const Volume& a, const Volume& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.data.size(); ++i)
    m = std::max(m, std::abs(double(a.data[i]) - double(b.data[i])));
  return m;
}

double max_of(const Volume& v) { return *std::max_element(v.data.begin(), v.data.end()); }

// The acceptance bound: max |exact - cpu| <= 1e-5 max(cpu).
void expect_matches_cpu(const test::Scene& s, const RlOptions& o, const std::string& what) {
  const Volume ref = test::run_engine("cpu", s.data, s.psf, o, {}, 1);
  const Volume got = run_exact(s.data, s.psf, o);
  const double err = max_abs_diff(got, ref), bound = 1e-5 * max_of(ref);
  worst_relative_error = std::max(worst_relative_error, err / max_of(ref));
  EXPECT_LE(err, bound) << what << " on " << world_size() << " ranks: max error " << err
                        << " (max " << max_of(ref) << ")";
}

RlOptions rl(int iterations, Boundary b, InitMode init) {
  RlOptions o;
  o.iterations = iterations;
  o.boundary = b;
  o.init = init;
  return o;
}

constexpr Boundary kBoundaries[] = {Boundary::periodic, Boundary::zero, Boundary::reflect,
                                    Boundary::neumann, Boundary::bertero};
constexpr InitMode kInits[] = {InitMode::observed, InitMode::constant, InitMode::mean};

// Biggs (`a`), a background and stopping on the relative change: the same changes
// and the same result as the CPU engine.
void expect_matches_cpu_with_acceleration(Acceleration a) {
  const test::Scene s = test::phantom_scene({11, 22, 18}, {5, 3, 3}, 300.0, 0.05, 4);
  RlOptions o = rl(12, Boundary::reflect, InitMode::mean);
  o.accel = a;
  o.background = 2.0f;
  o.stop_rel_change = 0.05;
  std::vector<double> cpu_changes, exact_changes;
  const Volume ref = test::run_engine(
      "cpu", s.data, s.psf, o, [&](const IterationReport& r) { cpu_changes.push_back(r.relative_change); }, 1);
  const Volume got =
      run_exact(s.data, s.psf, o, [&](const IterationReport& r) { exact_changes.push_back(r.relative_change); });
  ASSERT_EQ(exact_changes.size(), cpu_changes.size()) << "stopped after a different iteration";
  if (world_rank() == 0)
    std::cout << "stopped after " << cpu_changes.size() << " iterations, last change "
              << cpu_changes.back() << "\n";
  EXPECT_LT(cpu_changes.size(), 12u) << "the stop criterion should end this run early";
  for (std::size_t i = 0; i < cpu_changes.size(); ++i)
    EXPECT_NEAR(exact_changes[i], cpu_changes[i], 1e-5 * cpu_changes[i]);
  EXPECT_LE(max_abs_diff(got, ref), 1e-5 * max_of(ref));
}

}  // namespace

// Depth 13 (FFT depth 18): slabs of 18/2, 6/6/6 and 5/5/5/3 planes, never a divisor.
TEST(ExactEngine, MatchesTheCpuEngineForEveryBoundaryAndInitMode) {
  const test::Scene s = test::phantom_scene({13, 24, 20}, {5, 5, 5}, 300.0, 0.02, 3);
  for (Boundary b : kBoundaries)
    for (InitMode i : kInits) expect_matches_cpu(s, rl(6, b, i), to_string(b) + "/" + to_string(i));
  if (world_rank() == 0)
    std::cout << "worst max|exact - cpu| / max(cpu) over 15 mode pairs on " << world_size()
              << " ranks: " << worst_relative_error << "\n";
}

// Depth 5 with a PSF of depth 3: FFT depth 7, on 4 ranks 2/2/2/1 planes, the last
// rank holding only the low margin plane (its source is another rank's); with a
// PSF of depth 1 the FFT depth is 5 and the 4th rank gets no plane at all.
TEST(ExactEngine, MatchesTheCpuEngineWhenARankOwnsNoVolumePlanes) {
  for (const Shape3 psf : {Shape3{3, 5, 5}, Shape3{1, 5, 5}}) {
    const test::Scene s = test::phantom_scene({5, 20, 18}, psf, 300.0, 0.02, 8);
    for (Boundary b : kBoundaries) {
      const RlOptions o = rl(5, b, InitMode::observed);
      const Volume ref = test::run_engine("cpu", s.data, s.psf, o, {}, 1);
      bool some_rank_empty = false;
      const Volume got = run_exact(s.data, s.psf, o, {}, &some_rank_empty);
      EXPECT_LE(max_abs_diff(got, ref), 1e-5 * max_of(ref)) << to_string(b) << " psf " << psf.str();
      if (world_size() == 4) {
        EXPECT_TRUE(some_rank_empty) << "the case of a rank without volume planes was not built";
      }
    }
  }
}

TEST(ExactEngine, MatchesTheCpuEngineWithAccelerationBackgroundAndStopping) {
  for (Acceleration a : {Acceleration::biggs, Acceleration::biggs_log}) {
    SCOPED_TRACE(to_string(a));
    expect_matches_cpu_with_acceleration(a);
  }
}

TEST(ExactEngine, InitMeanGivesTheCpuEnginesBitsAfterNoUpdate) {
  // One iteration with a delta PSF leaves u = mean * d / max(mean, eps): the same
  // float on every rank count only if the mean's serial double sum is reproduced.
  const test::Scene s = test::phantom_scene({9, 16, 14}, {3, 3, 3}, 300.0, 0.02, 6);
  Volume delta({1, 1, 1}, 1.0f);
  const Psf psf{delta, "delta", 0};
  const RlOptions o = rl(1, Boundary::zero, InitMode::mean);
  const Volume ref = test::run_engine("cpu", s.data, psf, o, {}, 1);
  const Volume got = run_exact(s.data, psf, o);
  EXPECT_LE(max_abs_diff(got, ref), 1e-6 * max_of(ref));
}

TEST(ExactEngine, MatchesTheCpuEngineWithAPsfDeeperThanTheVolume) {
  // 6 planes, a PSF of 11 (2 n - 1): every plane's margins come from other ranks'
  // slabs, several planes away.
  const test::Scene s = test::phantom_scene({6, 14, 12}, {11, 5, 5}, 300.0, 0.02, 9);
  for (Boundary b : kBoundaries) {
    const RlOptions o = rl(4, b, InitMode::observed);
    const Volume ref = test::run_engine("cpu", s.data, s.psf, o, {}, 1);
    const Volume got = run_exact(s.data, s.psf, o);
    EXPECT_LE(max_abs_diff(got, ref), 1e-5 * max_of(ref)) << to_string(b);
  }
}

TEST(ExactEngine, MatchesTheCpuEngineWithTheWienerButterworthBackProjector) {
  // The back projector's OTF in place of the PSF's adjoint, B r clamped at 0, and
  // bertero's weights B M: the same arithmetic over slabs as over the whole volume.
  test::Scene s = test::phantom_scene({13, 20, 18}, {7, 5, 5}, 300.0, 0.02, 11);
  for (Boundary b : {Boundary::reflect, Boundary::zero, Boundary::bertero})
    for (Acceleration a : {Acceleration::none, Acceleration::biggs_log}) {
      RlOptions o = rl(4, b, InitMode::observed);
      o.accel = a;
      o.back_projector = BackProjector::wb;
      attach_back_projector(s.psf, o);
      expect_matches_cpu(s, o, "wb " + to_string(b) + " " + to_string(a));
    }
}

TEST(ExactEngine, StopsOnTheIDivergenceWhereTheCpuEngineDoes) {
  // The same I-divergence every iteration, the same step kept, the same result.
  test::Scene s = test::phantom_scene({11, 22, 18}, {5, 3, 3}, 300.0, 0.05, 4);
  for (const BackProjector bp : {BackProjector::traditional, BackProjector::wb}) {
    RlOptions o = rl(60, Boundary::bertero, InitMode::observed);
    o.accel = Acceleration::biggs_log;
    o.back_projector = bp;
    o.stop_divergence = 2e-3;
    attach_back_projector(s.psf, o);
    std::vector<double> cpu, exact;
    const Volume ref = test::run_engine(
        "cpu", s.data, s.psf, o, [&](const IterationReport& r) { cpu.push_back(r.divergence); }, 1);
    const Volume got =
        run_exact(s.data, s.psf, o, [&](const IterationReport& r) { exact.push_back(r.divergence); });
    ASSERT_EQ(exact.size(), cpu.size()) << to_string(bp) << ": stopped after another iteration";
    EXPECT_LT(cpu.size(), 60u) << to_string(bp) << ": the rule should end the run";
    for (std::size_t i = 0; i < cpu.size(); ++i)
      EXPECT_NEAR(exact[i], cpu[i], 1e-9 * cpu[i]) << to_string(bp) << " iteration " << i + 1;
    EXPECT_LE(max_abs_diff(got, ref), 1e-5 * max_of(ref)) << to_string(bp);
  }
}

TEST(ExactEngine, RlTvMatchesTheCpuEngineOnEveryRankCount) {
  // TV reads u one plane beyond each slab: the planes exchanged between ranks must be
  // the CPU engine's neighbours, on every boundary and with Biggs' prediction. (Through
  // `run`, exact and blocks mode give the same bits: scripts/bitwise_matrix.py.)
  const test::Scene s = test::phantom_scene({13, 20, 18}, {5, 3, 3}, 300.0, 0.02, 6);
  for (const Boundary b : {Boundary::reflect, Boundary::bertero}) {
    for (const Acceleration a : {Acceleration::none, Acceleration::biggs_log}) {
      RlOptions o = rl(4, b, InitMode::observed);
      o.tv_lambda = 0.01f;
      o.accel = a;
      const Volume ref = test::run_engine("cpu", s.data, s.psf, o, {}, 1);
      const Volume got = run_exact(s.data, s.psf, o);
      EXPECT_LE(max_abs_diff(got, ref), 1e-5 * max_of(ref))
          << to_string(b) << "/" << to_string(a) << " on " << world_size() << " ranks";
      o.tv_lambda = 0.0f;
      EXPECT_GT(max_abs_diff(got, test::run_engine("cpu", s.data, s.psf, o, {}, 1)),
                1e-3 * max_of(ref))
          << "TV must have acted";
    }
  }
}

TEST(ExactEngine, BackgroundAutoTakesTheCallersVolumeEstimate) {
  const test::Scene s = test::phantom_scene({6, 12, 12}, {3, 3, 3}, 100.0, 0.02, 2);
  RlOptions o = rl(2, Boundary::reflect, InitMode::observed);
  o.background_auto = true;
  exact::ExactEngine e(s.psf, s.data.shape, o, MPI_COMM_WORLD, one_thread());
  const std::int64_t plane = s.data.shape.y * s.data.shape.x;
  std::vector<float> d(std::size_t(e.input_planes().size() * plane), 1.0f);
  std::vector<float> u(std::size_t(e.output_planes().size() * plane));
  // No rank's slab can estimate the whole volume's background: the caller must.
  EXPECT_THROW(e.deconvolve(d, u), Error);
  RlOptions fixed = rl(2, Boundary::reflect, InitMode::observed);
  fixed.background = 3.5f;
  RlOptions later = fixed;
  later.background_auto = true;
  exact::ExactEngine set(s.psf, s.data.shape, later, MPI_COMM_WORLD, one_thread());
  set.set_background(3.5f);
  const exact::PlaneRange in = set.input_planes(), out = set.output_planes();
  std::vector<float> local_d(s.data.data.begin() + in.begin * plane,
                             s.data.data.begin() + in.end * plane);
  std::vector<float> local_u(std::size_t(out.size() * plane));
  set.deconvolve(local_d, local_u);
  const Volume ref = run_exact(s.data, s.psf, fixed);
  const std::vector<float> want(ref.data.begin() + out.begin * plane,
                                ref.data.begin() + out.end * plane);
  EXPECT_EQ(local_u, want);
}

TEST(ExactEngine, MemoryPerRankScalesWithOneOverTheRankCount) {
  const Shape3 volume{120, 64, 64}, psf{9, 5, 5};
  const RlOptions o = rl(1, Boundary::reflect, InitMode::observed);
  const exact::ExactMemory one = exact::exact_memory(volume, psf, o, MPI_COMM_SELF);
  const exact::ExactMemory mine = exact::exact_memory(volume, psf, o, MPI_COMM_WORLD);
  std::int64_t most = 0, local = mine.total();
  MPI_Allreduce(&local, &most, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(one.fft, padded_shape(volume, psf));
  const int n = world_size();
  // Uneven slabs and the halo planes cost a little over 1/N.
  EXPECT_LE(double(most), 1.25 * double(one.total()) / n + 4.0 * 2 * 4 * psf.z * 64 * 64)
      << "1 rank " << one.total() << " bytes, " << n << " ranks: at most " << most;
  exact::ExactEngine engine(test::phantom_scene({12, 16, 16}, {3, 3, 3}, 10.0, 0.0, 1).psf,
                            {12, 16, 16}, o, MPI_COMM_WORLD, one_thread());
  const exact::ExactMemory planned =
      exact::exact_memory({12, 16, 16}, {3, 3, 3}, o, MPI_COMM_WORLD);
  EXPECT_GE(planned.total(), engine.bytes());
}
