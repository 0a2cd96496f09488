#pragma once
// `h5decon import`: TIFF files (a stack, an ImageJ hyperstack, an OME-TIFF, or a
// folder of planes or stacks named by a pattern) into the (c, t, z, y, x) HDF5
// dataset `run` reads.

#include <string>

namespace h5decon::app {

/// Runs the command; argv[0] is "import". Every rank converts a share of the
/// z-slabs (parallel HDF5, independent writes). Returns the exit code.
int import_command(int argc, char** argv, const std::string& command_line);

}  // namespace h5decon::app
