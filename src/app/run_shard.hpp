#pragma once
// Shards of a SLURM job array (`run --shard K/N`): array task K computes the
// (c, t) volumes with index i = c*T + t, i % N == K (round robin, so every task
// gets about as many volumes of every channel and time range), into its own file
// "OUT.shardK-of-N.h5". `h5decon merge` joins the shards.

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "h5decon/decomposition.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::app {

/// Which share of the volumes a run computes.
struct Shard {
  bool enabled = false;
  std::int64_t index = 0, count = 1;  ///< K and N
  std::string source;                 ///< "--shard" or "SLURM_ARRAY_*", for the log
  std::string str() const;            ///< "K/N"
};

/// Parses --shard: "K/N", "off" (the default), or "auto" (SLURM_ARRAY_TASK_ID/_MIN/
/// _MAX/_STEP when SLURM_ARRAY_TASK_ID is set: K = (ID - MIN) / STEP,
/// N = (MAX - MIN) / STEP + 1; else off). Sharding is never implied by the
/// environment alone: an array over several input files (one per task) must compute
/// every volume of each. Throws UsageError for malformed text or K outside 0..N-1.
Shard resolve_shard(const std::string& option);

/// Rank 0 of `comm` says which share this run computes: "shard K/N (from SOURCE):
/// the volumes i = c*T + t with i % N == K", or, in a SLURM array task without
/// sharding, that the task computes every volume of its input.
void log_shard_choice(MPI_Comm comm, const Shard& shard, const std::string& option);

/// The volumes of `shard` among `shape`'s, in index order. Throws InputError
/// when the shard gets none (more shards than volumes).
std::vector<io::VolumeIndex> shard_volumes(const Shape5& shape, const Shard& shard);

/// "dir/OUT.shardK-of-N.h5" for "dir/OUT.h5": ".shardK-of-N" goes before the
/// file name's last extension, or at its end when it has none.
std::string shard_file_name(const std::string& file, const Shard& shard);

/// Every block of `volumes`, in id order.
std::vector<std::int64_t> blocks_of(const DecompositionPlan& plan,
                                    const std::vector<io::VolumeIndex>& volumes);

}  // namespace h5decon::app
