// Deterministic synthetic data. Built with -ffp-contract=off (src/CMakeLists.txt)
// so that no compiler fuses multiply-adds differently on different machines.
#include "h5decon/phantom.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 split for exact k * ln2
constexpr double kLn2Lo = 1.90821492927058770002e-10;

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// A seed for the noise of volume (c, t), independent of the scene's stream.
std::uint64_t noise_seed(std::uint64_t seed, std::int64_t c, std::int64_t t) {
  std::uint64_t state = seed ^ 0x6E6F697365ULL;  // "noise"
  state += static_cast<std::uint64_t>(c) * 0x100000001B3ULL + static_cast<std::uint64_t>(t);
  return splitmix64(state);
}

// Normalised 1D Gaussian of odd length n centred at n / 2.
std::vector<double> gaussian_kernel(std::int64_t n, double sigma) {
  std::vector<double> g(static_cast<std::size_t>(n));
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(i - n / 2);
    g[static_cast<std::size_t>(i)] = portable_exp(-d * d / (2.0 * sigma * sigma));
    sum += g[static_cast<std::size_t>(i)];
  }
  for (double& v : g) v /= sum;
  return g;
}

// Index i mirrored into [0, n) about the edge voxels' outer faces (... b a | a b ...).
std::int64_t reflect_index(std::int64_t i, std::int64_t n) {
  const std::int64_t period = 2 * n;
  std::int64_t m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

// Convolves every line of `in` along `axis` with the symmetric kernel g.
std::vector<double> convolve_axis(const std::vector<double>& in, const Shape3& s, int axis,
                                  const std::vector<double>& g) {
  const std::int64_t n = s[axis];
  const std::int64_t stride = axis == 2 ? 1 : axis == 1 ? s.x : s.x * s.y;
  const std::int64_t half = static_cast<std::int64_t>(g.size()) / 2;
  const std::int64_t lines = s.size() / n;
  std::vector<double> out(in.size());
  std::vector<double> buf(static_cast<std::size_t>(n + 2 * half));
  for (std::int64_t line = 0; line < lines; ++line) {
    // Line `line` starts at the voxel whose coordinate along `axis` is 0.
    const std::int64_t outer = line / stride, inner = line % stride;
    const std::int64_t base = outer * stride * n + inner;
    for (std::int64_t i = -half; i < n + half; ++i)
      buf[static_cast<std::size_t>(i + half)] =
          in[static_cast<std::size_t>(base + reflect_index(i, n) * stride)];
    for (std::int64_t i = 0; i < n; ++i) {
      double acc = 0;
      for (std::size_t k = 0; k < g.size(); ++k) acc += g[k] * buf[static_cast<std::size_t>(i) + k];
      out[static_cast<std::size_t>(base + i * stride)] = acc;
    }
  }
  return out;
}

}  // namespace

// ---- random numbers ---------------------------------------------------------

Rng::Rng(std::uint64_t seed) {
  std::uint64_t state = seed;
  for (auto& s : s_) s = splitmix64(state);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  for (;;) {
    const double u = 2.0 * uniform() - 1.0, v = 2.0 * uniform() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * portable_log(s) / s);
  }
}

std::int64_t poisson(Rng& rng, double mean) {
  H5DECON_REQUIRE(mean >= 0 && std::isfinite(mean), InputError,
                  "Poisson mean must be finite and >= 0, got ", mean);
  if (mean >= 30.0) {
    const double k = std::floor(mean + std::sqrt(mean) * rng.normal() + 0.5);
    return k < 0 ? 0 : static_cast<std::int64_t>(k);
  }
  const double limit = portable_exp(-mean);
  std::int64_t k = 0;
  for (double p = rng.uniform(); p > limit; p *= rng.uniform()) ++k;
  return k;
}

