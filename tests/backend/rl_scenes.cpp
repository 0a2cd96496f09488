#include "backend/rl_scenes.hpp"

#include "backend/reference.hpp"

namespace h5decon::test {
namespace {

PhantomSpec spec_of(Shape3 volume, Shape3 psf, double peak, double background) {
  PhantomSpec spec;
  spec.preset = "test";
  spec.volume = volume;
  const double sxy = 1.2;
  spec.psfs = {PsfModel{psf, 3.0 * sxy, sxy, 5.5 * sxy, 1.4 * sxy, 0.10}};
  spec.peak = peak;
  spec.background = background;
  return spec;
}

}  // namespace

Scene phantom_scene(Shape3 volume, Shape3 psf, double peak, double background, unsigned seed) {
  const Phantom p(spec_of(volume, psf, peak, background), seed);
  PhantomVolume v = p.volume(0, 0);
  return {std::move(v.truth), std::move(v.data), Psf{p.psf(0), "phantom", 0}, {}, {}};
}

Scene cropped_scene(Shape3 volume, Shape3 psf, double peak, unsigned seed) {
  const Shape3 big{volume.z + 2 * psf.z, volume.y + 2 * psf.y, volume.x + 2 * psf.x};
  Scene s = phantom_scene(big, psf, peak, 0.02, seed);
  s.truth = crop(s.truth, psf, volume);
  s.whole = std::move(s.data);
  s.offset = psf;
  s.data = crop(s.whole, psf, volume);
  return s;
}

Volume run_engine(std::string_view kind, const Volume& d, const Psf& psf, const RlOptions& o,
                  const IterationObserver& observer, int threads, Shape3 fft) {
  BackendOptions b;
  b.planner = FftPlanner::estimate;
  b.threads = threads;
  auto engine = make_backend(kind, b)->make_engine(psf, d.shape, o, fft);
  Volume u(d.shape);
  engine->deconvolve(d.span(), u.span(), observer);
  return u;
}

}  // namespace h5decon::test
