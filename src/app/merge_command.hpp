#pragma once
// `h5decon merge`: joins the shard files of a job array into one output.

#include <string>

namespace h5decon::app {

/// Runs the command; argv[0] is "merge". Rank 0 merges (plain serial HDF5); other
/// ranks wait and share its outcome. Returns the exit code.
int merge_command(int argc, char** argv, const std::string& command_line);

}  // namespace h5decon::app
