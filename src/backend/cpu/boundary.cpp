// Boundary extension of volumes inside FFT arrays.
#include "backend/cpu/boundary.hpp"

#include <algorithm>
#include <cstring>

#include "h5decon/error.hpp"

namespace h5decon::cpu {
namespace {

// Positions of an axis that hold a possibly non-zero value, as merged intervals.
Ranges live_positions(const std::vector<AxisEntry>& axis) {
  std::vector<std::int64_t> pos;
  for (const AxisEntry& a : axis)
    if (a.source >= 0) pos.push_back(a.position);
  std::sort(pos.begin(), pos.end());
  Ranges out;
  for (std::int64_t p : pos) {
    if (!out.empty() && out.back().end == p)
      ++out.back().end;
    else
      out.push_back({p, p + 1});
  }
  return out;
}

}  // namespace

// 16 floats: 64 bytes, the widest SIMD alignment FFTW may exploit.
std::int64_t padded_row(std::int64_t n) { return (n + 15) / 16 * 16; }

ExtensionLayout::ExtensionLayout(Shape3 volume, Shape3 psf, Shape3 fft, Boundary boundary)
    : volume_(volume), fft_(fft), row_stride_(padded_row(fft.x)) {
  std::vector<AxisEntry> axes[3];
  for (int a = 0; a < 3; ++a) {
    const std::int64_t m = psf[a] / 2;
    H5DECON_REQUIRE(fft[a] >= volume[a] + 2 * m, Error, "FFT shape ", fft.str(),
                    " cannot hold volume ", volume.str(), " extended for PSF ", psf.str());
    axes[a] = axis_entries(boundary, volume[a], m, fft[a]);
  }
  live_rows_ = live_positions(axes[1]);
  plane_sources_.assign(static_cast<std::size_t>(fft.z), -1);
  for (const AxisEntry& z : axes[0]) plane_sources_[static_cast<std::size_t>(z.position)] = z.source;
  for (const AxisEntry& x : axes[2])
    if (x.margin && x.source >= 0) x_margin_.push_back({x.position, x.source});
  for (const AxisEntry& y : axes[1])
    if (y.margin && y.source >= 0)
      margin_rows_.push_back({y.position * row_stride_, y.source * row_stride_});
}

void ExtensionLayout::complete_plane(float* plane) const {
  const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(fft_.x);
  for (const auto& [dst, src] : margin_rows_) std::memcpy(plane + dst, plane + src, bytes);
}

}  // namespace h5decon::cpu
