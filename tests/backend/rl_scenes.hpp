#pragma once
// Small synthetic scenes with ground truth for the RL feature tests of every backend.

#include <string_view>

#include "h5decon/backend.hpp"
#include "h5decon/phantom.hpp"
#include "h5decon/psf.hpp"

namespace h5decon::test {

/// Truth, noisy data and PSF of one small phantom volume.
struct Scene {
  Volume truth, data;
  Psf psf;
  Volume whole;     ///< cropped_scene(): the data before the crop
  Shape3 offset{};  ///< cropped_scene(): where the crop starts in `whole`
};

/// A phantom of `volume` voxels blurred by a light-sheet-like PSF of `psf`
/// voxels, Poisson noise at `peak` photons; background as a fraction of peak.
Scene phantom_scene(Shape3 volume, Shape3 psf, double peak, double background, unsigned seed);

/// The same kind of scene rendered on a volume larger by the PSF on every side
/// and cropped: objects beyond the edges blur into the data, as in a real field
/// of view. No boundary mode is the truth there.
Scene cropped_scene(Shape3 volume, Shape3 psf, double peak, unsigned seed);

/// Runs `kind`'s engine on `d` with estimate planning and `threads` threads.
Volume run_engine(std::string_view kind, const Volume& d, const Psf& psf, const RlOptions& o,
                  const IterationObserver& observer = {}, int threads = 0, Shape3 fft = {});

}  // namespace h5decon::test