double portable_exp(double x) {
  if (std::isnan(x)) return x;
  if (x < -745.2) return 0.0;
  if (x > 709.7) return std::numeric_limits<double>::infinity();
  const double k = std::floor(x / (kLn2Hi + kLn2Lo) + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln2 / 2
  double p = 1.0;
  for (int n = 18; n >= 1; --n) p = 1.0 + p * r / n;  // Taylor, Horner form
  return std::ldexp(p, static_cast<int>(k));
}

double portable_log(double x) {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // x = m 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --e;
  }
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;  // |t| < 0.172
  double s = 0.0;
  for (int n = 23; n >= 1; n -= 2) s = 2.0 / n + t2 * s;  // atanh series
  return (e * kLn2Hi + t * s) + e * kLn2Lo;
}

// ---- presets and PSF ------------------------------------------------------------

std::vector<std::string> phantom_preset_names() { return {"small", "medium", "stack"}; }

PhantomSpec phantom_preset(std::string_view name) {
  // A light-sheet detection PSF: axial extent ~3x the lateral one, plus a faint,
  // wider axial component (10% of the flux) from out-of-focus light.
  auto model = [](Shape3 shape, double sxy) {
    return PsfModel{shape, 3.0 * sxy, sxy, 5.5 * sxy, 1.4 * sxy, 0.10};
  };
  PhantomSpec spec;
  spec.preset = std::string(name);
  if (name == "small") {
    spec.volume = {64, 128, 128};
    spec.psfs = {model({25, 13, 13}, 1.3)};
  } else if (name == "medium") {
    spec.volume = {128, 256, 256};
    spec.psfs = {model({33, 17, 17}, 1.8)};
  } else if (name == "stack") {
    spec.channels = 2;
    spec.times = 3;
    spec.volume = {48, 96, 96};
    // Channel 1: a longer wavelength, so a ~20% wider PSF (one array shape for /psf).
    spec.psfs = {model({25, 13, 13}, 1.2), model({25, 13, 13}, 1.45)};
  } else {
    throw InputError("unknown preset '" + std::string(name) + "' (valid: small, medium, stack)");
  }
  return spec;
}

Volume make_psf(const PsfModel& m) {
  for (int a = 0; a < 3; ++a)
    H5DECON_REQUIRE(m.shape[a] > 0 && m.shape[a] % 2 == 1, InputError,
                    "PSF model sizes must be odd, got ", m.shape.str());
  const double w[2] = {1.0 - m.tail_weight, m.tail_weight};
  const std::vector<double> g[2][3] = {
      {gaussian_kernel(m.shape.z, m.sigma_z), gaussian_kernel(m.shape.y, m.sigma_xy),
       gaussian_kernel(m.shape.x, m.sigma_xy)},
      {gaussian_kernel(m.shape.z, m.tail_sigma_z), gaussian_kernel(m.shape.y, m.tail_sigma_xy),
       gaussian_kernel(m.shape.x, m.tail_sigma_xy)}};
  std::vector<double> v(static_cast<std::size_t>(m.shape.size()));
  double sum = 0;
  std::size_t i = 0;
  for (std::size_t z = 0; z < g[0][0].size(); ++z)
    for (std::size_t y = 0; y < g[0][1].size(); ++y)
      for (std::size_t x = 0; x < g[0][2].size(); ++x, ++i) {
        v[i] = w[0] * g[0][0][z] * g[0][1][y] * g[0][2][x] +
               w[1] * g[1][0][z] * g[1][1][y] * g[1][2][x];
        sum += v[i];
      }
  Volume psf(m.shape);
  for (std::size_t j = 0; j < v.size(); ++j) psf.data[j] = static_cast<float>(v[j] / sum);
  return psf;
}

Volume blur_reflect(const Volume& f, const PsfModel& m) {
  const std::vector<double> in(f.data.begin(), f.data.end());
  std::vector<double> acc(in.size(), 0.0);
  const double weights[2] = {1.0 - m.tail_weight, m.tail_weight};
  const double sz[2] = {m.sigma_z, m.tail_sigma_z}, sxy[2] = {m.sigma_xy, m.tail_sigma_xy};
  for (int term = 0; term < 2; ++term) {
    if (weights[term] == 0.0) continue;
    auto b = convolve_axis(in, f.shape, 2, gaussian_kernel(m.shape.x, sxy[term]));
    b = convolve_axis(b, f.shape, 1, gaussian_kernel(m.shape.y, sxy[term]));
    b = convolve_axis(b, f.shape, 0, gaussian_kernel(m.shape.z, sz[term]));
    for (std::size_t i = 0; i < acc.size(); ++i) acc[i] += weights[term] * b[i];
  }
  Volume out(f.shape);
  for (std::size_t i = 0; i < acc.size(); ++i) out.data[i] = static_cast<float>(acc[i]);
  return out;
}

