#pragma once
// The cost floor of one RL iteration on the CPU backend, for benchmarks.

#include "h5decon/backend.hpp"

namespace h5decon {

/// Median over `repeats` of the time of one r2c plus one c2r of `fft`, in
/// seconds, with the same planner and threads as the engine. An RL iteration
/// needs two such pairs: its floor is twice this.
double fft_pair_seconds(const Shape3& fft, const BackendOptions& options, int repeats);

}  // namespace h5decon
