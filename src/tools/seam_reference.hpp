#pragma once
// `h5decon seams`' reference: volume (0, 0) deconvolved whole in exact mode
// (FFTW3-MPI z-slabs over every rank of a communicator, docs/design.md §4) and gathered
// on rank 0, where the blocked result is measured against it; and the rank-0-only
// steps around it, during which the other ranks wait without spinning.

#include <mpi.h>

#include <exception>
#include <string>
#include <utility>

#include "app/agreement.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/volume.hpp"

namespace h5decon::tools {

/// Throws UsageError when exact mode cannot run `rl`, so that no comparison is
/// made between a blocked result and a reference computed with other options.
void require_reference_support(const RlOptions& rl);

/// Collective on `comm`: every rank reads its planes of volume (0, 0) of `input`
/// (opened on `comm`), exact mode deconvolves the whole volume with `rl` (the
/// options of the blocked side) and `backend`'s threads and planner per rank, and
/// rank 0 receives the whole result; the other ranks get an empty Volume. Failures
/// on any rank are agreed (every rank throws the same AgreedError).
Volume exact_reference(const io::InputDataset& input, const Psf& psf, const RlOptions& rl,
                       const BackendOptions& backend, MPI_Comm comm);

/// Writes `reference` as `/iterations_N` (float32, z,y,x) into `file`, a new
/// file (replacing any) when `create`. Serial (rank 0).
void save_reference(const std::string& file, bool create, int iterations, const Volume& reference);

/// Collective: returns when every rank of `comm` has called it, sleeping between
/// checks rather than spinning, so that waiting ranks leave their cores to the
/// rank at work.
void wait_quietly(MPI_Comm comm);

/// Collective on `comm`: runs `step` on rank 0 while the other ranks wait in
/// wait_quietly(), then agrees on its outcome (agree()).
template <class Step>
void on_rank0_agreed(MPI_Comm comm, Step&& step) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::exception_ptr error;
  if (rank == 0) {
    try {
      std::forward<Step>(step)();
    } catch (...) {
      error = std::current_exception();
    }
  }
  wait_quietly(comm);
  app::agree(comm, error);
}

}  // namespace h5decon::tools
