#pragma once
// The decomposition of `run` (blocks mode), made by the same steps for `run` and
// `info`: GPU binding, then dist::plan_for_backend() with the run's options.

#include <mpi.h>

#include <ostream>
#include <string>
#include <vector>

#include "h5decon/decomposition.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "run_options.hpp"

namespace h5decon::app {

/// Each rank's compute target after GPU binding.
struct BackendChoice {
  std::string kind = "cpu";  ///< what make_backend() is asked for on this rank
  int device_sharers = 1;    ///< ranks of this node on this rank's GPU
};

/// Collective, agreed on: binds GPUs as `s.backend` asks (logging to `log`), sets
/// s.backend_options.device and returns this rank's backend.
BackendChoice resolve_backend(MPI_Comm comm, RunSettings& s, std::ostream& log);

/// Collective, agreed on: the plan every rank uses for `input`'s volumes, from the
/// largest PSF of `psfs`, each block costed by its engine for s.rl (memory_fit.hpp).
DecompositionPlan plan_run(MPI_Comm comm, const RunSettings& s, const BackendChoice& backend,
                           const io::InputDataset& input, const std::vector<Psf>& psfs,
                           std::ostream& log);

}  // namespace h5decon::app
