#pragma once
// What `h5decon run` does after each block a rank writes: stop gracefully once
// SIGTERM arrived (scancel, a time limit, kill), and optionally log the block.

#include <cstdint>
#include <string>

#include "h5decon/error.hpp"

namespace h5decon::app {

/// While one exists, the first SIGTERM only sets a flag, a stop request the block
/// runtime polls between blocks (BlockRunOptions::stop_requested): every rank
/// finishes and writes its current block, no further block starts, and the run
/// ends with the blocks recorded done kept for --resume. A second SIGTERM ends the
/// process at once, as without it. Restores the previous disposition on destruction.
class GracefulTermination {
 public:
  GracefulTermination();
  ~GracefulTermination();
  GracefulTermination(const GracefulTermination&) = delete;
  GracefulTermination& operator=(const GracefulTermination&) = delete;
};

/// True once SIGTERM was received (while a GracefulTermination exists).
bool termination_requested();

/// The error a run stopped by SIGTERM ends with (every rank, after agreement).
Error stopped_by_sigterm(int rank);

/// Appends "<rank> <block id>" to the file named by H5DECON_BLOCK_LOG, when set,
/// after a block is written (tests count the blocks recomputed after kills).
void log_block_written(int rank, std::int64_t block);

}  // namespace h5decon::app
