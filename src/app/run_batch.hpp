#pragma once
// `run --inputs LIST|'GLOB'`: many inputs in one job, each run whole into its own
// output (--output with {name}), one after the other on every rank; FFTW's plans
// stay in the process, so inputs of one shape are planned once. A SLURM array
// (or --shard K/N) splits the list, not each input.

#include <mpi.h>

#include <string>
#include <vector>

#include "run_options.hpp"

namespace h5decon::app {

/// The inputs `spec` names: a glob (it has * ? or [), its matches in natural order;
/// otherwise a list file, one input per line ("FILE[:/path]"; blank lines and
/// lines starting with # skipped; relative names relative to the list's folder).
/// Local. Throws InputError for no match, an unreadable list or an empty one.
std::vector<std::string> batch_inputs(const std::string& spec);

/// The output of `input` (its file name without the extension replaces {name}).
std::string batch_output(const std::string& output_pattern, const std::string& input);

/// Runs every input of this task's share (--shard K/N, or auto in a SLURM array)
/// in list order. Outputs must all differ; without --overwrite, an existing one is
/// refused before anything runs, unless --resume: then complete outputs are
/// skipped and interrupted ones resumed. Stops at the first input that fails
/// (AgreedError naming it); the outputs before it are complete.
int run_batch(MPI_Comm comm, const RunSettings& settings, const std::string& command_line);

}  // namespace h5decon::app
