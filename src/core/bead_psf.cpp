// psf_from_beads(): a PSF measured from an image of beads (include/h5decon/bead_psf.hpp).
#include "h5decon/bead_psf.hpp"

#include <algorithm>
#include <cmath>

#include "h5decon/error.hpp"
#include "h5decon/psf_model.hpp"

namespace h5decon {
namespace {

double median_of(std::vector<float> v) {
  auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// Keys' cubic convolution kernel (a = -1/2): interpolates without the smoothing of
// linear interpolation, which would widen a sharp PSF by up to a quarter voxel².
double keys(double t) {
  t = std::abs(t);
  if (t < 1) return (1.5 * t - 2.5) * t * t + 1;
  if (t < 2) return ((-0.5 * t + 2.5) * t - 4) * t + 2;
  return 0;
}

// Cubic value of `v` at fractional index p (4 x 4 x 4 neighbours); 0 outside.
double sample(const Volume& v, const double p[3]) {
  std::int64_t i0[3];
  double w[3][4];
  for (int a = 0; a < 3; ++a) {
    const double f = std::floor(p[a]);
    i0[a] = std::int64_t(f) - 1;
    for (int k = 0; k < 4; ++k) w[a][k] = keys(p[a] - (f - 1 + k));
  }
  double sum = 0;
  for (int kz = 0; kz < 4; ++kz) {
    const std::int64_t z = i0[0] + kz;
    if (z < 0 || z >= v.shape.z) continue;
    for (int ky = 0; ky < 4; ++ky) {
      const std::int64_t y = i0[1] + ky;
      if (y < 0 || y >= v.shape.y) continue;
      for (int kx = 0; kx < 4; ++kx) {
        const std::int64_t x = i0[2] + kx;
        if (x < 0 || x >= v.shape.x) continue;
        sum += w[0][kz] * w[1][ky] * w[2][kx] * v.at(z, y, x);
      }
    }
  }
  return sum;
}

// Local maxima of `d` (background subtracted) above `threshold`: the largest value
// within +-1 voxel, brightest first.
std::vector<Bead> peaks(const Volume& d, double threshold) {
  std::vector<Bead> out;
  const Shape3 s = d.shape;
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        const float v = d.at(z, y, x);
        if (v <= threshold) continue;
        bool top = true;
        for (std::int64_t dz = -1; dz <= 1 && top; ++dz)
          for (std::int64_t dy = -1; dy <= 1 && top; ++dy)
            for (std::int64_t dx = -1; dx <= 1 && top; ++dx) {
              const std::int64_t a = z + dz, b = y + dy, c = x + dx;
              if (!(dz || dy || dx) || a < 0 || b < 0 || c < 0 || a >= s.z || b >= s.y || c >= s.x)
                continue;
              // A plateau counts once: at its first voxel in scan order.
              const bool earlier = dz < 0 || (dz == 0 && (dy < 0 || (dy == 0 && dx < 0)));
              const float n = d.at(a, b, c);
              top = n < v || (n == v && !earlier);
            }
        if (top) out.push_back({double(z), double(y), double(x), v});
      }
  std::sort(out.begin(), out.end(), [](const Bead& a, const Bead& b) { return a.peak > b.peak; });
  return out;
}

// The intensity-weighted centre of the voxels within a quarter box of the current
// estimate, three times, each window centred on the last estimate's nearest voxel
// (a window centred near the bead keeps the truncation's bias small).
void refine(const Volume& d, Bead& b, Shape3 box) {
  const std::int64_t w[3] = {std::max<std::int64_t>(2, box.z / 4),
                             std::max<std::int64_t>(2, box.y / 4),
                             std::max<std::int64_t>(2, box.x / 4)};
  for (int pass = 0; pass < 3; ++pass) {
    const std::int64_t c[3] = {std::llround(b.z), std::llround(b.y), std::llround(b.x)};
    double m[3] = {0, 0, 0}, sum = 0;
    for (std::int64_t z = c[0] - w[0]; z <= c[0] + w[0]; ++z)
      for (std::int64_t y = c[1] - w[1]; y <= c[1] + w[1]; ++y)
        for (std::int64_t x = c[2] - w[2]; x <= c[2] + w[2]; ++x) {
          if (z < 0 || y < 0 || x < 0 || z >= d.shape.z || y >= d.shape.y || x >= d.shape.x)
            continue;
          const double v = std::max(0.0f, d.at(z, y, x));
          m[0] += v * double(z);
          m[1] += v * double(y);
          m[2] += v * double(x);
          sum += v;
        }
    if (sum <= 0) return;
    b.z = m[0] / sum;
    b.y = m[1] / sum;
    b.x = m[2] / sum;
  }
}

}  // namespace

std::array<double, 3> fwhm_voxels(const Volume& psf) {
  const Shape3 s = psf.shape;
  const Shape3 c{s.z / 2, s.y / 2, s.x / 2};
  const double half = 0.5 * psf.at(c.z, c.y, c.x);
  std::array<double, 3> out{};
  for (int a = 0; a < 3; ++a) {
    auto value = [&](std::int64_t i) {
      Shape3 p = c;
      p[a] = i;
      return double(psf.at(p.z, p.y, p.x));
    };
    double edges[2] = {0, double(s[a] - 1)};
    for (int side = 0; side < 2; ++side) {
      const std::int64_t step = side ? 1 : -1;
      for (std::int64_t i = c[a]; i + step >= 0 && i + step < s[a]; i += step) {
        const double v0 = value(i), v1 = value(i + step);
        if (v1 < half) {
          // Where the crossing lies between voxels i and i + step: a parabola in log
          // values through i - step, i and i + step (exact for a Gaussian), else linear.
          double t = (v0 - half) / (v0 - v1);
          const double vm = i - step >= 0 && i - step < s[a] ? value(i - step) : 0.0;
          if (v1 > 0 && vm > 0) {
            const double l0 = std::log(v0), l1 = std::log(v1), lm = std::log(vm),
                         lh = std::log(half);
            const double qa = 0.5 * (l1 + lm) - l0, qb = 0.5 * (l1 - lm), qc = l0 - lh;
            if (std::abs(qa) > 1e-12) {
              const double disc = qb * qb - 4 * qa * qc;
              if (disc >= 0) {
                for (const double root : {(-qb + std::sqrt(disc)) / (2 * qa),
                                          (-qb - std::sqrt(disc)) / (2 * qa)})
                  if (root >= 0 && root <= 1) t = root;
              }
            }
          }
          edges[side] = double(i) + double(step) * t;
          break;
        }
      }
    }
    out[std::size_t(a)] = edges[1] - edges[0];
  }
  return out;
}

// The 3x3x3 mean of `d` (edges: the voxels inside): the noise of detection down.
Volume smoothed(const Volume& d) {
  const Shape3 s = d.shape;
  Volume out(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        double sum = 0;
        int n = 0;
        for (std::int64_t a = std::max<std::int64_t>(z - 1, 0); a <= std::min(z + 1, s.z - 1); ++a)
          for (std::int64_t b = std::max<std::int64_t>(y - 1, 0); b <= std::min(y + 1, s.y - 1); ++b)
            for (std::int64_t c = std::max<std::int64_t>(x - 1, 0); c <= std::min(x + 1, s.x - 1);
                 ++c, ++n)
              sum += d.at(a, b, c);
        out.at(z, y, x) = float(sum / n);
      }
  return out;
}

// Per axis the largest odd extent up to 31 that half of `beads` fit with the margin
// the interpolation needs (2 voxels before, 3 after).
Shape3 auto_box(const std::vector<Bead>& beads, Shape3 s) {
  Shape3 box{1, 1, 1};
  for (int a = 0; a < 3; ++a) {
    std::vector<std::int64_t> fits;
    for (const Bead& b : beads) {
      const double at[3] = {b.z, b.y, b.x};
      const double room = std::min(at[a] - 2, double(s[a] - 3) - at[a]);
      fits.push_back(room < 0 ? 1 : 2 * std::int64_t(std::floor(room)) + 1);
    }
    if (fits.empty()) continue;
    std::sort(fits.begin(), fits.end(), std::greater<>());
    box[a] = std::clamp<std::int64_t>(fits[(fits.size() - 1) / 2], 1, 31);
  }
  return box;
}

BeadPsf psf_from_beads(const Volume& image, const BeadPsfOptions& o) {
  BeadPsf r;
  const Shape3 s = image.shape;
  Shape3 box = o.box;
  const bool automatic = box == Shape3{0, 0, 0};
  for (int a = 0; a < 3 && !automatic; ++a)
    H5DECON_REQUIRE(box[a] >= 1 && box[a] % 2 == 1, InputError, "--box ", box.str(),
                    ": each extent must be odd (the bead at the centre voxel)");
  if (automatic) box = {31, 31, 31};  // for the shoulders; the cut's box comes below
  r.background = median_of(image.data);
  std::vector<float> dev(image.data.size());
  for (std::size_t i = 0; i < dev.size(); ++i) dev[i] = std::abs(image.data[i] - float(r.background));
  // Photon noise at least: counts of 1-8 have a MAD of 0.
  const double sigma =
      std::max({1.4826 * median_of(dev), std::sqrt(std::max(r.background, 1.0)), 1e-6});
  Volume d(s);
  for (std::size_t i = 0; i < d.data.size(); ++i) d.data[i] = image.data[i] - float(r.background);
  // Detection on the 3x3x3 mean (noise sigma / sqrt(27)); a bead stands out from the
  // noise and reaches a tenth of the brightest.
  const Volume m = smoothed(d);
  const float brightest = *std::max_element(m.data.begin(), m.data.end());
  const double threshold =
      std::max(o.threshold_sigma * sigma / std::sqrt(27.0), 0.1 * double(brightest));
  std::vector<Bead> found;
  for (const Bead& p : peaks(m, threshold)) {
    // A weaker maximum within half a box of a brighter one is the same bead's shoulder.
    bool shoulder = false;
    for (const Bead& q : found)
      shoulder = shoulder || (std::abs(p.z - q.z) <= box.z / 2 && std::abs(p.y - q.y) <= box.y / 2 &&
                              std::abs(p.x - q.x) <= box.x / 2 && p.peak < 0.5 * q.peak);
    if (!shoulder) found.push_back(p);
  }
  r.candidates = int(found.size());
  if (automatic) box = auto_box(found, s);
  r.box = box;
  int at_border = 0, crowded = 0;
  Volume sum(box, 0.0f);
  for (const Bead& candidate : found) {
    // The whole box inside the image, with a voxel to spare for the sub-voxel shift.
    bool inside = true;
    const double at[3] = {candidate.z, candidate.y, candidate.x};
    for (int a = 0; a < 3; ++a)
      inside = inside && at[a] - box[a] / 2 >= 2 && at[a] + box[a] / 2 <= double(s[a] - 3);
    if (!inside) {
      ++at_border;
      continue;
    }
    bool isolated = true;
    for (const Bead& other : found) {
      if (&other == &candidate || other.peak < o.neighbour_share * candidate.peak) continue;
      isolated = isolated && !(std::abs(other.z - candidate.z) <= box.z / 2 &&
                               std::abs(other.y - candidate.y) <= box.y / 2 &&
                               std::abs(other.x - candidate.x) <= box.x / 2);
    }
    if (!isolated) {
      ++crowded;
      continue;
    }
    Bead b = candidate;
    refine(d, b, box);
    // The box around the sub-voxel centre, its voxels summing to 1.
    Volume cut(box);
    double total = 0;
    for (std::int64_t z = 0; z < box.z; ++z)
      for (std::int64_t y = 0; y < box.y; ++y)
        for (std::int64_t x = 0; x < box.x; ++x) {
          const double p[3] = {b.z + double(z - box.z / 2), b.y + double(y - box.y / 2),
                               b.x + double(x - box.x / 2)};
          const double v = sample(d, p);
          cut.at(z, y, x) = float(v);
          total += v;
        }
    if (!(total > 0)) continue;
    for (std::size_t i = 0; i < cut.data.size(); ++i) sum.data[i] += float(cut.data[i] / total);
    r.beads.push_back(b);
  }
  H5DECON_REQUIRE(!r.beads.empty(), InputError, "no isolated bead found: ", found.size(),
                  " peaks above ", o.threshold_sigma, " sigma of the background (median ",
                  r.background, "), ", at_border, " too close to the border for a box of ",
                  box.str(), ", ", crowded, " with a neighbour within the box; try a smaller --box");
  double total = 0;
  for (float& v : sum.data) {
    v = std::max(v, 0.0f);
    total += v;
  }
  for (float& v : sum.data) v = float(v / total);
  r.psf = std::move(sum);
  if (o.crop_energy > 0 && o.crop_energy < 1) {
    CroppedPsf c = crop_psf(r.psf, o.crop_energy);
    double t = 0;
    for (float v : c.psf.data) t += v;
    for (float& v : c.psf.data) v = float(v / t);
    r.psf = std::move(c.psf);
  }
  r.fwhm = fwhm_voxels(r.psf);
  return r;
}

}  // namespace h5decon
