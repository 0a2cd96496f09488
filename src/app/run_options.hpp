#pragma once
// The options of `h5decon run`, parsed and checked before any file is touched.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "cli.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/shape.hpp"
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
  std::string mode = "blocks";  ///< blocks (the only mode so far; exact later)
  std::optional<Shape3> halo;   ///< --halo; empty: auto from the PSF
  std::optional<Shape3> block;  ///< --block; empty: auto within the memory budget
  bool auto_memory_budget = true;   ///< --memory-budget auto: resolved per node at run time
  std::int64_t memory_budget = 0;   ///< --memory-budget in bytes when not auto; 0: unlimited
  double progress_interval = 10;    ///< seconds between progress lines in a batch log
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
