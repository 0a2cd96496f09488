#pragma once
// Command-line and config-file parsing shared by every h5decon command.

#include <boost/program_options.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "h5decon/error.hpp"

namespace h5decon::app {

namespace po = boost::program_options;

/// A missing, unknown or malformed option: exit code 1.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// What parse_options() found.
struct ParsedOptions {
  po::variables_map values;  ///< command line first, then the config file's keys
  bool help = false;         ///< --help was given: print help, do nothing else
  std::string config_file;   ///< the --config file read, if any
};

/// The options every command has: --help and --config.
po::options_description generic_options();

/// Parses `args` (the options after the command name) with `desc` (which should
/// include generic_options()), then the --config INI file whose keys are the long
/// option names; the command line overrides the file. Throws UsageError naming
/// the unknown or malformed option, or the config file and key.
ParsedOptions parse_options(const std::string& command, int argc, const char* const argv[],
                            const po::options_description& desc);

/// Throws UsageError "missing required option --NAME" unless `name` has a value.
void require_option(const ParsedOptions& parsed, const std::string& name);

/// Prints "Usage: h5decon COMMAND SYNOPSIS", a description and the options.
void print_help(std::ostream& os, const std::string& command, const std::string& synopsis,
                const std::string& description, const po::options_description& desc);

/// The shortest text that reads back as the same value: two options' texts compare
/// equal exactly when their values do (0.01 and 1e-2 alike, 0.01 and 0.0100001 not).
/// `text` as a whole decimal number; throws UsageError "--OPTION: 'TEXT' is not a
/// number" for anything else (trailing characters included).
double parse_number(std::string_view option, const std::string& text);

/// "a,b,c" as three numbers; throws UsageError "--OPTION: 'TEXT' is not three
/// numbers Z,Y,X" for anything else.
std::vector<double> parse_triple(const std::string& option, const std::string& text);

std::string shortest_text(float value);
std::string shortest_text(double value);

/// The program's command line as one string, arguments shell-quoted where needed.
std::string join_command_line(int argc, const char* const argv[]);

/// A boolean switch: --name on the command line, name = true|false|yes|no|1|0
/// in a config file.
po::typed_value<bool>* switch_value();

}  // namespace h5decon::app
