// The split, pruned transform against the plain 3D FFTW transform, and its
// independence from the number of threads.
#include <gtest/gtest.h>

#include <cstring>

#include "backend/cpu/fft_convolver.hpp"
#include "backend/reference.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/metrics.hpp"

using namespace h5decon;

namespace {

BackendOptions estimate(int threads) {
  BackendOptions o;
  o.planner = FftPlanner::estimate;
  o.threads = threads;
  return o;
}

// H f (or H^T f) on the volume's rows, from a convolver.
Volume run(cpu::FftConvolver& conv, const Volume& f, bool adjoint) {
  conv.load(f.data.data());
  conv.convolve(adjoint);
  const Shape3 v = f.shape;
  Volume out(v);
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y)
      std::memcpy(&out.at(z, y, 0), conv.output() + conv.layout().row_offset(z, y),
                  sizeof(float) * std::size_t(v.x));
  return out;
}

// H f with one whole-array 3D r2c and c2r, none of the split transform's pruning.
Volume plain_3d(const Volume& f, const Psf& psf, Boundary b, Shape3 fft) {
  const Shape3 v = f.shape, k = psf.kernel.shape;
  const cpu::ExtensionLayout layout(v, k, fft, b);
  cpu::FftwBuffer<float> in(std::size_t(fft.size())), out(in.size()), kernel(in.size());
  cpu::FftwBuffer<std::complex<float>> fs(cpu::spectrum_size(fft)), ks(fs.size());
  std::fill_n(in.data(), in.size(), 0.0f);
  std::fill_n(kernel.data(), kernel.size(), 0.0f);
  // The extended volume and the rolled PSF, in unpadded rows of fft.x.
  for (std::int64_t z = -k.z / 2; z < v.z + k.z / 2; ++z)
    for (std::int64_t y = -k.y / 2; y < v.y + k.y / 2; ++y)
      for (std::int64_t x = -k.x / 2; x < v.x + k.x / 2; ++x)
        in[std::size_t((((z + fft.z) % fft.z) * fft.y + (y + fft.y) % fft.y) * fft.x +
                       (x + fft.x) % fft.x)] = test::extended_value(f, b, z, y, x);
  for (std::int64_t z = 0; z < k.z; ++z)
    for (std::int64_t y = 0; y < k.y; ++y)
      for (std::int64_t x = 0; x < k.x; ++x)
        kernel[std::size_t(
            (((z - k.z / 2 + fft.z) % fft.z) * fft.y + (y - k.y / 2 + fft.y) % fft.y) * fft.x +
            (x - k.x / 2 + fft.x) % fft.x)] = psf.kernel.at(z, y, x);
  const cpu::FftPair fp = cpu::make_fft_pair(fft, in.data(), fs.data(), out.data(), estimate(1));
  const cpu::FftPair kp =
      cpu::make_fft_pair(fft, kernel.data(), ks.data(), out.data(), estimate(1));
  fp.forward.execute();
  kp.forward.execute();
  for (std::size_t i = 0; i < fs.size(); ++i) fs[i] *= ks[i] / float(fft.size());
  fp.inverse.execute();
  Volume r(v);
  for (std::int64_t z = 0; z < v.z; ++z)
    for (std::int64_t y = 0; y < v.y; ++y)
      std::memcpy(&r.at(z, y, 0), out.data() + (z * fft.y + y) * fft.x,
                  sizeof(float) * std::size_t(v.x));
  return r;
}

const Boundary kBoundaries[] = {Boundary::periodic, Boundary::zero, Boundary::reflect,
                                Boundary::neumann};

}  // namespace

TEST(SplitFft, PrunedConvolutionEqualsThePlain3dTransform) {
  const Volume f = test::test_volume({13, 17, 22}, 21);
  const Psf psf{test::test_psf({5, 4, 7}, 22), "test", 0};
  // Larger than needed, so that planes and rows are pruned on both sides.
  const Shape3 p = padded_shape(f.shape, psf.kernel.shape);
  for (const Shape3 fft : {p, Shape3{p.z + 6, p.y + 5, p.x + 4}})
    for (Boundary b : kBoundaries) {
      cpu::FftConvolver conv(psf, f.shape, b, fft, estimate(2));
      const Volume expected = plain_3d(f, psf, b, fft), got = run(conv, f, false);
      EXPECT_LE(max_abs_diff(got.span(), expected.span()), 1e-5 * max_abs(expected.span()))
          << to_string(b) << " " << fft.str();
    }
}

TEST(SplitFft, GivesTheSameBitsForOneAndTwoThreads) {
  const Volume f = test::test_volume({19, 24, 30}, 23);
  const Psf psf{test::test_psf({7, 5, 3}, 24), "test", 0};
  const Shape3 fft = padded_shape(f.shape, psf.kernel.shape);
  for (Boundary b : kBoundaries) {
    cpu::FftConvolver one(psf, f.shape, b, fft, estimate(1)),
        two(psf, f.shape, b, fft, estimate(2));
    for (bool adjoint : {false, true}) {
      const Volume a = run(one, f, adjoint), c = run(two, f, adjoint);
      EXPECT_EQ(0, std::memcmp(a.data.data(), c.data.data(), sizeof(float) * a.data.size()))
          << to_string(b) << (adjoint ? " adjoint" : "");
    }
  }
}

TEST(CpuEngine, GivesTheSameBitsForOneAndTwoThreads) {
  const Volume d = test::test_volume({14, 20, 18}, 25);
  const Psf psf{test::test_psf({5, 5, 3}, 26), "test", 0};
  for (Boundary b : kBoundaries) {
    const RlOptions o{5, b, InitMode::observed, 1e-6f};
    Volume u1(d.shape), u2(d.shape);
    make_backend("cpu", estimate(1))->make_engine(psf, d.shape, o)->deconvolve(d.span(), u1.span());
    make_backend("cpu", estimate(2))->make_engine(psf, d.shape, o)->deconvolve(d.span(), u2.span());
    EXPECT_EQ(0, std::memcmp(u1.data.data(), u2.data.data(), sizeof(float) * u1.data.size()))
        << to_string(b);
  }
}
