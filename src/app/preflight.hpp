#pragma once
// Checks of `h5decon run` before any file is written: a launch that is not one
// MPI job (srun without MPI support) and an output that cannot fit on its disk.

#include <mpi.h>

#include <cstdint>
#include <string>

#include <optional>

#include "h5decon/decomposition.hpp"
#include "h5decon/io/file_identity.hpp"
#include "output_lock.hpp"
#include "run_options.hpp"

namespace h5decon::app {

/// The task count SLURM started (SLURM_STEP_NUM_TASKS, else SLURM_NTASKS), or 0.
int slurm_task_count();

/// Local, the same verdict on every rank. World size 1 while SLURM says N > 1
/// tasks: N separate 1-rank runs would each write the whole output, so a
/// UsageError unless `allow_singleton` (then a warning on rank 0). World size > 1
/// other than N: a warning only (mpirun inside a larger allocation is legitimate).
void check_launch(MPI_Comm comm, bool allow_singleton);

/// Bytes the output file needs on disk: every chunk of its `volumes` (c, t)
/// volumes in float32 (early allocation), plus room for the metadata.
std::int64_t output_bytes(const DecompositionPlan& plan, std::int64_t volumes);

/// Local (rank 0): IoError naming the folder, the bytes needed and those free when
/// the output's file system has less free space than `bytes`; when resuming, what
/// the partial output already holds is not needed again.
void check_free_space(const std::string& output_file, std::int64_t bytes, bool resume);

/// Local, the same in both modes. Claims the output for this run: rank 0 takes the
/// lock (OutputLock: a running run is named, never called interrupted), then every
/// rank checks the output's state (check_output_state). Follow with agreement.
void claim_output(const RunSettings& s, int rank, std::optional<OutputLock>& lock);

/// Local, the same in both modes: the checks of the opened input that need no
/// plan. Every rank: --background against the input's type. Rank 0: room on the
/// output's disk for `volumes` float32 volumes, then the input's identity, which
/// it returns (empty elsewhere) for the signature and the check before the rename.
/// Follow with agreement.
io::FileIdentity check_opened_input(const RunSettings& s, const io::InputDataset& input,
                                    std::int64_t volumes, int rank);

}  // namespace h5decon::app
