#pragma once
// The named modes of the Richardson-Lucy algorithm (DESIGN.md §2) and their parsing.

#include <string>
#include <string_view>

namespace h5decon {

/// How the convolution treats the volume's edge.
enum class Boundary {
  periodic,  ///< circular: the volume wraps around
  zero,      ///< linear convolution, zero outside (scikit-image's richardson_lucy)
  reflect,   ///< mirror about the edge voxel's outer face: ... c b a | a b c ...
  neumann,   ///< edge replication (ITK's ZeroFluxNeumann): ... a a a | a b c ...
};

/// The first estimate u_0.
enum class InitMode {
  observed,  ///< the observed image (ITK)
  constant,  ///< 0.5 everywhere (scikit-image)
  mean,      ///< flat at the observed image's mean
};

/// Parameters of one RL run; identical meaning in every backend.
struct RlOptions {
  int iterations = 20;
  Boundary boundary = Boundary::reflect;
  InitMode init = InitMode::observed;
  /// Guard of the ratio d / max(H u, eps), in the data's units.
  float eps = 1e-6f;
};

/// Parses a boundary name; throws InputError listing the valid names.
Boundary parse_boundary(std::string_view name);
/// Parses an initial-estimate name; throws InputError listing the valid names.
InitMode parse_init(std::string_view name);
std::string to_string(Boundary b);
std::string to_string(InitMode m);
/// Throws InputError when the options cannot run (iterations < 1, eps <= 0).
void validate(const RlOptions& options);

}  // namespace h5decon
