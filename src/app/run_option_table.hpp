#pragma once
// The options of `h5decon run` (and `info`), in one table (docs/design.md §6): each
// option's name, --help text, default, parser, whether it can change the result,
// and the modes that accept it. Parsing, --help, the provenance attributes, the
// resume/shard/merge signature and the refusals of unsupported combinations are
// all derived from this table.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace h5decon::app {

struct RunSettings;

/// How an option stands to the run's signature (run_resume.hpp), which decides
/// whether a partial output, a shard or a merged file may be combined with a run.
enum class InSignature {
  result,      ///< can change an output voxel: in the signature as "opt.NAME"
  other_form,  ///< in the signature in another form (the plan, the input's identity, ...)
  none,        ///< cannot change an output voxel (logging, safety switches, threads)
};

/// Where a value other than the default is accepted (bits of a mask).
enum RunModes : unsigned { kBlocksMode = 1u, kExactMode = 2u, kBothModes = 3u };

struct RunOption {
  std::string_view name;
  std::string_view group;       ///< --help section
  std::string_view value_name;  ///< empty: a switch (--name; name = true|false in a config)
  std::string_view default_text;  ///< empty: no default (the option may be absent)
  std::string_view help;
  InSignature signature;
  unsigned modes;
  bool recorded;  ///< in the provenance and --dry-run's listing (false: dry-run itself)
  /// Parses the option's text into `s` (options before it in the table already
  /// parsed) and returns its canonical text: equal texts mean equal values.
  /// Throws UsageError naming the option.
  std::string (*apply)(const std::string& text, RunSettings& s);
  bool required;  ///< must be given (on the command line or in the --config file)
};

/// Every option of `run`, in --help order (groups in order of first appearance).
const std::vector<RunOption>& run_option_table();

/// The entry named `name`, or null.
const RunOption* find_run_option(std::string_view name);

/// The options' part of the run signature: "opt.NAME" = canonical value for every
/// resolved option whose entry says it can change the result, in name order.
std::vector<std::pair<std::string, std::string>> result_option_signature(
    const std::map<std::string, std::string>& resolved);

}  // namespace h5decon::app
