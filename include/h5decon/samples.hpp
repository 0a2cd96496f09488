#pragma once
// Samples as the input stores them, and their conversion to the float32 the
// engines compute in. Blocks travel between ranks (and to a GPU) in their
// stored type, so a uint16 input moves half the bytes of float32; the value
// checks of Richardson-Lucy's data (finite, >= 0) happen where they convert.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "h5decon/sample_type.hpp"
#include "h5decon/shape.hpp"

namespace h5decon {

std::string to_string(SampleType type);
/// Bytes per sample of `type`.
int sample_bytes(SampleType type);

/// A region's samples in their stored type, C order.
struct SampleView {
  SampleType type = SampleType::float32;
  std::span<const std::byte> bytes;

  /// Number of samples.
  std::int64_t size() const {
    return static_cast<std::int64_t>(bytes.size()) / sample_bytes(type);
  }
  /// A view of float32 samples.
  static SampleView of(std::span<const float> values) {
    return {SampleType::float32, std::as_bytes(values)};
  }
};

/// What converting a region found.
struct SampleCheck {
  std::int64_t negatives = 0;         ///< values below 0, set to 0
  std::int64_t first_nonfinite = -1;  ///< index of the first NaN or Inf; -1: none
  float nonfinite_value = 0.0f;       ///< that value
};

/// Converts `in` to float32 into `out` (in.size() values), setting negative
/// values to 0. Where the result has a NaN or Inf (only float32 input can),
/// `out` is unspecified and the check says where the first one is.
SampleCheck convert_samples(SampleView in, std::span<float> out);

/// The same check on values already in float32, in place.
SampleCheck check_samples(std::span<float> values);

/// Throws InputError for a check that found a NaN or Inf, naming `what` (the
/// input, e.g. "input 'a.h5:/data'"), the volume (c, t) and the voxel's (z, y, x)
/// in the volume, for a region [offset, offset + count) of that volume.
void refuse_nonfinite(const SampleCheck& check, const std::string& what, std::int64_t c,
                      std::int64_t t, const Shape3& offset, const Shape3& count);

/// The warning given (once per run) when a region had negative values that
/// were set to 0; `unit` names what `negatives` were counted in ("block": the
/// block runtime; "volume": exact mode, summed over the ranks).
std::string negatives_warning(const std::string& what, std::int64_t c, std::int64_t t,
                              std::int64_t negatives, std::string_view unit = "block");

}  // namespace h5decon
