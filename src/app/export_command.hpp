#pragma once
// `h5decon export`: a result (or any (c, t, z, y, x) dataset) in a viewer's layout.

#include <string>

namespace h5decon::app {

/// Runs the command; argv[0] is "export". Rank 0 reads and writes (plain serial
/// HDF5); the other ranks wait and share its outcome. Returns the exit code.
int export_command(int argc, char** argv, const std::string& command_line);

}  // namespace h5decon::app
