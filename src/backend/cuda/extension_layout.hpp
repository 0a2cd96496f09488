#pragma once
// Host-side tables of the boundary extension (layout in extension_layout.cuh).

#include <vector>

#include "backend/cuda/extension_layout.cuh"
#include "h5decon/shape.hpp"

namespace h5decon::cuda {

/// The geometry of `volume` extended for `psf` in `fft`. Throws BackendError when
/// `fft` cannot hold the extended volume.
RowGeometry make_row_geometry(Shape3 volume, Shape3 psf, Shape3 fft, Boundary boundary);

/// Every margin row (z or y outside the volume) with a non-zero extension, and
/// where it comes from; empty for the zero boundary.
std::vector<RowCopy> margin_row_table(Shape3 volume, Shape3 psf, Shape3 fft, Boundary boundary);

}  // namespace h5decon::cuda
