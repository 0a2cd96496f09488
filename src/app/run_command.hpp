#pragma once
// `h5decon run`: Richardson-Lucy deconvolution of every (c, t) volume of a dataset.

#include <mpi.h>

#include <string>

#include "run_options.hpp"

namespace h5decon::app {

/// Runs the command; argv[0] is "run", `command_line` the whole program's
/// command line (for provenance). Collective on MPI_COMM_WORLD. Returns the exit
/// code; throws AgreedError (on every rank) when a step failed on any rank.
int run_command(int argc, char** argv, const std::string& command_line);

/// One run of `settings` (one input, blocks or exact mode), collective on `comm`;
/// throws AgreedError (on every rank) when a step failed on any rank.
void run_one(MPI_Comm comm, const RunSettings& settings, const std::string& command_line);

}  // namespace h5decon::app