// ---- scene ---------------------------------------------------------------------------

namespace {

// A random unit vector, by rejection in the cube (no trigonometry: libm-free).
void random_direction(Rng& rng, double out[3]) {
  for (;;) {
    double v[3], n2 = 0;
    for (double& c : v) {
      c = rng.uniform(-1.0, 1.0);
      n2 += c * c;
    }
    if (n2 > 0.01 && n2 <= 1.0) {
      const double n = std::sqrt(n2);
      for (int a = 0; a < 3; ++a) out[a] = v[a] / n;
      return;
    }
  }
}

PhantomObject random_object(Rng& rng, PhantomObject::Kind kind, const PhantomSpec& spec) {
  PhantomObject o;
  o.kind = kind;
  for (int a = 0; a < 3; ++a) {
    o.centre[a] = rng.uniform(0.0, static_cast<double>(spec.volume[a]));
    o.velocity[a] = rng.uniform(-1.0, 1.0) * (a == 0 ? 0.5 : 1.0);  // voxels per time point
  }
  double base = 1.0;
  if (kind == PhantomObject::Kind::ellipsoid) {
    const double r = rng.uniform(2.5, 8.0);
    for (double& radius : o.radii) radius = r * rng.uniform(0.7, 1.3);
    base = rng.uniform(0.2, 0.6);
  } else if (kind == PhantomObject::Kind::filament) {
    o.radii[0] = rng.uniform(0.6, 1.2);
    o.length = rng.uniform(20.0, 60.0);
    random_direction(rng, o.direction);
    base = rng.uniform(0.5, 1.0);
  } else {
    base = rng.uniform(0.3, 0.8);
  }
  for (std::int64_t c = 0; c < spec.channels; ++c) {
    // In multi-channel data most objects are labelled in some channels only.
    const bool labelled = spec.channels == 1 || rng.uniform() < 0.7;
    double b = labelled ? base : 0.1 * base;
    // A point's flux spreads over the PSF's ~100 voxels: brighter, to be seen,
    // but not so bright that points alone set the truth's maximum (and PSNR's peak).
    if (kind == PhantomObject::Kind::point) b *= 4.0;
    o.brightness.push_back(b);
  }
  return o;
}

double clamp01(double v) { return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v; }

// Partial-volume coverage of voxel p by object o placed at `at`.
double coverage(const PhantomObject& o, const double at[3], const double p[3]) {
  double d[3];
  for (int a = 0; a < 3; ++a) d[a] = p[a] - at[a];
  if (o.kind == PhantomObject::Kind::ellipsoid) {
    double q2 = 0;
    for (int a = 0; a < 3; ++a) q2 += (d[a] / o.radii[a]) * (d[a] / o.radii[a]);
    const double mean_r = (o.radii[0] + o.radii[1] + o.radii[2]) / 3.0;
    return clamp01((1.0 - std::sqrt(q2)) * mean_r + 0.5);
  }
  double s = d[0] * o.direction[0] + d[1] * o.direction[1] + d[2] * o.direction[2];
  s = std::clamp(s, -0.5 * o.length, 0.5 * o.length);
  double r2 = 0;
  for (int a = 0; a < 3; ++a) r2 += (d[a] - s * o.direction[a]) * (d[a] - s * o.direction[a]);
  return clamp01(o.radii[0] - std::sqrt(r2) + 0.5);
}

// Adds object o (brightness b) at time t into v, visiting only its bounding box.
void draw(const PhantomObject& o, double b, double t, Volume& v) {
  double at[3], ext[3];
  for (int a = 0; a < 3; ++a) {
    at[a] = o.centre[a] + t * o.velocity[a];
    ext[a] = o.kind == PhantomObject::Kind::ellipsoid
                 ? o.radii[a] + 1.0
                 : 0.5 * o.length * std::fabs(o.direction[a]) + o.radii[0] + 1.0;
  }
  if (o.kind == PhantomObject::Kind::point) {
    std::int64_t i[3];
    for (int a = 0; a < 3; ++a) {
      i[a] = static_cast<std::int64_t>(std::floor(at[a] + 0.5));
      if (i[a] < 0 || i[a] >= v.shape[a]) return;
    }
    v.at(i[0], i[1], i[2]) += static_cast<float>(b);
    return;
  }
  std::int64_t lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    lo[a] = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(at[a] - ext[a])));
    hi[a] = std::min<std::int64_t>(v.shape[a],
                                   static_cast<std::int64_t>(std::ceil(at[a] + ext[a])) + 1);
  }
  for (std::int64_t z = lo[0]; z < hi[0]; ++z)
    for (std::int64_t y = lo[1]; y < hi[1]; ++y)
      for (std::int64_t x = lo[2]; x < hi[2]; ++x) {
        const double p[3] = {static_cast<double>(z), static_cast<double>(y),
                             static_cast<double>(x)};
        const double c = coverage(o, at, p);
        if (c > 0.0) v.at(z, y, x) += static_cast<float>(b * c);
      }
}

}  // namespace

