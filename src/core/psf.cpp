// PSF validation and normalisation.
#include "h5decon/psf.hpp"

#include <cmath>

#include "h5decon/error.hpp"

namespace h5decon {

Psf prepare_psf(Volume raw, const std::string& source, const Shape3& volume) {
  const Shape3 s = raw.shape;
  H5DECON_REQUIRE(s.size() > 0, InputError, "PSF ", source, ": it is empty (", s.str(), ")");
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(s[a] <= volume[a], InputError, "PSF ", source, ": its shape ", s.str(),
                    " is larger than the volume ", volume.str(), " on axis ", "zyx"[a],
                    "; crop the PSF");

  Psf psf{std::move(raw), source, 0};
  double sum = 0.0;
  for (float& v : psf.kernel.data) {
    H5DECON_REQUIRE(std::isfinite(v), InputError, "PSF ", source,
                    ": contains non-finite values (NaN or Inf)");
    if (v < 0.0f) {
      v = 0.0f;
      ++psf.clamped;
    }
    sum += v;
  }
  H5DECON_REQUIRE(sum > 0.0, InputError, "PSF ", source,
                  ": its sum is not positive (", sum, " after clamping negative values)");
  const double scale = 1.0 / sum;
  for (float& v : psf.kernel.data) v = static_cast<float>(v * scale);
  return psf;
}

}  // namespace h5decon
