// FFT convolution (with every boundary mode) against direct summation.
#include <gtest/gtest.h>

#include "backend/cpu/fft_convolver.hpp"
#include "backend/reference.hpp"
#include "h5decon/convolve.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/metrics.hpp"

using namespace h5decon;

namespace {

struct Case {
  Shape3 volume, psf;
  Boundary boundary;
};

std::string name_of(const testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return to_string(c.boundary) + "_psf" + std::to_string(c.psf.z) + "x" + std::to_string(c.psf.y) +
         "x" + std::to_string(c.psf.x) + "_vol" + std::to_string(c.volume.z) + "x" +
         std::to_string(c.volume.y) + "x" + std::to_string(c.volume.x);
}

Volume read_result(const cpu::FftConvolver& conv, Shape3 v) {
  Volume out(v);
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y)
      for (std::int64_t x = 0; x < v.x; ++x)
        out.at(z, y, x) = conv.output()[conv.layout().row_offset(z, y) + x];
  return out;
}

class Convolution : public testing::TestWithParam<Case> {};

TEST_P(Convolution, FftEqualsDirectSummation) {
  const Case c = GetParam();
  const Volume f = test::test_volume(c.volume, 1);
  const Psf psf{test::test_psf(c.psf, 2), "test", 0};
  const Volume expected = test::direct_convolve(f, psf.kernel, c.boundary);
  const Volume got = convolve(f, psf, c.boundary);
  EXPECT_LE(max_abs_diff(got.span(), expected.span()), 1e-5 * max_abs(expected.span()));
}

TEST_P(Convolution, AdjointEqualsDirectCorrelation) {
  const Case c = GetParam();
  const Volume f = test::test_volume(c.volume, 3);
  const Psf psf{test::test_psf(c.psf, 4), "test", 0};
  BackendOptions o;
  o.planner = FftPlanner::estimate;
  cpu::FftConvolver conv(psf, c.volume, c.boundary, padded_shape(c.volume, c.psf), o);
  conv.load(f.data.data());
  conv.convolve(true);
  const Volume expected = test::direct_correlate(f, psf.kernel, c.boundary);
  const Volume got = read_result(conv, c.volume);
  EXPECT_LE(max_abs_diff(got.span(), expected.span()), 1e-5 * max_abs(expected.span()));
}

TEST_P(Convolution, DoesNotDependOnTheFftShape) {
  const Case c = GetParam();
  const Volume f = test::test_volume(c.volume, 5);
  const Psf psf{test::test_psf(c.psf, 6), "test", 0};
  BackendOptions o;
  o.planner = FftPlanner::estimate;
  const Shape3 small = padded_shape(c.volume, c.psf);
  const Shape3 large{small.z + 5, small.y + 3, small.x + 8};
  cpu::FftConvolver a(psf, c.volume, c.boundary, small, o), b(psf, c.volume, c.boundary, large, o);
  a.load(f.data.data());
  b.load(f.data.data());
  a.convolve(false);
  b.convolve(false);
  const Volume ra = read_result(a, c.volume), rb = read_result(b, c.volume);
  EXPECT_LE(max_abs_diff(ra.span(), rb.span()), 1e-5 * max_abs(ra.span()));
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Boundary b : {Boundary::periodic, Boundary::zero, Boundary::reflect, Boundary::neumann}) {
    out.push_back({{9, 10, 11}, {3, 5, 7}, b});  // odd PSF
    out.push_back({{8, 11, 10}, {4, 2, 6}, b});  // even PSF
    out.push_back({{6, 7, 5}, {6, 7, 5}, b});    // PSF as large as the volume
    out.push_back({{5, 6, 7}, {1, 1, 1}, b});    // a single voxel
    out.push_back({{5, 6, 7}, {9, 11, 13}, b});  // PSF 2n - 1 on every axis (deeper than the volume)
    out.push_back({{7, 4, 6}, {10, 7, 3}, b});   // even PSF larger than the volume on two axes
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryBoundaryAndPsfParity, Convolution, testing::ValuesIn(cases()),
                         name_of);

TEST(Boundary, ExtensionsFollowTheirDefinitions) {
  // Indices -3 .. 7 of a row of 5 voxels a b c d e (0 .. 4); -1: zero.
  auto ext = [](Boundary b) {
    std::vector<std::int64_t> out;
    for (int j = -3; j < 8; ++j) out.push_back(cpu::boundary_source(b, j, 5));
    return out;
  };
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(ext(Boundary::periodic), (V{2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}));
  EXPECT_EQ(ext(Boundary::zero), (V{-1, -1, -1, 0, 1, 2, 3, 4, -1, -1, -1}));
  EXPECT_EQ(ext(Boundary::reflect), (V{2, 1, 0, 0, 1, 2, 3, 4, 4, 3, 2}));
  EXPECT_EQ(ext(Boundary::neumann), (V{0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4}));
}

}  // namespace
