// Checks on the values read from the input dataset: NaN/Inf refused, negatives set to 0.
#include "io/input_values.hpp"

#include <cmath>

#include "h5decon/error.hpp"

namespace h5decon::io::detail {

std::int64_t check_input_values(std::span<float> box, std::int64_t c, std::int64_t t,
                                const Shape3& offset, const Shape3& count, const std::string& what) {
  std::int64_t negatives = 0;
  for (std::size_t i = 0; i < box.size(); ++i) {
    float& v = box[i];
    if (!std::isfinite(v)) {
      const auto n = static_cast<std::int64_t>(i);
      const std::int64_t x = n % count.x, y = n / count.x % count.y, z = n / count.x / count.y;
      throw InputError(::h5decon::detail::concat(
          what, ": volume (c=", c, ", t=", t, ") contains NaN or Inf (", v, " at z=",
          offset.z + z, ", y=", offset.y + y, ", x=", offset.x + x,
          "); h5decon cannot deconvolve non-finite data: repair or mask it first"));
    }
    if (v < 0.0f) {
      v = 0.0f;
      ++negatives;
    }
  }
  return negatives;
}

}  // namespace h5decon::io::detail
