// Stored samples (uint8/16, int8/16, float32) converted and checked on the
// device: the conversion kernel against convert_samples() (the host reference),
// and CudaEngine::deconvolve_samples_async() against the float32 path on the
// converted values, bit for bit. Device tests print "skipped: no GPU" without a
// device; the CudaSamplesHost tests run everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "backend/cuda/cuda_engine.hpp"
#include "backend/cuda/cuda_resources.hpp"
#include "backend/cuda/sample_kernels.cuh"
#include "backend/cuda/sample_upload.hpp"
#include "backend/gpu_test_support.hpp"
#include "backend/reference.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/samples.hpp"

using namespace h5decon;

namespace {

using test::gpu_visible;
using test::quick;

const SampleType kIntegerTypes[] = {SampleType::uint8, SampleType::uint16, SampleType::int8,
                                    SampleType::int16};

/// n samples of `type` in their stored bytes: a smooth image (test_volume's
/// values scaled to the type's range) with noise, and for signed types about
/// one voxel in eight below 0, as a dark-subtracted camera gives.
std::vector<std::byte> stored(SampleType type, const Volume& image, unsigned seed) {
  const double top = type == SampleType::uint8    ? 250
                     : type == SampleType::int8   ? 120
                     : type == SampleType::uint16 ? 60000
                                                  : 30000;
  const bool is_signed = type == SampleType::int8 || type == SampleType::int16;
  const std::size_t n = image.data.size(), width = static_cast<std::size_t>(sample_bytes(type));
  std::vector<std::byte> bytes(n * width);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-3, 3), eighth(0, 7);
  float peak = 0.0f;
  for (float v : image.data) peak = std::max(peak, v);
  for (std::size_t i = 0; i < n; ++i) {
    long v = std::lround(image.data[i] / peak * top * 0.9) + noise(rng);
    if (is_signed && eighth(rng) == 0) v = -1 - eighth(rng) * 5;
    v = std::max(v, is_signed ? long{-128} : long{0});
    if (width == 1) {
      const auto b = static_cast<std::uint8_t>(v);  // two's complement for int8
      std::memcpy(&bytes[i], &b, 1);
    } else {
      const auto b = static_cast<std::uint16_t>(v);
      std::memcpy(&bytes[2 * i], &b, 2);
    }
  }
  return bytes;
}

/// Floats with negatives, signed zeros and (optionally) NaN/Inf at chosen places.
std::vector<float> floats_with_negatives(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-20.0f, 500.0f);
  std::vector<float> v(n);
  for (float& x : v) x = value(rng);
  v[1] = -0.0f;
  v[n / 2] = 0.0f;
  return v;
}

/// convert_samples() and the kernel on the same samples: the same bits, the same check.
void expect_kernel_matches_host(SampleView in, const std::string& what) {
  const auto n = static_cast<std::size_t>(in.size());
  std::vector<float> host(n), device(n);
  const SampleCheck expected = convert_samples(in, host);
  cuda::DeviceBuffer<std::byte> from(in.bytes.size(), "test samples");
  cuda::DeviceBuffer<float> to(n, "test floats");
  cuda::DeviceBuffer<cuda::DeviceSampleCheck> check(1, "test check");
  ASSERT_EQ(cudaMemcpy(from.data(), in.bytes.data(), in.bytes.size(), cudaMemcpyHostToDevice),
            cudaSuccess);
  cuda::launch_convert_samples(in.type, from.data(), in.size(), to.data(), check.data(), nullptr);
  cuda::DeviceSampleCheck found{};
  ASSERT_EQ(cudaMemcpy(device.data(), to.data(), to.bytes(), cudaMemcpyDeviceToHost), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(&found, check.data(), sizeof found, cudaMemcpyDeviceToHost), cudaSuccess);
  const SampleCheck got = cuda::to_sample_check(found);
  EXPECT_EQ(got.negatives, expected.negatives) << what;
  EXPECT_EQ(got.first_nonfinite, expected.first_nonfinite) << what;
  if (expected.first_nonfinite >= 0) {
    EXPECT_EQ(std::isnan(got.nonfinite_value), std::isnan(expected.nonfinite_value)) << what;
    if (!std::isnan(expected.nonfinite_value)) {
      EXPECT_EQ(got.nonfinite_value, expected.nonfinite_value) << what;
    }
    return;  // the floats are unspecified
  }
  EXPECT_EQ(std::memcmp(device.data(), host.data(), n * sizeof(float)), 0) << what;
}

