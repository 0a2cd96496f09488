#pragma once
// `h5decon preview`: a PNG of maximum-intensity projections of input and result.

namespace h5decon::app {

/// Runs the command; argv[0] is "preview". Rank 0 reads and writes; the other
/// ranks share its outcome. Returns the exit code.
int preview_command(int argc, char** argv);

}  // namespace h5decon::app
