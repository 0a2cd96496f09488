#pragma once
// `h5decon seams`: measures the seam error of the block decomposition (docs/design.md §3)
// against the whole-volume result, by halo size and iteration count.

namespace h5decon::tools {

/// Runs `h5decon seams`; argv[0] is the command name. Returns the exit code.
int seam_command(int argc, char** argv);

}  // namespace h5decon::tools
