#pragma once
// `h5decon info --mode exact`: the slab of every rank and its bytes, from
// fftwf_mpi_local_size, against --memory-budget.

#include <mpi.h>

#include <string>
#include <vector>

#include "h5decon/psf.hpp"
#include "run_options.hpp"

namespace h5decon::app {

/// The exact-mode plan of `shape` on the ranks of `comm`, as text for rank 0 (empty
/// elsewhere). Collective. `planned_ranks` (info --ranks), when it differs from the
/// communicator's size, is noted: FFTW-MPI's slabs can only be asked of a real one.
std::string exact_info_text(MPI_Comm comm, const RunSettings& s, const Shape5& shape,
                            const std::vector<Psf>& psfs, int planned_ranks);

}  // namespace h5decon::app
