#pragma once
// `h5decon run`: Richardson-Lucy deconvolution of every (c, t) volume of a dataset.

#include <mpi.h>

#include <optional>
#include <string>

#include "h5decon/dist/block_runtime.hpp"
#include "run_options.hpp"

namespace h5decon::app {

/// Runs the command; argv[0] is "run", `command_line` the whole program's
/// command line (for provenance). Collective on MPI_COMM_WORLD. Returns the exit
/// code; throws AgreedError (on every rank) when a step failed on any rank.
int run_command(int argc, char** argv, const std::string& command_line);

/// A batch's block runtime, kept from one input to the next (`run --inputs`): the
/// next input reuses it, engines and all, when its run signature without the
/// input's and output's entries (the plan, the PSFs' hash, every result-changing
/// option, the backend) is `key`.
struct SharedRuntime {
  std::optional<dist::BlockRuntime> runtime;
  std::string key;
};

/// One run of `settings` (one input, blocks or exact mode), collective on `comm`;
/// throws AgreedError (on every rank) when a step failed on any rank. `shared`: a
/// batch's runtime to reuse and keep (blocks mode).
void run_one(MPI_Comm comm, const RunSettings& settings, const std::string& command_line,
             SharedRuntime* shared = nullptr);

}  // namespace h5decon::app
