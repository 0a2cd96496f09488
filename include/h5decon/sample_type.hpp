#pragma once
// The element types blocks are stored and moved in (samples.hpp). A header of its
// own, in C++17, so that device code (.cu files) can name them too.

#include <cstdint>

namespace h5decon {

/// Element type of a block in memory: the input's own type, except float64,
/// which is read as float32 (the engines compute in float32 anyway).
enum class SampleType : std::uint8_t { float32, uint8, uint16, int8, int16 };

}  // namespace h5decon
