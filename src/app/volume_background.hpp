#pragma once
// `--background auto` in a blocked run: one estimate per (c, t) volume, from the
// whole volume (estimate_background()'s tiles and percentile), not one per block:
// blocks of one volume share one model, and the blocked result equals the whole
// volume's within the seam bound. Every rank reads a share of each volume's tile
// slabs (8 planes each); rank 0 combines the tile means.

#include <mpi.h>

#include <map>
#include <vector>

#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::app {

/// Collective on `comm`: the background of each of `volumes` (every volume of the
/// input when empty), the same on every rank. Failures are agreed on.
std::map<io::VolumeIndex, float> estimate_volume_backgrounds(
    MPI_Comm comm, const io::InputDataset& input, std::vector<io::VolumeIndex> volumes);

/// "c=0 t=0: 102.5; c=0 t=1: 99.8", for the log and the output's provenance.
std::string describe_backgrounds(const std::map<io::VolumeIndex, float>& backgrounds);

}  // namespace h5decon::app
