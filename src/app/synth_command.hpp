#pragma once
// `h5decon synth`: writes a deterministic synthetic light-sheet data set.

namespace h5decon::app {

/// Runs the command; argv[0] is "synth". Rank 0 generates and writes; the other
/// ranks wait and share its outcome. Returns the exit code.
int synth_command(int argc, char** argv);

}  // namespace h5decon::app