TEST(CudaSamples, TheKernelGivesConvertSamplesFloatsAndChecksForEveryType) {
  H5DECON_REQUIRE_GPU();
  // Odd: the groups of four and a tail of three; large: thousands of blocks reduce.
  const Shape3 shape{41, 157, 157};
  const Volume image = test::test_volume(shape, 11);
  for (SampleType type : kIntegerTypes) {
    const std::vector<std::byte> bytes = stored(type, image, 5);
    expect_kernel_matches_host({type, bytes}, to_string(type));
  }
  std::vector<float> f = floats_with_negatives(image.data.size(), 6);
  expect_kernel_matches_host(SampleView::of(f), "float32");
  // Two non-finite values in different blocks: the smaller index wins.
  f[f.size() - 5] = std::numeric_limits<float>::infinity();
  f[700001] = -std::numeric_limits<float>::infinity();
  expect_kernel_matches_host(SampleView::of(f), "float32 with -Inf");
  f[1234] = std::numeric_limits<float>::quiet_NaN();
  expect_kernel_matches_host(SampleView::of(f), "float32 with NaN");
}

RlOptions plain() { return RlOptions{6, Boundary::reflect, InitMode::observed, 1e-6f}; }

/// The engine's stored-sample path and its float32 path on convert_samples()'s floats.
struct Paths {
  std::vector<float> stored, floats;
  SampleCheck check, host_check;
};

Paths run_both(RlEngine& engine, SampleView in) {
  const auto n = static_cast<std::size_t>(in.size());
  Paths p{std::vector<float>(n), std::vector<float>(n), {}, {}};
  std::vector<float> converted(n);
  p.host_check = convert_samples(in, converted);
  auto ticket = engine.deconvolve_samples_async(in, p.stored);
  ticket->wait();
  p.check = ticket->input_check();
  engine.deconvolve_async(converted, p.floats)->wait();
  return p;
}

TEST(CudaSamples, StoredIntegersGiveTheBitsOfTheFloat32PathOnTheirConvertedValues) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const Shape3 shape{12, 20, 18};
  const Volume image = test::test_volume(shape, 3);
  auto backend = make_backend("cuda", quick());
  for (RlOptions o : {plain(), RlOptions{6, Boundary::bertero, InitMode::mean, 1e-6f}}) {
    auto engine = backend->make_engine(psf, shape, o);
    ASSERT_TRUE(engine->overlaps());
    for (SampleType type : kIntegerTypes) {
      const std::vector<std::byte> bytes = stored(type, image, 9);
      const Paths p = run_both(*engine, {type, bytes});
      const std::string what = to_string(type) + " " + to_string(o.boundary);
      EXPECT_EQ(p.stored, p.floats) << what;
      EXPECT_EQ(p.check.negatives, p.host_check.negatives) << what;
      EXPECT_EQ(p.check.first_nonfinite, -1) << what;
      if (type == SampleType::int16 || type == SampleType::int8) {
        EXPECT_GT(p.check.negatives, 0) << what;
      }
    }
  }
}

TEST(CudaSamples, StoredFloat32IsClampedAndCountedAndGivesTheFloat32PathsBits) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const Shape3 shape{9, 14, 16};
  auto engine = make_backend("cuda", quick())->make_engine(psf, shape, plain());
  const std::vector<float> f = floats_with_negatives(static_cast<std::size_t>(shape.size()), 4);
  const Paths p = run_both(*engine, SampleView::of(f));
  EXPECT_EQ(p.stored, p.floats);
  EXPECT_GT(p.check.negatives, 0);
  EXPECT_EQ(p.check.negatives, p.host_check.negatives);
}

