#pragma once
// `h5decon merge`: joins the shard files of a job array (`run --shard K/N`) into
// one output whose dataset is (c, t, z, y, x) again: an HDF5 virtual dataset
// mapping every (c, t) volume to its shard (nothing copied), or a real copy.

#include <cstdint>
#include <string>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::io {

/// How to merge.
struct MergeOptions {
  bool copy = false;       ///< copy the data (volume by volume, in slabs of chunk depth)
  bool overwrite = false;  ///< replace an existing output file
  std::string command_line;
};

/// What was merged, for the log.
struct MergeReport {
  std::int64_t shards = 0, volumes = 0;
  Shape5 shape;
  std::int64_t bytes_copied = 0;
};

/// Serial (one process; plain HDF5 file access). Checks that the shards belong
/// together (the same run signature and shard count N, shards 0..N-1 each once,
/// every (c, t) volume in exactly one, every shard complete) and writes `output`
/// through "<file>.partial" and a rename. Throws InputError naming the shard file
/// and the problem (missing shard, shard of another input, an interrupted shard).
MergeReport merge_shards(const DatasetRef& output, const std::vector<DatasetRef>& shards,
                         const MergeOptions& options);

}  // namespace h5decon::io
