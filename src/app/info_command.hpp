#pragma once
// `h5decon info`: takes the options of `run`, opens the input and PSF read-only,
// prints the decomposition plan and the data volumes it implies, and computes nothing.

namespace h5decon::app {

/// Runs `h5decon info`; argv[0] is the command name. Returns the exit code.
int info_command(int argc, char** argv);

}  // namespace h5decon::app
