// Stored sample types and their conversion to float32 with the data checks.
#include "h5decon/samples.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

// Integers: exact in float32 (at most 16 bits); only signed ones can be negative.
template <class T>
SampleCheck convert_integers(std::span<const std::byte> bytes, std::span<float> out) {
  SampleCheck check;
  const std::size_t n = out.size();
  const std::byte* in = bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, in + i * sizeof(T), sizeof(T));  // the bytes need not be aligned
    if constexpr (std::is_signed_v<T>) check.negatives += v < 0 ? 1 : 0;
    out[i] = v < 0 ? 0.0f : static_cast<float>(v);
  }
  return check;
}

// Clamps and counts in one branch-free pass; the non-finite search runs only
// when the pass saw one (comparisons with NaN are false, so |v| <= max is the test).
SampleCheck clamp_floats(const float* in, std::span<float> out) {
  SampleCheck check;
  const std::size_t n = out.size();
  std::int64_t negatives = 0;
  bool finite = true;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = in[i];
    finite &= std::fabs(v) <= std::numeric_limits<float>::max();
    negatives += v < 0.0f ? 1 : 0;
    out[i] = v < 0.0f ? 0.0f : v;
  }
  check.negatives = negatives;
  if (!finite) {
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(in[i])) {
        check.first_nonfinite = static_cast<std::int64_t>(i);
        check.nonfinite_value = in[i];
        break;
      }
  }
  return check;
}

}  // namespace

std::string to_string(SampleType type) {
  switch (type) {
    case SampleType::float32:
      return "float32";
    case SampleType::uint8:
      return "uint8";
    case SampleType::uint16:
      return "uint16";
    case SampleType::int8:
      return "int8";
    case SampleType::int16:
      return "int16";
  }
  return "unknown";
}

int sample_bytes(SampleType type) {
  switch (type) {
    case SampleType::float32:
      return 4;
    case SampleType::uint16:
    case SampleType::int16:
      return 2;
    case SampleType::uint8:
    case SampleType::int8:
      return 1;
  }
  return 4;
}

SampleCheck convert_samples(SampleView in, std::span<float> out) {
  H5DECON_REQUIRE(in.size() == static_cast<std::int64_t>(out.size()), Error, "convert_samples: ",
                  in.size(), " ", to_string(in.type), " samples into ", out.size(), " floats");
  switch (in.type) {
    case SampleType::float32: {
      // The bytes of a float32 view come from a float array (or an aligned buffer).
      const auto* values = reinterpret_cast<const float*>(in.bytes.data());
      return clamp_floats(values, out);
    }
    case SampleType::uint8:
      return convert_integers<std::uint8_t>(in.bytes, out);
    case SampleType::uint16:
      return convert_integers<std::uint16_t>(in.bytes, out);
    case SampleType::int8:
      return convert_integers<std::int8_t>(in.bytes, out);
    case SampleType::int16:
      return convert_integers<std::int16_t>(in.bytes, out);
  }
  throw Error("convert_samples: unknown sample type");
}

SampleCheck check_samples(std::span<float> values) { return clamp_floats(values.data(), values); }

void refuse_nonfinite(const SampleCheck& check, const std::string& what, std::int64_t c,
                      std::int64_t t, const Shape3& offset, const Shape3& count) {
  if (check.first_nonfinite < 0) return;
  const std::int64_t n = check.first_nonfinite;
  const std::int64_t x = n % count.x, y = n / count.x % count.y, z = n / count.x / count.y;
  throw InputError(detail::concat(
      what, ": volume (c=", c, ", t=", t, ") contains NaN or Inf (", check.nonfinite_value,
      " at z=", offset.z + z, ", y=", offset.y + y, ", x=", offset.x + x,
      "); h5decon cannot deconvolve non-finite data: repair or mask it first"));
}

std::string negatives_warning(const std::string& what, std::int64_t c, std::int64_t t,
                              std::int64_t negatives, std::string_view unit) {
  return detail::concat(what, ": volume (c=", c, ", t=", t, ") has ", negatives,
                        " negative values in one ", unit, "; they are set to 0, here and in every ",
                        unit, " (Richardson-Lucy needs data >= 0)");
}

}  // namespace h5decon
