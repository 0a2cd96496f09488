#pragma once
// `h5decon bench`: per-iteration speed against the FFT floor and scikit-image.

namespace h5decon::tools {

/// Runs the benchmark command; returns the process exit code.
int bench_command(int argc, char** argv);

}  // namespace h5decon::tools
