#pragma once
// The slab loop of exact mode (docs/design.md §4): every (c, t) volume whole across
// the ranks of a communicator in z-slabs (include/h5decon/exact_engine.hpp), one
// engine per channel at a time (memory is the point of exact mode). The block loop
// is block_runtime.hpp; the run pipeline around both is src/app.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::dist {

/// Runs a step on this rank, then agrees on its outcome with every rank (the
/// caller's protocol: each rank throws the same error when any rank failed).
using AgreedStep = std::function<void(const std::function<void()>& step)>;

struct SlabRunOptions {
  RlOptions rl;
  BackendOptions backend_options;
  /// --background auto: the estimate of each (c, t) volume (the whole volume's).
  std::map<io::VolumeIndex, float> backgrounds;
  /// Every rank, after each iteration of volume (c, t): the same reports everywhere.
  std::function<void(std::int64_t c, std::int64_t t, const IterationReport&)> on_iteration;
  /// Every rank, per volume: the negative input values set to 0 in the whole volume.
  std::function<void(std::int64_t c, std::int64_t t, std::int64_t negatives)> on_negatives;
  /// Every rank, per volume written: its iterations and seconds of RL.
  std::function<void(std::int64_t c, std::int64_t t, int iterations, double seconds)> on_volume;
};

/// Collective on `comm`: deconvolves every volume of `input` into `output` with
/// the PSF of its channel. Per volume: a collective read of each rank's planes,
/// RL over all ranks, a collective write of each rank's result planes. Every step
/// that may fail on some ranks goes through `agreed`.
void run_slabs(MPI_Comm comm, const io::InputDataset& input, io::OutputDataset& output,
               const std::vector<Psf>& psfs, const SlabRunOptions& options,
               const AgreedStep& agreed);

}  // namespace h5decon::dist
