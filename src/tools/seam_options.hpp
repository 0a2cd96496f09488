#pragma once
// The options of `h5decon seams`: parsed and checked on every rank before any
// file is read.

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "h5decon/backend.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/rl_options.hpp"
#include "h5decon/shape.hpp"

namespace h5decon::tools {

/// What `h5decon seams` measures, and how.
struct SeamSettings {
  bool help = false;
  io::DatasetRef input, psf;
  std::vector<int> iterations{20, 50};
  std::vector<double> factors{0.5, 1, 2, 3, 4};
  std::optional<Shape3> block;  ///< empty: about a quarter of the volume per axis
  RlOptions rl;
  BackendOptions backend;
  std::optional<double> check;                ///< fail when the default halo's error exceeds this
  std::optional<std::string> save_reference;  ///< HDF5 file for the references
};

/// Parses `seams`' command line (argv[0] is the command name). Throws UsageError
/// for a malformed option or one exact mode (the reference) refuses, InputError
/// for a --save-reference file that exists.
SeamSettings parse_seam_settings(int argc, const char* const argv[]);

/// Prints `h5decon seams --help`.
void print_seam_help(std::ostream& out);

}  // namespace h5decon::tools
