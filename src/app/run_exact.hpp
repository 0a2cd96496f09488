#pragma once
// `h5decon run --mode exact`: every (c, t) volume deconvolved whole across all
// ranks with FFTW3-MPI (docs/design.md §4), read and written in z-slabs by collective
// parallel HDF5.

#include <mpi.h>

#include <string>

#include "run_options.hpp"

namespace h5decon::app {

/// Runs exact mode with resolved settings; collective on `comm`. Returns the exit code.
int run_exact(MPI_Comm comm, RunSettings& settings, const std::string& command_line);

}  // namespace h5decon::app
