#pragma once
// Checks on the values read from the input dataset (private to src/io).

#include <cstdint>
#include <span>
#include <string>

#include "h5decon/shape.hpp"

namespace h5decon::io::detail {

/// Refuses a box with a NaN or Inf: throws InputError naming `what`, the volume
/// (c, t) and the voxel's (z, y, x) in the volume. Sets negative values to 0
/// (Richardson-Lucy's multiplicative update needs data >= 0) and returns how many.
std::int64_t check_input_values(std::span<float> box, std::int64_t c, std::int64_t t,
                                const Shape3& offset, const Shape3& count, const std::string& what);

}  // namespace h5decon::io::detail
