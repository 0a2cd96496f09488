// crop_to_support(): crop_psf() applied to a prepared PSF, renormalised.
#include "psf_crop_step.hpp"

#include <cstdio>

#include "h5decon/psf_model.hpp"

namespace h5decon::app {

std::string crop_to_support(Psf& psf, double energy) {
  CroppedPsf cropped = crop_psf(psf.kernel, energy);
  double sum = 0;
  for (float v : cropped.psf.data) sum += v;
  for (float& v : cropped.psf.data) v = float(double(v) / sum);
  char kept[32];
  std::snprintf(kept, sizeof kept, "%.6f", cropped.energy_kept);
  const std::string line = "PSF cropped from " + cropped.original.str() + " to " +
                           cropped.psf.shape.str() + " (energy kept " + kept + ")";
  psf.kernel = std::move(cropped.psf);
  return line;
}

}  // namespace h5decon::app