TEST(CudaSamples, AFloat32NanIsReportedWithItsIndexAndValue) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const Shape3 shape{9, 14, 16};
  auto engine = make_backend("cuda", quick())->make_engine(psf, shape, plain());
  std::vector<float> f = floats_with_negatives(static_cast<std::size_t>(shape.size()), 8);
  f[1500] = std::numeric_limits<float>::infinity();
  f[777] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> result(f.size());
  auto ticket = engine->deconvolve_samples_async(SampleView::of(f), result);
  ticket->wait();
  const SampleCheck check = ticket->input_check();
  EXPECT_EQ(check.first_nonfinite, 777);
  EXPECT_TRUE(std::isnan(check.nonfinite_value));
  f[777] = 1.0f;
  f[300] = -std::numeric_limits<float>::infinity();
  ticket = engine->deconvolve_samples_async(SampleView::of(f), result);
  ticket->wait();
  EXPECT_EQ(ticket->input_check().first_nonfinite, 300);
  EXPECT_EQ(ticket->input_check().nonfinite_value, -std::numeric_limits<float>::infinity());
}

TEST(CudaSamples, TwoOutstandingBlocksKeepTheirOwnChecks) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const Shape3 shape{12, 20, 18};
  const Volume image = test::test_volume(shape, 3);
  auto engine = make_backend("cuda", quick())->make_engine(psf, shape, plain());
  std::vector<SampleCheck> expected;
  std::vector<std::vector<float>> results(6, std::vector<float>(image.data.size()));
  std::unique_ptr<RlTicket> previous;
  for (unsigned k = 0; k < results.size(); ++k) {
    std::vector<std::byte> bytes = stored(SampleType::int16, image, 20 + k);
    std::vector<float> converted(image.data.size());
    expected.push_back(convert_samples({SampleType::int16, bytes}, converted));
    auto ticket = engine->deconvolve_samples_async({SampleType::int16, bytes}, results[k]);
    std::fill(bytes.begin(), bytes.end(), std::byte{0xff});  // reusable at once: -1 everywhere
    if (previous) {
      previous->wait();
      EXPECT_EQ(previous->input_check().negatives, expected[k - 1].negatives) << "block " << k - 1;
    }
    previous = std::move(ticket);
  }
  previous->wait();
  EXPECT_EQ(previous->input_check().negatives, expected.back().negatives);
}

TEST(CudaSamples, BackgroundAutoAndTheSynchronousPathConvertOnTheHost) {
  H5DECON_REQUIRE_GPU();
  const Psf psf{test::test_psf({5, 3, 4}, 42), "test", 0};
  const Shape3 shape{9, 14, 16};
  const Volume image = test::test_volume(shape, 5);
  const std::vector<std::byte> bytes = stored(SampleType::int16, image, 2);
  RlOptions automatic = plain(), stopping = plain();
  automatic.background_auto = true;
  stopping.stop_rel_change = 1e-4;
  auto backend = make_backend("cuda", quick());
  for (const RlOptions& o : {automatic, stopping}) {
    auto engine = backend->make_engine(psf, shape, o);
    const Paths p = run_both(*engine, {SampleType::int16, bytes});
    EXPECT_EQ(p.stored, p.floats);
    EXPECT_GT(p.check.negatives, 0);
    EXPECT_EQ(p.check.negatives, p.host_check.negatives);
  }
}

TEST(CudaSamplesHost, ADeviceCheckReadsAsTheHostsCheck) {
  const cuda::DeviceSampleCheck none{12, cuda::kNoNonfinite, 0.0f};
  EXPECT_EQ(cuda::to_sample_check(none).negatives, 12);
  EXPECT_EQ(cuda::to_sample_check(none).first_nonfinite, -1);
  const cuda::DeviceSampleCheck found{0, 41, -std::numeric_limits<float>::infinity()};
  EXPECT_EQ(cuda::to_sample_check(found).first_nonfinite, 41);
  EXPECT_EQ(cuda::to_sample_check(found).nonfinite_value, found.nonfinite_value);
}

TEST(CudaSamplesHost, TheMemoryEstimateHoldsTheStoredSamplesOfTheOverlappedPath) {
  const Shape3 psf{5, 3, 4}, shape{40, 64, 60}, fft{48, 72, 64};
  const RlOptions o = plain();
  const std::int64_t n = shape.size();
  EXPECT_GE(cuda::SampleUpload::device_bytes(n), 2 * n);  // uint16/int16 samples
  const std::int64_t buffers = cuda::engine_buffer_bytes(shape, shape, fft, o, fft.z * fft.y);
  // Beyond the engine's buffers: two float volumes and the stored samples.
  EXPECT_GE(cuda::engine_device_bytes(psf, shape, fft, o, 0) - buffers,
            8 * n + cuda::SampleUpload::device_bytes(n));
}

}  // namespace
