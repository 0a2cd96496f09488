// crop_psf(): the smallest centred box that holds a share of a PSF's flux.
#include <cmath>
#include <limits>
#include <vector>

#include "h5decon/error.hpp"
#include "h5decon/psf_model.hpp"

namespace h5decon {
namespace {

// Summed-volume table: sum of the box [z0, z1) x [y0, y1) x [x0, x1) in O(1).
class BoxSums {
 public:
  explicit BoxSums(const Volume& v)
      : s_(v.shape), t_(std::size_t((s_.z + 1) * (s_.y + 1) * (s_.x + 1)), 0.0) {
    for (std::int64_t z = 0; z < s_.z; ++z)
      for (std::int64_t y = 0; y < s_.y; ++y)
        for (std::int64_t x = 0; x < s_.x; ++x)
          at(z + 1, y + 1, x + 1) = double(v.at(z, y, x)) + at(z, y + 1, x + 1) +
                                    at(z + 1, y, x + 1) + at(z + 1, y + 1, x) -
                                    at(z, y, x + 1) - at(z, y + 1, x) - at(z + 1, y, x) +
                                    at(z, y, x);
  }
  double sum(const Shape3& lo, const Shape3& hi) const {
    return at(hi.z, hi.y, hi.x) - at(lo.z, hi.y, hi.x) - at(hi.z, lo.y, hi.x) -
           at(hi.z, hi.y, lo.x) + at(lo.z, lo.y, hi.x) + at(lo.z, hi.y, lo.x) +
           at(hi.z, lo.y, lo.x) - at(lo.z, lo.y, lo.x);
  }

 private:
  double& at(std::int64_t z, std::int64_t y, std::int64_t x) {
    return t_[std::size_t((z * (s_.y + 1) + y) * (s_.x + 1) + x)];
  }
  double at(std::int64_t z, std::int64_t y, std::int64_t x) const {
    return t_[std::size_t((z * (s_.y + 1) + y) * (s_.x + 1) + x)];
  }
  Shape3 s_;
  std::vector<double> t_;
};

// Half-open range of radius r on an axis of size n, centred on n/2 (parity kept).
std::int64_t range_lo(std::int64_t n, std::int64_t r) { return n / 2 - r; }
std::int64_t range_hi(std::int64_t n, std::int64_t r) { return n / 2 + r + n % 2; }
// Radii on an axis of size n: from one voxel (two on an even axis) to the whole axis.
std::int64_t min_radius(std::int64_t n) { return n % 2 ? 0 : 1; }
std::int64_t max_radius(std::int64_t n) { return n / 2; }

struct Box {
  Shape3 r;  // radius per axis
  std::int64_t voxels = std::numeric_limits<std::int64_t>::max();
  double flux = -1;
};

Shape3 lo_of(const Shape3& n, const Shape3& r) {
  return {range_lo(n.z, r.z), range_lo(n.y, r.y), range_lo(n.x, r.x)};
}
Shape3 hi_of(const Shape3& n, const Shape3& r) {
  return {range_hi(n.z, r.z), range_hi(n.y, r.y), range_hi(n.x, r.x)};
}

// For each (rz, ry), the smallest rx whose box holds `need` (binary search:
// the flux grows with rx); keeps the box with the fewest voxels.
Box smallest_box(const BoxSums& sums, const Shape3& n, double need) {
  Box best;
  for (std::int64_t rz = min_radius(n.z); rz <= max_radius(n.z); ++rz)
    for (std::int64_t ry = min_radius(n.y); ry <= max_radius(n.y); ++ry) {
      auto flux = [&](std::int64_t rx) {
        const Shape3 r{rz, ry, rx};
        return sums.sum(lo_of(n, r), hi_of(n, r));
      };
      std::int64_t a = min_radius(n.x), b = max_radius(n.x);
      if (flux(b) < need) continue;
      while (a < b) {
        const std::int64_t mid = (a + b) / 2;
        if (flux(mid) >= need) b = mid; else a = mid + 1;
      }
      const Shape3 r{rz, ry, a};
      const Shape3 lo = lo_of(n, r), hi = hi_of(n, r);
      const std::int64_t voxels = (hi.z - lo.z) * (hi.y - lo.y) * (hi.x - lo.x);
      const double f = flux(a);
      if (voxels < best.voxels || (voxels == best.voxels && f > best.flux)) best = {r, voxels, f};
    }
  return best;
}

}  // namespace

CroppedPsf crop_psf(const Volume& psf, double energy) {
  H5DECON_REQUIRE(std::isfinite(energy) && energy > 0 && energy <= 1, InputError,
                  "PSF crop energy must be in (0, 1], got ", energy);
  const BoxSums sums(psf);
  const Shape3 n = psf.shape;
  const double total = sums.sum({0, 0, 0}, n);
  H5DECON_REQUIRE(std::isfinite(total) && total > 0, InputError,
                  "cannot crop a PSF whose sum is not positive (", total, ")");
  // The relative slack absorbs the rounding of the table, so energy 1 keeps the
  // box of every non-zero voxel rather than failing to find one.
  const Box box = smallest_box(sums, n, energy * total * (1.0 - 1e-12));
  const Shape3 lo = lo_of(n, box.r), hi = hi_of(n, box.r);
  CroppedPsf out{Volume({hi.z - lo.z, hi.y - lo.y, hi.x - lo.x}), n, box.flux / total};
  for (std::int64_t z = lo.z; z < hi.z; ++z)
    for (std::int64_t y = lo.y; y < hi.y; ++y)
      for (std::int64_t x = lo.x; x < hi.x; ++x)
        out.psf.at(z - lo.z, y - lo.y, x - lo.x) = psf.at(z, y, x);
  return out;
}

}  // namespace h5decon
