// The extension layout of a z-slab distributed FFT array; see slab_geometry.hpp.
#include "backend/fftw_mpi/slab_geometry.hpp"

#include <algorithm>
#include <cstring>

#include "h5decon/detail/boundary_index.hpp"
#include "h5decon/error.hpp"

namespace h5decon::exact {
namespace {

// For each position of an axis of extent p: the operand index it holds, or -1.
std::vector<std::int64_t> axis_sources(Boundary b, std::int64_t n, std::int64_t m, std::int64_t p) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(p), -1);
  for (std::int64_t j = -m; j < n + m; ++j)
    out[static_cast<std::size_t>(positive_mod(j, p))] = boundary_source(b, j, n);
  return out;
}

}  // namespace

SlabGeometry::SlabGeometry(Shape3 domain, Shape3 psf, Boundary boundary, Shape3 fft,
                           std::vector<std::int64_t> starts, std::vector<std::int64_t> counts,
                           int rank)
    : domain_(domain), fft_(fft), starts_(std::move(starts)), counts_(std::move(counts)), rank_(rank) {
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(fft[a] >= domain[a] + 2 * (psf[a] / 2), Error, "FFT shape ", fft.str(),
                    " cannot hold ", domain.str(), " extended for PSF ", psf.str());
  planes_ = axis_sources(boundary, domain.z, psf.z / 2, fft.z);
  rows_ = axis_sources(boundary, domain.y, psf.y / 2, fft.y);
  cols_ = axis_sources(boundary, domain.x, psf.x / 2, fft.x);
}

PlaneRange SlabGeometry::domain_planes(int r) const {
  const PlaneRange f = fft_planes(r);
  return {std::min(f.begin, domain_.z), std::min(f.end, domain_.z)};
}

int SlabGeometry::owner(std::int64_t s) const {
  for (int r = 0; r < ranks(); ++r)
    if (s >= starts_[r] && s < starts_[r] + counts_[r]) return r;
  throw Error(detail::concat("SlabGeometry: no rank owns plane ", s));
}

void SlabGeometry::extend_plane(float* dst, const float* src, std::int64_t stride) const {
  const std::int64_t nx = domain_.x, px = fft_.x;
  for (std::int64_t y = 0; y < domain_.y; ++y) {
    float* row = dst + y * stride;
    if (src) std::memcpy(row, src + y * nx, sizeof(float) * static_cast<std::size_t>(nx));
    for (std::int64_t x = nx; x < px; ++x) row[x] = cols_[x] >= 0 ? row[cols_[x]] : 0.0f;
  }
  for (std::int64_t y = domain_.y; y < fft_.y; ++y) {
    float* row = dst + y * stride;
    if (rows_[y] >= 0)
      std::memcpy(row, dst + rows_[y] * stride, sizeof(float) * static_cast<std::size_t>(px));
    else
      std::fill_n(row, px, 0.0f);
  }
}

}  // namespace h5decon::exact
