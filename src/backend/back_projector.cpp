// The Wiener-Butterworth back projector (include/h5decon/back_projector.hpp),
// made on the PSF's box with one single-precision FFTW c2c pair.
#include "h5decon/back_projector.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <sstream>

#include "backend/cpu/fftw_plan.hpp"
#include "h5decon/bead_psf.hpp"
#include "h5decon/error.hpp"

namespace h5decon {
namespace {

using cfloat = std::complex<float>;

// The spectrum of a PSF-box volume, its centre voxel n/2 at the origin.
struct BoxSpectrum {
  Shape3 s;
  cpu::FftwBuffer<cfloat> a;
  explicit BoxSpectrum(Shape3 shape) : s(shape), a(std::size_t(shape.size())) {}
  std::size_t at(std::int64_t z, std::int64_t y, std::int64_t x) const {
    return std::size_t((z * s.y + y) * s.x + x);
  }
  // Index of box voxel i on an axis of n once the centre n/2 is moved to 0.
  static std::int64_t wrapped(std::int64_t i, std::int64_t n) { return (i - n / 2 + n) % n; }
  void transform(int sign) {
    cpu::PlannerSession session(BackendOptions{1, FftPlanner::estimate, "", -1}, 1);
    auto* p = reinterpret_cast<fftwf_complex*>(a.data());
    const cpu::FftwPlan plan(
        fftwf_plan_dft_3d(int(s.z), int(s.y), int(s.x), p, p, sign, session.flags()),
        "the back projector's c2c");
    plan.execute();
  }
};

// Signed frequency of index k on an axis of n, in cycles per voxel.
double frequency(std::int64_t k, std::int64_t n) { return double(k <= n / 2 ? k : k - n) / double(n); }

// The gain of `g` (|.| of a spectrum) at the cut-off fc on each axis longer than one
// voxel: the largest value over the other axes at the index nearest +-fc, averaged
// over both signs and the axes.
template <class Gain>
double gain_at_cutoff(Shape3 s, const std::array<double, 3>& fc, Gain g) {
  double total = 0;
  int axes = 0;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t n = s[a];
    if (n < 2) continue;
    const std::int64_t kp = std::clamp<std::int64_t>(std::llround(fc[std::size_t(a)] * double(n)),
                                                     1, n / 2);
    const std::int64_t km = (n - kp) % n;
    double line[2] = {0, 0};
    for (std::int64_t z = 0; z < s.z; ++z)
      for (std::int64_t y = 0; y < s.y; ++y)
        for (std::int64_t x = 0; x < s.x; ++x) {
          const std::int64_t k = a == 0 ? z : (a == 1 ? y : x);
          if (k == kp) line[0] = std::max(line[0], g(z, y, x));
          if (k == km) line[1] = std::max(line[1], g(z, y, x));
        }
    total += 0.5 * (line[0] + line[1]);
    ++axes;
  }
  return axes ? total / axes : 1.0;
}

}  // namespace

Volume wb_back_kernel(const Volume& psf, const WienerButterworth& p, BackProjectorReport* report) {
  const Shape3 s = psf.shape;
  BackProjectorReport r;
  const std::array<double, 3> fwhm = fwhm_voxels(psf);
  for (std::size_t a = 0; a < 3; ++a) {
    r.resolution[a] = p.resolution[a] > 0 ? p.resolution[a] : fwhm[a];
    H5DECON_REQUIRE(std::isfinite(r.resolution[a]) && r.resolution[a] > 0, InputError,
                    "the Wiener-Butterworth back projector needs the PSF's width on axis ", "zyx"[a],
                    "; it could not be measured (give --wb-resolution Z,Y,X in voxels)");
    r.cutoff[a] = 1.0 / r.resolution[a];
  }

  BoxSpectrum h(s);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x)
        h.a[h.at(BoxSpectrum::wrapped(z, s.z), BoxSpectrum::wrapped(y, s.y),
                 BoxSpectrum::wrapped(x, s.x))] = psf.at(z, y, x);
  h.transform(FFTW_FORWARD);
  double peak = 0;
  for (std::size_t i = 0; i < h.a.size(); ++i) peak = std::max(peak, double(std::abs(h.a[i])));
  H5DECON_REQUIRE(peak > 0, InputError, "the back projector of an all-zero PSF");
  auto otf = [&](std::int64_t z, std::int64_t y, std::int64_t x) {
    return std::complex<double>(h.a[h.at(z, y, x)]) / peak;
  };
  auto wiener = [&](std::int64_t z, std::int64_t y, std::int64_t x) {
    const std::complex<double> v = otf(z, y, x);
    return std::conj(v) / (std::norm(v) + p.alpha);
  };
  const double w0 = std::abs(wiener(0, 0, 0));
  r.beta = p.beta > 0 ? p.beta
                      : gain_at_cutoff(s, r.cutoff, [&](auto z, auto y, auto x) {
                          return std::abs(otf(z, y, x));
                        });
  r.wiener_gain = gain_at_cutoff(s, r.cutoff, [&](auto z, auto y, auto x) {
    return std::abs(wiener(z, y, x)) / w0;
  });
  r.ee = std::max(0.0, (r.wiener_gain / r.beta) * (r.wiener_gain / r.beta) - 1.0);

  // conj(B) = conj(W M) / B(0): the spectrum of the kernel in the PSF's orientation.
  BoxSpectrum b(s);
  const std::complex<double> b0 = wiener(0, 0, 0);
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        const double fz = frequency(z, s.z) / r.cutoff[0], fy = frequency(y, s.y) / r.cutoff[1],
                     fx = frequency(x, s.x) / r.cutoff[2];
        const double w = fz * fz + fy * fy + fx * fx;
        const double mask = 1.0 / std::sqrt(1.0 + r.ee * std::pow(w, p.order));
        b.a[b.at(z, y, x)] = cfloat(std::conj(wiener(z, y, x) * mask / b0));
      }
  b.transform(FFTW_BACKWARD);

  Volume out(s);
  double sum = 0, negative = 0, magnitude = 0;
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        const double v = b.a[b.at(BoxSpectrum::wrapped(z, s.z), BoxSpectrum::wrapped(y, s.y),
                                  BoxSpectrum::wrapped(x, s.x))]
                             .real();
        sum += v;
        out.at(z, y, x) = float(v);
      }
  H5DECON_REQUIRE(sum > 0, InputError, "the Wiener-Butterworth back projector has no positive sum");
  for (float& v : out.data) {
    v = float(double(v) / sum);
    magnitude += std::abs(double(v));
    if (v < 0) negative -= v;
  }
  r.negative_share = magnitude > 0 ? negative / magnitude : 0;
  if (report) *report = r;
  return out;
}

std::string attach_back_projector(Psf& psf, const RlOptions& options) {
  psf.back.reset();
  psf.back_params = options.wb;
  if (options.back_projector != BackProjector::wb) return "";
  BackProjectorReport r;
  psf.back = wb_back_kernel(psf.kernel, options.wb, &r);
  std::ostringstream s;
  s.precision(3);
  s << "back projector: Wiener-Butterworth of " << psf.source << " (alpha " << options.wb.alpha
    << ", beta " << r.beta << (options.wb.beta > 0 ? "" : " from the OTF") << ", order "
    << options.wb.order << ", cut-off at resolution " << r.resolution[0] << " x "
    << r.resolution[1] << " x " << r.resolution[2] << " voxels"
    << (options.wb.resolution == std::array<double, 3>{0, 0, 0} ? " (the PSF's FWHM)" : "")
    << "; negative lobes " << 100.0 * r.negative_share << "% of its weight)";
  return s.str();
}

}  // namespace h5decon
