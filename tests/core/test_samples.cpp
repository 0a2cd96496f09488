// Stored sample types: conversion to float32 with the data checks, and the
// host-side default of RlEngine::deconvolve_samples_async().
#include "h5decon/samples.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/error.hpp"

namespace h5decon {
namespace {

template <class T>
SampleView view_of(const std::vector<T>& v, SampleType type) {
  return {type, std::as_bytes(std::span(v))};
}

TEST(Samples, SizesFollowTheType) {
  EXPECT_EQ(sample_bytes(SampleType::uint8), 1);
  EXPECT_EQ(sample_bytes(SampleType::int8), 1);
  EXPECT_EQ(sample_bytes(SampleType::uint16), 2);
  EXPECT_EQ(sample_bytes(SampleType::int16), 2);
  EXPECT_EQ(sample_bytes(SampleType::float32), 4);
  const std::vector<std::uint16_t> v(7);
  EXPECT_EQ(view_of(v, SampleType::uint16).size(), 7);
  EXPECT_EQ(to_string(SampleType::uint16), "uint16");
}

TEST(Samples, Uint16ConvertsExactlyOverItsWholeRange) {
  std::vector<std::uint16_t> v(65536);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(i);
  std::vector<float> out(v.size(), -1.0f);
  const SampleCheck check = convert_samples(view_of(v, SampleType::uint16), out);
  EXPECT_EQ(check.negatives, 0);
  EXPECT_EQ(check.first_nonfinite, -1);
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(out[i], static_cast<float>(i));
}

TEST(Samples, SignedIntegersLoseTheirNegativesAndCountThem) {
  const std::vector<std::int16_t> v{-32768, -1, 0, 1, 32767};
  std::vector<float> out(v.size());
  const SampleCheck check = convert_samples(view_of(v, SampleType::int16), out);
  EXPECT_EQ(check.negatives, 2);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 1, 32767}));
  const std::vector<std::int8_t> w{-128, 5, 127};
  std::vector<float> out8(w.size());
  EXPECT_EQ(convert_samples(view_of(w, SampleType::int8), out8).negatives, 1);
  EXPECT_EQ(out8, (std::vector<float>{0, 5, 127}));
  const std::vector<std::uint8_t> u{0, 200, 255};
  std::vector<float> outu(u.size());
  EXPECT_EQ(convert_samples(view_of(u, SampleType::uint8), outu).negatives, 0);
  EXPECT_EQ(outu, (std::vector<float>{0, 200, 255}));
}

TEST(Samples, FloatsKeepTheirBitsAndFindTheFirstNonFinite) {
  std::vector<float> v{1.5f, -2.0f, 3.25f, 0.0f};
  std::vector<float> out(v.size());
  SampleCheck check = convert_samples(SampleView::of(v), out);
  EXPECT_EQ(check.negatives, 1);
  EXPECT_EQ(out, (std::vector<float>{1.5f, 0.0f, 3.25f, 0.0f}));
  v[2] = std::numeric_limits<float>::infinity();
  v[3] = std::numeric_limits<float>::quiet_NaN();
  check = convert_samples(SampleView::of(v), out);
  EXPECT_EQ(check.first_nonfinite, 2);
  EXPECT_TRUE(std::isinf(check.nonfinite_value));
  check = check_samples(v);  // in place
  EXPECT_EQ(check.first_nonfinite, 2);
}

TEST(Samples, RefusalNamesTheVolumeAndTheVoxelInIt) {
  SampleCheck check;
  check.first_nonfinite = 2 * 12 + 1 * 4 + 3;  // z=2, y=1, x=3 in a 3x3x4 region
  check.nonfinite_value = std::numeric_limits<float>::quiet_NaN();
  try {
    refuse_nonfinite(check, "input 'a.h5:/data'", 1, 2, {10, 20, 30}, {3, 3, 4});
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("input 'a.h5:/data': volume (c=1, t=2) contains NaN or Inf"),
              std::string::npos) << m;
    EXPECT_NE(m.find("z=12, y=21, x=33"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(refuse_nonfinite(SampleCheck{}, "x", 0, 0, {0, 0, 0}, {1, 1, 1}));
}

TEST(Samples, SizeMismatchIsAnError) {
  const std::vector<std::uint16_t> v(5);
  std::vector<float> out(4);
  EXPECT_THROW(convert_samples(view_of(v, SampleType::uint16), out), Error);
}

// An engine that copies its input: shows what the default conversion hands it.
class CopyEngine final : public RlEngine {
 public:
  void deconvolve(std::span<const float> observed, std::span<float> result,
                  const IterationObserver&) override {
    ++calls;
    std::copy(observed.begin(), observed.end(), result.begin());
  }
  void set_background(float) override {}
  Shape3 shape() const override { return {1, 1, 4}; }
  Shape3 fft_shape() const override { return {1, 1, 4}; }
  std::int64_t bytes() const override { return 0; }
  int calls = 0;
};

TEST(Samples, DefaultAsyncPathConvertsOnTheHostAndReportsTheCheck) {
  CopyEngine engine;
  const std::vector<std::int16_t> v{-3, 4, 5, 6};
  std::vector<float> result(4);
  auto ticket = engine.deconvolve_samples_async(view_of(v, SampleType::int16), result);
  ticket->wait();
  EXPECT_EQ(ticket->input_check().negatives, 1);
  EXPECT_EQ(result, (std::vector<float>{0, 4, 5, 6}));
  EXPECT_EQ(engine.calls, 1);
}

TEST(Samples, DefaultAsyncPathDoesNotComputeNonFiniteData) {
  CopyEngine engine;
  const std::vector<float> v{1, std::numeric_limits<float>::quiet_NaN(), 2, 3};
  std::vector<float> result(4);
  auto ticket = engine.deconvolve_samples_async(SampleView::of(v), result);
  EXPECT_TRUE(ticket->ready());
  ticket->wait();
  EXPECT_EQ(ticket->input_check().first_nonfinite, 1);
  EXPECT_EQ(engine.calls, 0);
}

}  // namespace
}  // namespace h5decon
