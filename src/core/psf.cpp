// PSF validation and normalisation.
#include "h5decon/psf.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon {

Psf prepare_psf(Volume raw, const std::string& source) {
  const Shape3 s = raw.shape;
  H5DECON_REQUIRE(s.size() > 0, InputError, "PSF ", source, ": it is empty (", s.str(), ")");

  Psf psf;
  psf.kernel = std::move(raw);
  psf.source = source;
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

std::string limit_psf_to_volume(Psf& psf, const Shape3& volume) {
  const Shape3 s = psf.kernel.shape;
  Shape3 keep = s, first{0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    const std::int64_t most = std::max<std::int64_t>(1, 2 * volume[a] - 1);
    if (s[a] <= most) continue;
    keep[a] = most;
    first[a] = s[a] / 2 - most / 2;  // the centre voxel n/2 stays the centre
  }
  if (keep == s) return {};
  Volume cropped(keep);
  double kept = 0.0;
  for (std::int64_t z = 0; z < keep.z; ++z)
    for (std::int64_t y = 0; y < keep.y; ++y)
      for (std::int64_t x = 0; x < keep.x; ++x) {
        const float v = psf.kernel.at(z + first.z, y + first.y, x + first.x);
        cropped.at(z, y, x) = v;
        kept += v;
      }
  H5DECON_REQUIRE(kept > 0.0, InputError, "PSF ", psf.source, ": no light within ",
                  keep.str(), " voxels of its centre (twice the volume ", volume.str(), ")");
  for (float& v : cropped.data) v = static_cast<float>(v / kept);
  psf.kernel = std::move(cropped);
  psf.flux_used *= kept;
  std::ostringstream os;
  os << "PSF " << s.str() << " is longer than twice the volume " << volume.str()
     << " on some axis; cropped to " << keep.str()
     << " (offsets beyond couple no two observed voxels), keeping " << std::fixed
     << std::setprecision(1) << 100.0 * kept << "% of its flux";
  return os.str();
}

Psf prepare_psf(Volume raw, const std::string& source, const Shape3& volume) {
  Psf psf = prepare_psf(std::move(raw), source);
  limit_psf_to_volume(psf, volume);
  return psf;
}

namespace {

float median_of(std::vector<float> v) {
  if (v.empty()) return 0.0f;
  auto mid = v.begin() + std::ptrdiff_t(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace

// A camera background is the same everywhere; a widefield PSF's defocused light
// fills its far planes but not the edge of its focal plane. So the level is the
// smallest of three medians: the first plane, the last plane, the focal plane's edge.
double constant_level_share(const Psf& psf) {
  const Shape3 s = psf.kernel.shape;
  const std::int64_t plane = s.y * s.x;
  const float* d = psf.kernel.data.data();
  const std::vector<float> first(d, d + plane), last(d + (s.z - 1) * plane, d + s.z * plane);
  std::vector<float> edge;
  const std::int64_t zc = s.z / 2;
  for (std::int64_t y = 0; y < s.y; ++y)
    for (std::int64_t x = 0; x < s.x; ++x)
      if (y == 0 || x == 0 || y == s.y - 1 || x == s.x - 1) edge.push_back(psf.kernel.at(zc, y, x));
  const float level = std::min({median_of(first), median_of(last), median_of(edge)});
  return double(level) * double(s.size());
}

std::string background_note(const Psf& psf, double raw_sum) {
  const double share = constant_level_share(psf);
  if (share < kPsfBackgroundWarning) return {};
  const double level = share / double(psf.kernel.shape.size()) * raw_sum;
  std::ostringstream os;
  os << "its first and last planes and the edge of its focal plane all hold a level of "
     << std::setprecision(4) << level << " (in the file's units): about " << std::setprecision(3) << 100.0 * share
     << "% of its flux is background, not light, and the result will be barely deconvolved; "
        "subtract the background (e.g. that level) from the PSF, clamp at 0, and crop it to "
        "its support";
  return os.str();
}

std::string off_centre_note(const Psf& psf) {
  const Shape3 s = psf.kernel.shape;
  std::array<double, 3> moment{}, centre{};
  double sum = 0.0;
  std::size_t i = 0;
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x, ++i) {
        const double v = psf.kernel.data[i];
        moment[0] += v * static_cast<double>(z);
        moment[1] += v * static_cast<double>(y);
        moment[2] += v * static_cast<double>(x);
        sum += v;
      }
  bool off = false;
  for (int a = 0; a < 3; ++a) {
    centre[a] = sum > 0.0 ? moment[a] / sum : 0.0;
    off = off || std::abs(centre[a] - static_cast<double>(s[a] / 2)) > 1.0;
  }
  if (!off) return {};
  return detail::concat("its centre of mass (z, y, x) = (", std::round(centre[0] * 10) / 10, ", ",
                        std::round(centre[1] * 10) / 10, ", ", std::round(centre[2] * 10) / 10,
                        ") is off the centre voxel (", s.z / 2, ", ", s.y / 2, ", ", s.x / 2,
                        ") by more than one voxel; the result will be shifted by the difference "
                        "(centre the PSF, or crop it around its peak)");
}

namespace {

std::string voxel_str(const VoxelSize& v) {
  std::ostringstream os;
  os << v[0] << "," << v[1] << "," << v[2];
  return os.str();
}

}  // namespace

std::string voxel_size_mismatch(const std::optional<VoxelSize>& data, const std::string& data_name,
                                const std::optional<VoxelSize>& psf, const std::string& psf_name,
                                double tolerance) {
  if (!data || !psf) return {};
  std::string axes;
  int differing = 0;
  for (int a = 0; a < 3; ++a)
    if (std::abs((*psf)[a] - (*data)[a]) > tolerance * (*data)[a])
      axes += std::string(differing++ ? ", " : "") + "zyx"[a];
  if (differing == 0) return {};
  return detail::concat("the PSF's voxel size differs from the data's on ",
                        differing == 1 ? "axis " : "axes ", axes, ": ",
                        data_name, " has voxels of (z,y,x) ", voxel_str(*data), " um but ",
                        psf_name, " was sampled at ", voxel_str(*psf),
                        " um; regenerate the PSF at the data's voxel size (h5decon psf --voxel-um ",
                        voxel_str(*data), ") or resample it");
}

const Volume& back_kernel(const Psf& psf, const RlOptions& options) {
  if (options.back_projector != BackProjector::wb) return psf.kernel;
  H5DECON_REQUIRE(psf.back.has_value() && psf.back->shape == psf.kernel.shape &&
                      psf.back_params == options.wb,
                  Error, "the Wiener-Butterworth back projector of ", psf.source,
                  " was not made for these options (attach_back_projector())");
  return *psf.back;
}

Shape3 largest_psf_extent(const std::vector<Psf>& psfs) {
  H5DECON_REQUIRE(!psfs.empty(), Error, "largest_psf_extent: no PSFs");
  Shape3 out{0, 0, 0};
  for (const Psf& p : psfs)
    for (int a = 0; a < 3; ++a) out[a] = std::max(out[a], p.kernel.shape[a]);
  return out;
}

Psf largest_psf(const std::vector<Psf>& psfs) {
  const Shape3 s = largest_psf_extent(psfs);
  for (const Psf& p : psfs)
    if (p.kernel.shape == s) return p;
  Psf out;
  out.kernel = Volume(s);
  out.kernel.at(s.z / 2, s.y / 2, s.x / 2) = 1.0f;
  out.source = "the largest extent of the channels' PSFs";
  if (psfs.front().back) {  // a memory probe's engine needs a back projector of the same shape
    out.back = out.kernel;
    out.back_params = psfs.front().back_params;
  }
  return out;
}

}  // namespace h5decon
