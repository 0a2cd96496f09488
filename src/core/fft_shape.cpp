// FFT-friendly padded shapes.
#include "h5decon/fft_shape.hpp"

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

bool is_fast(std::int64_t n) {
  for (std::int64_t p : {2, 3, 5, 7})
    while (n % p == 0) n /= p;
  return n == 1;
}

std::int64_t margin(std::int64_t psf_extent) { return psf_extent / 2; }

}  // namespace

std::int64_t next_fast_size(std::int64_t n) {
  H5DECON_REQUIRE(n >= 1, Error, "next_fast_size: size must be positive, got ", n);
  while (!is_fast(n)) ++n;
  return n;
}

Shape3 padded_shape(const Shape3& volume, const Shape3& psf) {
  Shape3 out;
  for (int a = 0; a < 3; ++a) out[a] = next_fast_size(volume[a] + 2 * margin(psf[a]));
  while (out.x % 2 != 0) out.x = next_fast_size(out.x + 1);
  return out;
}

bool fits_linear_convolution(const Shape3& fft, const Shape3& volume, const Shape3& psf) {
  for (int a = 0; a < 3; ++a)
    if (fft[a] < volume[a] + 2 * margin(psf[a])) return false;
  return fft.x % 2 == 0;
}

Shape3 resolve_fft_shape(const Shape3& volume, const Shape3& psf, const Shape3& fft) {
  if (fft.size() == 0) return padded_shape(volume, psf);
  H5DECON_REQUIRE(fits_linear_convolution(fft, volume, psf), InputError, "FFT shape ", fft.str(),
                  " is too small for volume ", volume.str(), " and PSF ", psf.str(),
                  " (needs volume + 2*(psf/2) per axis, last axis even)");
  return fft;
}

}  // namespace h5decon
