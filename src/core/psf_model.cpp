// The Born-Wolf PSF model (see include/h5decon/psf_model.hpp for the formula).
#include "h5decon/psf_model.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

constexpr std::int64_t kMaxVoxels = std::int64_t(1) << 28;  // 1 GiB of float32
constexpr int kRadialOversample = 16;

bool positive(double v) { return std::isfinite(v) && v > 0; }

// Simpson nodes ρ_j on [0, 1] with weights w_j ρ_j (the ρ dρ of the integral).
struct PupilNodes {
  std::vector<double> rho, weight;
};

PupilNodes pupil_nodes(double oscillations) {
  std::int64_t n = std::max<std::int64_t>(256, std::int64_t(std::ceil(16.0 * oscillations)));
  n += n % 2;  // Simpson needs an even number of intervals
  PupilNodes nodes;
  nodes.rho.resize(std::size_t(n + 1));
  nodes.weight.resize(std::size_t(n + 1));
  for (std::int64_t j = 0; j <= n; ++j) {
    const double rho = double(j) / double(n);
    const double w = (j == 0 || j == n) ? 1.0 : (j % 2 ? 4.0 : 2.0);
    nodes.rho[std::size_t(j)] = rho;
    nodes.weight[std::size_t(j)] = w / (3.0 * double(n)) * rho;
  }
  return nodes;
}

// Intensity on the radial grid r_i = i * dr of the plane at defocus `z_um`.
std::vector<double> radial_profile(const std::vector<double>& bessel, const PupilNodes& nodes,
                                   std::size_t radii, double defocus_phase) {
  const std::size_t m = nodes.rho.size();
  std::vector<std::complex<double>> c(m);
  for (std::size_t j = 0; j < m; ++j) {
    const double rho = nodes.rho[j];
    c[j] = nodes.weight[j] * std::polar(1.0, -defocus_phase * rho * rho);
  }
  std::vector<double> profile(radii);
  for (std::size_t i = 0; i < radii; ++i) {
    const double* row = bessel.data() + i * m;
    double re = 0, im = 0;
    for (std::size_t j = 0; j < m; ++j) {
      re += row[j] * c[j].real();
      im += row[j] * c[j].imag();
    }
    profile[i] = re * re + im * im;
  }
  return profile;
}

double interpolate(const std::vector<double>& profile, double position) {
  const auto i = std::size_t(position);
  if (i + 1 >= profile.size()) return profile.back();
  const double f = position - double(i);
  return profile[i] * (1.0 - f) + profile[i + 1] * f;
}

double farthest(std::int64_t n, double voxel) {
  return double(std::max(n / 2, n - 1 - n / 2)) * voxel;
}

}  // namespace

void validate(const BornWolfParams& p) {
  H5DECON_REQUIRE(positive(p.na), InputError, "--na must be a positive number, got ", p.na);
  H5DECON_REQUIRE(positive(p.wavelength_nm), InputError,
                  "--wavelength-nm must be a positive number, got ", p.wavelength_nm);
  // Fluorescence emission lies in the near UV to near infrared; a number outside is a
  // wrong unit (0.52: micrometres) that would give a PSF of one voxel.
  H5DECON_REQUIRE(p.wavelength_nm >= 100 && p.wavelength_nm <= 2000, InputError,
                  "--wavelength-nm ", p.wavelength_nm, " is not a wavelength in nanometres "
                  "(100 to 2000); ", p.wavelength_nm < 100 ? "micrometres? " : "",
                  "give e.g. 520 for green emission");
  H5DECON_REQUIRE(positive(p.immersion_index), InputError,
                  "--immersion-index must be a positive number, got ", p.immersion_index);
  H5DECON_REQUIRE(p.na < p.immersion_index, InputError, "--na ", p.na,
                  " must be smaller than the immersion index ", p.immersion_index,
                  " (NA = n sin(theta) < n)");
  const char* axes = "zyx";
  for (int a = 0; a < 3; ++a) {
    H5DECON_REQUIRE(positive(p.voxel_um[std::size_t(a)]), InputError, "--voxel-um: the ",
                    axes[a], " size must be a positive number, got ", p.voxel_um[std::size_t(a)]);
    H5DECON_REQUIRE(p.shape[a] >= 1, InputError, "--shape: the ", axes[a],
                    " extent must be >= 1, got ", p.shape[a]);
  }
  H5DECON_REQUIRE(p.lateral_samples >= 1 && p.lateral_samples <= 64, InputError,
                  "--integrate must be between 1 and 64 samples per voxel side, got ",
                  p.lateral_samples);
  H5DECON_REQUIRE(p.shape.size() <= kMaxVoxels, InputError, "--shape ", p.shape.str(),
                  " is too large for a PSF (more than ", kMaxVoxels, " voxels)");
}

Volume born_wolf_psf(const BornWolfParams& p) {
  validate(p);
  const double k = 2.0 * std::numbers::pi / (p.wavelength_nm * 1e-3);  // 1/µm
  const auto [dz, dy, dx] = p.voxel_um;
  const Shape3 s = p.shape;
  const int n = p.lateral_samples;
  // Sample points reach half a voxel beyond the outermost centres.
  const double half = n > 1 ? 0.5 : 0.0;
  const double r_max = std::hypot(farthest(s.y, dy) + half * dy, farthest(s.x, dx) + half * dx);
  const double z_max = farthest(s.z, dz);
  const double lateral = k * p.na, axial = k * p.na * p.na / (2.0 * p.immersion_index);
  const PupilNodes nodes =
      pupil_nodes((lateral * r_max + axial * z_max) / std::numbers::pi);
  const double dr = std::min(dy, dx) / kRadialOversample;
  const auto radii = std::size_t(std::ceil(r_max / dr)) + 2;
  const std::size_t m = nodes.rho.size();
  std::vector<double> bessel(radii * m);  // J0(k NA r_i ρ_j), the same for every plane
  for (std::size_t i = 0; i < radii; ++i)
    for (std::size_t j = 0; j < m; ++j)
      bessel[i * m + j] = std::cyl_bessel_j(0.0, lateral * double(i) * dr * nodes.rho[j]);
  std::vector<double> values(std::size_t(s.size()));
  std::vector<std::vector<double>> planes(std::size_t(s.z / 2 + 1));
  double total = 0;
  for (std::int64_t z = 0; z < s.z; ++z) {
    const auto d = std::size_t(std::abs(z - s.z / 2));  // h(r, -z) = h(r, z)
    if (planes[d].empty()) planes[d] = radial_profile(bessel, nodes, radii, axial * d * dz);
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        double v = 0.0;
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) {
            const double oy = (double(i) + 0.5) / n - 0.5, ox = (double(j) + 0.5) / n - 0.5;
            const double r = std::hypot((double(y - s.y / 2) + oy) * dy,
                                        (double(x - s.x / 2) + ox) * dx);
            v += interpolate(planes[d], r / dr);
          }
        v /= double(n) * n;
        values[std::size_t((z * s.y + y) * s.x + x)] = v;
        total += v;
      }
  }
  Volume psf(s);
  for (std::size_t i = 0; i < values.size(); ++i) psf.data[i] = float(values[i] / total);
  return psf;
}

}  // namespace h5decon
