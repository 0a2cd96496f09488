#pragma once
// The options of `h5decon run`, parsed and checked before any file is touched.

#include <map>
#include <string>

#include "cli.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/rl_options.hpp"

namespace h5decon::app {

/// Everything `h5decon run` needs to know, resolved from command line and config.
struct RunSettings {
  bool help = false;     ///< print help and stop
  bool dry_run = false;  ///< print the resolved settings and stop
  io::DatasetRef input, psf, output;
  std::string axes;  ///< "" (rank 5, ctzyx), "zyx", "czyx" or "tzyx"
  RlOptions rl;
  std::string backend = "cpu";  ///< as given: auto, cpu or cuda
  BackendOptions backend_options;
  bool overwrite = false;
  std::map<std::string, std::string> resolved;  ///< every option's value, for provenance
};

/// The option descriptions of `run` (generic options included).
po::options_description run_option_descriptions();

/// One-line synopsis and description of `run`, for --help.
extern const char* const kRunSynopsis;
extern const char* const kRunDescription;

/// Parses and validates the options of `run`; argv[0] is the command name.
/// Throws UsageError for a missing, unknown or invalid option.
RunSettings parse_run_settings(int argc, const char* const argv[]);

/// Prints the resolved settings, one "name = value" per line (a valid config file).
void print_settings(std::ostream& os, const RunSettings& settings);

}  // namespace h5decon::app
