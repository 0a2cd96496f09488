#pragma once
// The PSFs of `run` (blocks and exact mode alike): read, checked against the
// data's voxel size, prepared and cropped, one per channel.

#include <mpi.h>

#include <vector>

#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/psf.hpp"
#include "run_options.hpp"

namespace h5decon::app {

/// One prepared PSF per channel of `input`, from `s.psf` (HDF5 or TIFF). When the
/// PSF file and the input both record a voxel size and they differ (more than
/// kVoxelSizeTolerance on an axis), throws InputError naming both, unless
/// `s.ignore_voxel_size` (then rank 0 warns). Then prepare_psf(), --psf-crop, and
/// one log line per channel on rank 0. Collective on `comm`; runs before anything
/// is written.
std::vector<Psf> load_run_psfs(const RunSettings& s, const io::InputDataset& input, MPI_Comm comm);

}  // namespace h5decon::app
