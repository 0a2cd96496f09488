#pragma once
// Deterministic synthetic light-sheet data (`h5decon synth`): ground truth,
// detection PSF, blur and Poisson noise. The same seed gives the same bits on
// every machine: our own PRNG, Poisson sampler and exp/log built from IEEE basic
// operations only (std:: distributions and libm are implementation-defined).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "h5decon/shape.hpp"
#include "h5decon/volume.hpp"

namespace h5decon {

/// xoshiro256** seeded through splitmix64: small, fast, identical everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  /// The next 64 random bits.
  std::uint64_t next();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// A standard normal deviate (Marsaglia's polar method).
  double normal();

 private:
  std::uint64_t s_[4];
};

/// A Poisson deviate of mean `mean` >= 0: Knuth's product method below 30, a
/// rounded normal approximation (mean + sqrt(mean) z, clamped at 0) above.
std::int64_t poisson(Rng& rng, double mean);

/// exp(x) and log(x) from basic operations only, so results do not depend on libm.
double portable_exp(double x);
double portable_log(double x);

/// One detection PSF: a Gaussian core plus a faint, wider axial component,
/// both separable; sigmas in voxels.
struct PsfModel {
  Shape3 shape;                                ///< odd on every axis
  double sigma_z = 0, sigma_xy = 0;            ///< core
  double tail_sigma_z = 0, tail_sigma_xy = 0;  ///< faint axial component
  double tail_weight = 0;                      ///< share of the total flux in the faint component
};

/// The size and content of a synthetic data set.
struct PhantomSpec {
  std::string preset;
  std::int64_t channels = 1, times = 1;
  Shape3 volume;
  std::vector<PsfModel> psfs;  ///< one per channel
  double peak = 1000.0;        ///< photons at the brightest blurred voxel of t = 0
  double background = 0.02;    ///< constant background, as a fraction of `peak`
};

/// The preset named "small", "medium" or "stack"; throws InputError otherwise.
PhantomSpec phantom_preset(std::string_view name);
/// The names accepted by phantom_preset(), for help texts.
std::vector<std::string> phantom_preset_names();

/// The PSF volume of `model`: float32, sum 1, centre voxel n/2, symmetric.
Volume make_psf(const PsfModel& model);

/// Ground truth, blurred image and noisy data of one (c, t) volume.
struct PhantomVolume {
  Volume truth;    ///< photons per voxel before blur, background included
  Volume blurred;  ///< truth convolved with the channel's PSF (reflect boundary)
  Volume data;     ///< Poisson(blurred): whole numbers
};

/// One object of the scene; positions in voxels (z, y, x), at time t it sits at
/// centre + t * velocity.
struct PhantomObject {
  enum class Kind { ellipsoid, filament, point };
  Kind kind = Kind::point;
  double centre[3] = {0, 0, 0};
  double velocity[3] = {0, 0, 0};
  double radii[3] = {0, 0, 0};      ///< ellipsoid semi-axes; [0] is a filament's radius
  double direction[3] = {0, 0, 0};  ///< filament: unit vector; it spans centre +- length/2
  double length = 0;
  std::vector<double> brightness;  ///< per channel, before scaling to photons
};

/// Generates a whole synthetic data set. Each (c, t) volume is scaled so that its
/// blurred image peaks at spec.peak photons above the constant background.
class Phantom {
 public:
  Phantom(PhantomSpec spec, std::uint64_t seed);
  const PhantomSpec& spec() const { return spec_; }
  /// The PSF of channel c.
  Volume psf(std::int64_t c) const { return make_psf(spec_.psfs.at(static_cast<std::size_t>(c))); }
  /// Truth, blur and noise of volume (c, t). Deterministic for a (seed, c, t).
  PhantomVolume volume(std::int64_t c, std::int64_t t) const;

  /// The objects of the scene, for tests.
  const std::vector<PhantomObject>& objects() const { return objects_; }

 private:
  Volume render(std::int64_t c, std::int64_t t) const;

  PhantomSpec spec_;
  std::uint64_t seed_;
  std::vector<PhantomObject> objects_;
};

/// Blurs `f` with `model`'s PSF under the reflect boundary, in double precision,
/// as a sum of separable 1D convolutions (exact for our PSFs, and deterministic).
Volume blur_reflect(const Volume& f, const PsfModel& model);

}  // namespace h5decon
