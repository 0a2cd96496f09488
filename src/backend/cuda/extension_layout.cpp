// Host-side tables of the boundary extension (see extension_layout.cuh).
#include "backend/cuda/extension_layout.hpp"

#include "h5decon/error.hpp"

namespace h5decon::cuda {
namespace {

void require_fits(Shape3 volume, Shape3 psf, Shape3 fft) {
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(volume[a] > 0 && fft[a] >= volume[a] + 2 * (psf[a] / 2), BackendError,
                    "FFT shape ", fft.str(), " cannot hold volume ", volume.str(),
                    " extended for PSF ", psf.str());
}

}  // namespace

RowGeometry make_row_geometry(Shape3 volume, Shape3 psf, Shape3 fft, Boundary boundary) {
  require_fits(volume, psf, fft);
  return {volume.z, volume.y, volume.x, fft.y, fft.x, psf.x / 2, boundary};
}

std::vector<RowCopy> margin_row_table(Shape3 volume, Shape3 psf, Shape3 fft, Boundary boundary) {
  const RowGeometry g = make_row_geometry(volume, psf, fft, boundary);
  const auto zs = axis_entries(boundary, volume.z, psf.z / 2, fft.z);
  const auto ys = axis_entries(boundary, volume.y, psf.y / 2, fft.y);
  std::vector<RowCopy> table;
  for (const AxisEntry& z : zs)
    for (const AxisEntry& y : ys) {
      if (!(z.margin || y.margin) || z.source < 0 || y.source < 0) continue;
      table.push_back({g.row_offset(z.position, y.position), g.row_offset(z.source, y.source)});
    }
  return table;
}

}  // namespace h5decon::cuda
