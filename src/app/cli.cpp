#include "cli.hpp"

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <sstream>
#include <string_view>

namespace h5decon::app {
namespace {

// "the argument ('x') for option 'y' is invalid" and friends, with our wording
// for the cases users meet most.
std::string describe(const po::error& e, const std::string& command, const std::string& where) {
  const std::string see = " (see 'h5decon " + command + " --help')";
  if (const auto* u = dynamic_cast<const po::unknown_option*>(&e)) {
    if (where.empty())
      return "unknown option '" + u->get_option_name() + "' for 'h5decon " + command + "'" + see;
    return "unknown key '" + u->get_option_name() + "' in " + where + see;
  }
  if (dynamic_cast<const po::too_many_positional_options_error*>(&e))
    return "'h5decon " + command + "' takes no positional arguments" + see;
  return (where.empty() ? std::string() : where + ": ") + e.what() + see;
}

template <class Real>
std::string shortest_of(Real value) {
  char text[64];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  return error == std::errc() ? std::string(text, end) : std::string("?");
}

bool is_shell_safe(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("-_./:=,+@%").find(c) != std::string_view::npos))
      return false;
  return true;
}

void read_config_file(ParsedOptions& parsed, const std::string& command,
                      const po::options_description& desc) {
  const std::string where = "config file '" + parsed.config_file + "'";
  std::error_code ec;
  if (std::filesystem::is_directory(parsed.config_file, ec))
    throw UsageError(where + " is a directory; --config names an INI file");
  std::ifstream in(parsed.config_file, std::ios::binary);
  if (!in) throw UsageError("cannot read " + where + " (given with --config)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);  // a UTF-8 byte-order mark
  std::istringstream body(text);
  try {
    const po::parsed_options options =
        po::parse_config_file(body, desc, /*allow_unregistered=*/false);
    for (const po::option& o : options.options)
      if (o.string_key == "config")
        throw UsageError(where + " sets 'config'; a config file cannot name another one "
                         "(give every option in one file, or on the command line)");
    po::store(options, parsed.values);  // the command line's values are kept: it wins
  } catch (const po::error& e) {
    throw UsageError(describe(e, command, where));
  }
}

}  // namespace

double parse_number(std::string_view option, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError(detail::concat("--", option, ": '", text, "' is not a number"));
  return v;
}

std::string shortest_text(float value) { return shortest_of(value); }
std::string shortest_text(double value) { return shortest_of(value); }

po::options_description generic_options() {
  po::options_description desc("Generic options");
  desc.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>()->value_name("FILE.ini"),
      "read options from an INI file (keys: the long option names); the command line wins");
  return desc;
}

po::typed_value<bool>* switch_value() { return po::bool_switch(); }

ParsedOptions parse_options(const std::string& command, int argc, const char* const argv[],
                            const po::options_description& desc) {
  ParsedOptions parsed;
  try {
    // No abbreviations (a typo must not select another option), no positionals.
    const po::positional_options_description no_positionals;
    const int style =
        po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(argc, argv)
                  .options(desc)
                  .style(style)
                  .positional(no_positionals)
                  .run(),
              parsed.values);
  } catch (const po::error& e) {
    throw UsageError(describe(e, command, ""));
  }
  parsed.help = parsed.values.count("help") > 0;
  if (parsed.values.count("config")) {
    parsed.config_file = parsed.values["config"].as<std::string>();
    read_config_file(parsed, command, desc);
  }
  try {
    po::notify(parsed.values);
  } catch (const po::error& e) {
    throw UsageError(describe(e, command, ""));
  }
  return parsed;
}

void require_option(const ParsedOptions& parsed, const std::string& name) {
  if (!parsed.values.count(name) || parsed.values[name].empty())
    throw UsageError("missing required option --" + name +
                     " (on the command line or in the --config file)");
}

void print_help(std::ostream& os, const std::string& command, const std::string& synopsis,
                const std::string& description, const po::options_description& desc) {
  os << "Usage: h5decon " << command << " " << synopsis << "\n\n"
     << description << "\n\n"
     << desc << "\nEvery option can also be set in the --config file as 'name = value'.\n";
}

std::string join_command_line(int argc, const char* const argv[]) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i) out += ' ';
    if (is_shell_safe(arg)) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::vector<double> parse_triple(const std::string& option, const std::string& text) {
  std::vector<double> values;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    std::size_t used = 0;
    double v = NAN;
    try {
      v = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size())
      throw UsageError("--" + option + ": '" + text + "' is not three numbers Z,Y,X");
    values.push_back(v);
  }
  if (values.size() != 3)
    throw UsageError("--" + option + ": '" + text + "' is not three numbers Z,Y,X");
  return values;
}

}  // namespace h5decon::app
