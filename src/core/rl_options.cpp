// Parsing and validation of the RL option names (docs/design.md §2).
#include "h5decon/rl_options.hpp"

#include <array>
#include <cmath>
#include <utility>

#include "h5decon/error.hpp"

namespace h5decon {
namespace {

constexpr std::array<std::pair<std::string_view, Boundary>, 5> kBoundaries{{
    {"periodic", Boundary::periodic},
    {"zero", Boundary::zero},
    {"reflect", Boundary::reflect},
    {"neumann", Boundary::neumann},
    {"bertero", Boundary::bertero},
}};

constexpr std::array<std::pair<std::string_view, Acceleration>, 3> kAccelerations{{
    {"none", Acceleration::none},
    {"biggs", Acceleration::biggs},
    {"biggs-log", Acceleration::biggs_log},
}};

constexpr std::array<std::pair<std::string_view, InitMode>, 3> kInits{{
    {"observed", InitMode::observed},
    {"constant", InitMode::constant},
    {"mean", InitMode::mean},
}};

constexpr std::array<std::pair<std::string_view, BackProjector>, 2> kBackProjectors{{
    {"traditional", BackProjector::traditional},
    {"wb", BackProjector::wb},
}};

template <class Table>
auto parse_name(const Table& table, std::string_view name, std::string_view option) {
  std::string valid;
  for (const auto& [key, value] : table) {
    if (key == name) return value;
    valid += (valid.empty() ? "" : ", ") + std::string(key);
  }
  throw InputError(detail::concat("--", option, ": unknown value '", name, "'; valid: ", valid));
}

template <class Table, class Value>
std::string name_of(const Table& table, Value v) {
  for (const auto& [key, value] : table)
    if (value == v) return std::string(key);
  return "?";
}

}  // namespace

Boundary parse_boundary(std::string_view name) { return parse_name(kBoundaries, name, "boundary"); }
InitMode parse_init(std::string_view name) { return parse_name(kInits, name, "init"); }
Acceleration parse_acceleration(std::string_view name) {
  return parse_name(kAccelerations, name, "accel");
}
BackProjector parse_back_projector(std::string_view name) {
  return parse_name(kBackProjectors, name, "backprojector");
}
std::string to_string(BackProjector b) { return name_of(kBackProjectors, b); }
std::string to_string(Boundary b) { return name_of(kBoundaries, b); }
std::string to_string(InitMode m) { return name_of(kInits, m); }
std::string to_string(Acceleration a) { return name_of(kAccelerations, a); }

void validate(const RlOptions& options) {
  H5DECON_REQUIRE(options.iterations >= 1, InputError,
                  "--iterations must be >= 1, got ", options.iterations);
  H5DECON_REQUIRE(std::isfinite(options.eps) && options.eps > 0.0f, InputError,
                  "--eps must be a positive number, got ", options.eps);
  H5DECON_REQUIRE(std::isfinite(options.tv_lambda) && options.tv_lambda >= 0.0f, InputError,
                  "--tv must be a number >= 0, got ", options.tv_lambda);
  H5DECON_REQUIRE(std::isfinite(options.background) && options.background >= 0.0f, InputError,
                  "--background must be auto or a number >= 0, got ", options.background);
  H5DECON_REQUIRE(std::isfinite(options.stop_rel_change) && options.stop_rel_change >= 0.0,
                  InputError, "--stop-rel-change must be a number >= 0, got ",
                  options.stop_rel_change);
  H5DECON_REQUIRE(std::isfinite(options.stop_divergence) && options.stop_divergence >= 0.0 &&
                      options.stop_divergence < 1.0,
                  InputError, "--stop-divergence must be in [0, 1), got ",
                  options.stop_divergence);
  const WienerButterworth& wb = options.wb;
  H5DECON_REQUIRE(std::isfinite(wb.alpha) && wb.alpha > 0.0, InputError,
                  "--wb-alpha must be a positive number, got ", wb.alpha);
  H5DECON_REQUIRE(std::isfinite(wb.beta) && wb.beta >= 0.0 && wb.beta < 1.0, InputError,
                  "--wb-beta must be in (0, 1) (0: from the OTF), got ", wb.beta);
  H5DECON_REQUIRE(wb.order >= 1 && wb.order <= 64, InputError,
                  "--wb-order must be in 1..64, got ", wb.order);
  for (double r : wb.resolution)
    H5DECON_REQUIRE(std::isfinite(r) && r >= 0.0, InputError,
                    "--wb-resolution must be numbers >= 0 (0: the PSF's FWHM), got ", r);
}

}  // namespace h5decon
