#pragma once
// An owning float32 3D array: the unit of data the engine works on.

#include <cstddef>
#include <span>
#include <vector>

#include "h5decon/shape.hpp"

namespace h5decon {

/// A 3D float32 volume in C order (x fastest).
struct Volume {
  Shape3 shape;
  std::vector<float> data;

  Volume() = default;
  explicit Volume(Shape3 s, float fill = 0.0f) : shape(s), data(static_cast<std::size_t>(s.size()), fill) {}

  float& at(std::int64_t z, std::int64_t y, std::int64_t x) { return data[index(z, y, x)]; }
  float at(std::int64_t z, std::int64_t y, std::int64_t x) const { return data[index(z, y, x)]; }
  std::span<float> span() { return data; }
  std::span<const float> span() const { return data; }

 private:
  std::size_t index(std::int64_t z, std::int64_t y, std::int64_t x) const {
    return static_cast<std::size_t>((z * shape.y + y) * shape.x + x);
  }
};

}  // namespace h5decon