Phantom::Phantom(PhantomSpec spec, std::uint64_t seed) : spec_(std::move(spec)), seed_(seed) {
  H5DECON_REQUIRE(static_cast<std::int64_t>(spec_.psfs.size()) == spec_.channels, InputError,
                  "phantom: one PSF model per channel needed");
  // Object counts scale with the volume: 14 spheres, 10 filaments, 16 points per 1 Mvoxel.
  const double unit = static_cast<double>(spec_.volume.size()) / (64.0 * 128.0 * 128.0);
  const auto count = [unit](double n) { return static_cast<int>(std::floor(n * unit + 0.5)); };
  Rng rng(seed_);
  const std::pair<PhantomObject::Kind, int> kinds[] = {{PhantomObject::Kind::ellipsoid, count(14)},
                                                       {PhantomObject::Kind::filament, count(10)},
                                                       {PhantomObject::Kind::point, count(16)}};
  for (const auto& [kind, n] : kinds)
    for (int i = 0; i < std::max(n, 1); ++i) objects_.push_back(random_object(rng, kind, spec_));
}

Volume Phantom::render(std::int64_t c, std::int64_t t) const {
  Volume v(spec_.volume);
  for (const PhantomObject& o : objects_)
    draw(o, o.brightness[static_cast<std::size_t>(c)], static_cast<double>(t), v);
  return v;
}

PhantomVolume Phantom::volume(std::int64_t c, std::int64_t t) const {
  H5DECON_REQUIRE(c >= 0 && c < spec_.channels && t >= 0 && t < spec_.times, InputError,
                  "phantom: no volume c=", c, " t=", t);
  const PsfModel& model = spec_.psfs[static_cast<std::size_t>(c)];
  PhantomVolume out;
  out.truth = render(c, t);
  out.blurred = blur_reflect(out.truth, model);
  const float top = *std::max_element(out.blurred.data.begin(), out.blurred.data.end());
  // Scale to `peak` photons, then add the background; blurring is linear and the
  // PSF sums to 1, so blurred stays the blur of truth.
  const double scale = top > 0.0f ? spec_.peak / top : 1.0;
  const double background = spec_.background * spec_.peak;
  for (auto* v : {&out.truth, &out.blurred})
    for (float& x : v->data) x = static_cast<float>(x * scale + background);
  Rng rng(noise_seed(seed_, c, t));
  out.data = Volume(spec_.volume);
  for (std::size_t i = 0; i < out.data.data.size(); ++i)
    out.data.data[i] = static_cast<float>(poisson(rng, out.blurred.data[i]));
  return out;
}

}  // namespace h5decon
