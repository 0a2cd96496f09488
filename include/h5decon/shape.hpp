#pragma once
// Extents of 3D volumes and of the 5D (c, t, z, y, x) datasets that hold them.

#include <array>
#include <cstdint>
#include <string>

namespace h5decon {

/// Extent of a 3D volume, C order: x varies fastest.
struct Shape3 {
  std::int64_t z = 0, y = 0, x = 0;

  constexpr std::int64_t size() const { return z * y * x; }
  constexpr std::int64_t operator[](int axis) const { return axis == 0 ? z : axis == 1 ? y : x; }
  constexpr std::int64_t& operator[](int axis) { return axis == 0 ? z : axis == 1 ? y : x; }
  constexpr bool operator==(const Shape3&) const = default;
  /// "ZxYxX", the form used in every message.
  std::string str() const {
    return std::to_string(z) + "x" + std::to_string(y) + "x" + std::to_string(x);
  }
};

/// Extent of a 5D dataset: channel, time, then the volume.
struct Shape5 {
  std::int64_t c = 0, t = 0;
  Shape3 volume;

  constexpr std::int64_t size() const { return c * t * volume.size(); }
  constexpr bool operator==(const Shape5&) const = default;
  std::array<std::int64_t, 5> dims() const { return {c, t, volume.z, volume.y, volume.x}; }
  std::string str() const {
    return std::to_string(c) + "x" + std::to_string(t) + "x" + volume.str();
  }
};

}  // namespace h5decon
