#pragma once
// `h5decon psf`: writes a generated point-spread function (Born-Wolf model).

namespace h5decon::app {

/// Runs the command; argv[0] is "psf". Rank 0 computes and writes; the other
/// ranks share its outcome. Returns the exit code.
int psf_command(int argc, char** argv);

}  // namespace h5decon::app
