// Option parsing of `h5decon run`: command line, INI config file, precedence, errors.
#include "app/cli.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "app/run_option_table.hpp"
#include "app/run_options.hpp"

namespace h5decon::app {
namespace {

// Parses `args` (after "run") like the program does.
RunSettings parse(std::vector<std::string> args) {
  args.insert(args.begin(), "run");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_run_settings(static_cast<int>(argv.size()), argv.data());
}

// A config file in the test's temporary directory, removed at the end.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text)
      : path_((std::filesystem::temp_directory_path() /
               ("h5decon_cli_test_" + std::to_string(counter_++) + ".ini"))
                  .string()) {
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

const std::vector<std::string> kRequired = {"--input", "in.h5",    "--psf",
                                            "p.h5:/k", "--output", "out.h5"};

std::string usage_error(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

TEST(RunOptions, DefaultsComeFromRlOptionsAndDatasetPathsDefault) {
  const RunSettings s = parse(kRequired);
  const RlOptions defaults;
  EXPECT_EQ(s.rl.iterations, defaults.iterations);
  EXPECT_EQ(s.rl.boundary, Boundary::bertero);
  EXPECT_EQ(s.rl.init, InitMode::observed);
  EXPECT_EQ(s.input.str(), "in.h5:/data");
  EXPECT_EQ(s.psf.str(), "p.h5:/k");
  EXPECT_EQ(s.output.str(), "out.h5:/data");  // the input's dataset path
  EXPECT_EQ(s.backend, "cpu");
  EXPECT_FALSE(s.overwrite);
  EXPECT_EQ(s.resolved.at("boundary"), "bertero");
}

TEST(RunOptions, OutputKeepsTheInputsDatasetPathUnlessGiven) {
  EXPECT_EQ(parse({"--input", "a.h5:/g/raw", "--psf", "p.h5", "--output", "b.h5"}).output.str(),
            "b.h5:/g/raw");
  EXPECT_EQ(parse({"--input", "a.h5:/raw", "--psf", "p.h5", "--output", "b.h5:/x"}).output.str(),
            "b.h5:/x");
}

TEST(RunOptions, ConfigFileIsReadAndTheCommandLineOverridesIt) {
  const ConfigFile ini(
      "# comment\ninput = cfg.h5:/raw\npsf = cfg_psf.h5\noutput = cfg_out.h5\n"
      "iterations = 7\nboundary = zero\ninit = mean\noverwrite = true\nthreads = 3\n");
  const RunSettings s = parse({"--config", ini.path()});
  EXPECT_EQ(s.input.str(), "cfg.h5:/raw");
  EXPECT_EQ(s.rl.iterations, 7);
  EXPECT_EQ(s.rl.boundary, Boundary::zero);
  EXPECT_EQ(s.rl.init, InitMode::mean);
  EXPECT_TRUE(s.overwrite);
  EXPECT_EQ(s.backend_options.threads, 3);

  const RunSettings o =
      parse({"--config", ini.path(), "--iterations", "2", "--boundary", "periodic"});
  EXPECT_EQ(o.rl.iterations, 2);
  EXPECT_EQ(o.rl.boundary, Boundary::periodic);
  EXPECT_EQ(o.rl.init, InitMode::mean);  // still from the file
}

TEST(RunOptions, UnknownConfigKeyNamesTheKeyAndTheFile) {
  const ConfigFile ini("iterations = 3\nbogus_key = 1\n");
  std::vector<std::string> args = kRequired;
  args.insert(args.end(), {"--config", ini.path()});
  const std::string msg = usage_error(args);
  EXPECT_NE(msg.find("unknown key 'bogus_key'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(ini.path()), std::string::npos) << msg;
}

TEST(RunOptions, UnknownOrAbbreviatedOptionsAreRefused) {
  std::vector<std::string> args = kRequired;
  args.push_back("--bogus");
  EXPECT_NE(usage_error(args).find("unknown option '--bogus'"), std::string::npos);
  args.back() = "--iter";  // no guessing: a typo must not pick --iterations
  EXPECT_NE(usage_error(args).find("unknown option '--iter'"), std::string::npos);
}

TEST(RunOptions, InvalidValuesAreUsageErrorsNamingTheOption) {
  auto with = [](std::vector<std::string> extra) {
    std::vector<std::string> args = kRequired;
    args.insert(args.end(), extra.begin(), extra.end());
    return usage_error(args);
  };
  EXPECT_EQ(with({"--iterations", "0"}), "--iterations must be >= 1, got 0");
  EXPECT_NE(with({"--boundary", "wavy"}).find("--boundary"), std::string::npos);
  EXPECT_NE(with({"--init", "zero"}).find("--init"), std::string::npos);
  EXPECT_NE(with({"--fft-planner", "fast"}).find("--fft-planner"), std::string::npos);
  EXPECT_NE(with({"--backend", "gpu"}).find("--backend"), std::string::npos);
  EXPECT_NE(with({"--eps", "-1"}).find("--eps"), std::string::npos);
  EXPECT_NE(with({"--axes", "xyz"}).find("--axes"), std::string::npos);
  EXPECT_NE(with({"--iterations", "many"}).find("--iterations"), std::string::npos);
  EXPECT_NE(with({"extra"}).find("positional"), std::string::npos);
}

TEST(RunOptions, MissingRequiredOptionIsNamed) {
  EXPECT_NE(usage_error({"--input", "a.h5", "--psf", "p.h5"}).find("--output"), std::string::npos);
}

TEST(RunOptions, HelpNeedsNothingElse) { EXPECT_TRUE(parse({"--help"}).help); }

TEST(RunOptions, PrintedSettingsParseBackAsAConfigFile) {
  const RunSettings s = parse({"--input", "a.h5", "--psf", "p.h5", "--output", "o.h5",
                               "--iterations", "4", "--boundary", "neumann", "--overwrite"});
  std::ostringstream os;
  print_settings(os, s);
  const ConfigFile ini(os.str());
  const RunSettings back = parse({"--config", ini.path()});
  EXPECT_EQ(back.resolved, s.resolved);
}

TEST(CommandLine, JoinQuotesWhatTheShellWouldSplit) {
  const char* argv[] = {"h5decon", "run", "--input", "my file.h5:/data", "it's"};
  EXPECT_EQ(join_command_line(5, argv), "h5decon run --input 'my file.h5:/data' 'it'\\''s'");
}

}  // namespace
}  // namespace h5decon::app

namespace h5decon::app {
namespace {

RunSettings parse_with(std::vector<std::string> extra) {
  std::vector<std::string> args{"--input", "in.h5", "--psf", "psf.h5", "--output", "out.h5"};
  args.insert(args.end(), extra.begin(), extra.end());
  return parse(args);
}

std::string error_with(std::vector<std::string> extra) {
  try {
    parse_with(std::move(extra));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RunQualityOptions, DefaultToPlainRl) {
  const RlOptions rl = parse_with({}).rl;
  EXPECT_EQ(rl.accel, Acceleration::none);
  EXPECT_EQ(rl.tv_lambda, 0.0f);
  EXPECT_EQ(rl.background, 0.0f);
  EXPECT_FALSE(rl.background_auto);
  EXPECT_EQ(rl.stop_rel_change, 0.0);
}

TEST(RunQualityOptions, EachOptionIsParsed) {
  const RlOptions rl = parse_with({"--accel", "biggs", "--boundary", "bertero", "--tv", "0.002",
                                   "--background", "99.5", "--stop-rel-change", "1e-4",
                                   "--max-iterations", "300"})
                           .rl;
  EXPECT_EQ(rl.accel, Acceleration::biggs);
  EXPECT_EQ(rl.boundary, Boundary::bertero);
  EXPECT_FLOAT_EQ(rl.tv_lambda, 0.002f);
  EXPECT_FLOAT_EQ(rl.background, 99.5f);
  EXPECT_DOUBLE_EQ(rl.stop_rel_change, 1e-4);
  EXPECT_EQ(rl.iterations, 300);
  EXPECT_TRUE(parse_with({"--background", "auto"}).rl.background_auto);
  EXPECT_EQ(parse_with({"--max-iterations", "7", "--iterations", "7"}).rl.iterations, 7);
}

TEST(RunQualityOptions, InvalidValuesAreRefusedNamingTheOption) {
  EXPECT_NE(error_with({"--accel", "nesterov"}).find("--accel: unknown value 'nesterov'; valid: none, biggs"),
            std::string::npos);
  EXPECT_NE(error_with({"--tv", "-0.1"}).find("--tv must be a number >= 0"), std::string::npos);
  EXPECT_NE(error_with({"--tv", "much"}).find("--tv"), std::string::npos);
  EXPECT_NE(error_with({"--background", "-3"}).find("--background: '-3' is not auto or a number >= 0"),
            std::string::npos);
  EXPECT_NE(error_with({"--background", "12abc"}).find("--background"), std::string::npos);
  EXPECT_NE(error_with({"--stop-rel-change", "-1"}).find("--stop-rel-change must be a number >= 0"),
            std::string::npos);
  EXPECT_NE(error_with({"--max-iterations", "0"}).find("iterations must be >= 1"),
            std::string::npos);
  EXPECT_NE(error_with({"--max-iterations", "5", "--iterations", "6"}).find("disagree"),
            std::string::npos);
  EXPECT_NE(error_with({"--boundary", "mirror"}).find("bertero"), std::string::npos);
}

TEST(RunQualityOptions, ComeFromAConfigFileToo) {
  const ConfigFile config("accel = biggs\ntv = 0.001\nbackground = auto\nstop-rel-change = 0.001\n");
  const RlOptions rl = parse_with({"--config", config.path()}).rl;
  EXPECT_EQ(rl.accel, Acceleration::biggs);
  EXPECT_FLOAT_EQ(rl.tv_lambda, 0.001f);
  EXPECT_TRUE(rl.background_auto);
  EXPECT_DOUBLE_EQ(rl.stop_rel_change, 0.001);
}

}  // namespace h5decon::app

namespace h5decon::app {
namespace {

std::vector<std::string> with_required(std::vector<std::string> extra) {
  std::vector<std::string> args = kRequired;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A value other than the default for every option that can change the result.
// A new such option fails the test below until it is listed here.
const std::map<std::string, std::vector<std::string>> kOtherValue = {
    {"axes", {"--axes", "zyx"}},
    {"boundary", {"--boundary", "reflect"}},
    {"init", {"--init", "mean"}},
    {"eps", {"--eps", "0.001"}},
    {"psf-crop", {"--psf-crop", "0.99"}},
    {"psf-resample", {"--psf-resample"}},
    {"accel", {"--accel", "biggs"}},
    {"tv", {"--tv", "0.002"}},
    {"background", {"--background", "auto"}},
    {"stop-rel-change", {"--stop-rel-change", "0.01"}},
    {"stop-divergence", {"--stop-divergence", "0.001"}},
    {"backprojector", {"--backprojector", "wb"}},
    {"wb-alpha", {"--backprojector", "wb", "--wb-alpha", "0.01"}},
    {"wb-beta", {"--backprojector", "wb", "--wb-beta", "0.05"}},
    {"wb-order", {"--backprojector", "wb", "--wb-order", "4"}},
    {"wb-resolution", {"--backprojector", "wb", "--wb-resolution", "3,2,2"}},
    {"backend", {"--backend", "auto"}},
    {"fft-planner", {"--fft-planner", "estimate"}},
    {"mode", {"--mode", "exact"}},
    {"no-compute", {"--no-compute"}},
};

TEST(RunOptionTable, EveryResultChangingOptionIsInTheSignature) {
  const auto base = result_option_signature(parse(kRequired).resolved);
  int result_options = 0;
  for (const RunOption& o : run_option_table()) {
    if (o.signature != InSignature::result) continue;
    ++result_options;
    const std::string name(o.name);
    ASSERT_TRUE(kOtherValue.count(name)) << "--" << name << " changes the result: list a value";
    const auto changed = result_option_signature(parse(with_required(kOtherValue.at(name))).resolved);
    EXPECT_NE(changed, base) << "--" << name << " does not change the signature";
    bool present = false;
    for (const auto& [key, value] : base) present = present || key == "opt." + name;
    EXPECT_TRUE(present) << "opt." << name << " missing from the default signature";
  }
  EXPECT_EQ(result_options, static_cast<int>(kOtherValue.size()));
  // What cannot change a voxel is not in it: threads, logging, the safety switches.
  const auto quiet = result_option_signature(
      parse(with_required({"--threads", "3", "--log-iterations", "2", "--overwrite",
                           "--progress-interval", "2", "--allow-singleton"}))
          .resolved);
  EXPECT_EQ(quiet, base);
}

TEST(RunOptionTable, WienerButterworthParametersNeedItsBackProjector) {
  EXPECT_THROW(parse(with_required({"--wb-alpha", "0.01"})), UsageError);
  EXPECT_THROW(parse(with_required({"--backprojector", "wb", "--wb-beta", "1.5"})), UsageError);
  EXPECT_THROW(parse(with_required({"--backprojector", "wb", "--wb-resolution", "3,2"})),
               UsageError);
  EXPECT_THROW(parse(with_required({"--backprojector", "fast"})), UsageError);
  const auto s = parse(with_required({"--backprojector", "wb", "--wb-resolution", "3,2.5,2.5",
                                      "--wb-order", "8"}));
  EXPECT_EQ(s.rl.back_projector, BackProjector::wb);
  EXPECT_EQ(s.rl.wb.resolution, (std::array<double, 3>{3.0, 2.5, 2.5}));
  EXPECT_EQ(s.rl.wb.order, 8);
  EXPECT_EQ(s.resolved.at("wb-beta"), "auto");
  // The default value given explicitly without wb is fine: it changes nothing.
  EXPECT_NO_THROW(parse(with_required({"--wb-order", "10"})));
}

TEST(RunOptionTable, EquivalentTextsAreOneValue) {
  const auto a = parse(with_required({"--tv", "0.010", "--eps", "1e-6", "--background", "5"}));
  const auto b = parse(with_required({"--tv", "1e-2", "--eps", "0.000001", "--background", "5.0"}));
  EXPECT_EQ(result_option_signature(a.resolved), result_option_signature(b.resolved));
  const auto c = parse(with_required({"--tv", "0.0100001"}));
  EXPECT_NE(result_option_signature(a.resolved), result_option_signature(c.resolved));
}

TEST(RunOptionTable, HelpAndProvenanceListEveryOption) {
  std::ostringstream help;
  help << run_option_descriptions();
  const RunSettings s = parse(with_required({"--max-iterations", "5", "--wisdom", "w.txt"}));
  for (const RunOption& o : run_option_table()) {
    EXPECT_NE(help.str().find("--" + std::string(o.name)), std::string::npos) << o.name;
    EXPECT_EQ(s.resolved.count(std::string(o.name)), o.recorded ? 1u : 0u) << o.name;
  }
}

TEST(RunOptionTable, ExactModeRefusesWhatOnlyBlocksModeUses) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--resume"}, {"--shard", "0/2"}, {"--sync-blocks"}, {"--no-compute"}, {"--backend", "cuda"}}) {
    auto args = with_required(extra);
    args.insert(args.end(), {"--mode", "exact"});
    EXPECT_NE(usage_error(args).find("not supported in --mode exact"), std::string::npos)
        << extra[0];
    args.resize(args.size() - 2);
    EXPECT_EQ(usage_error(args), "(no UsageError)") << extra[0] << " in blocks mode";
  }
  // Their defaults, given explicitly, are fine; auto resolves to the CPU.
  const RunSettings s = parse(with_required(
      {"--mode", "exact", "--block", "auto", "--shard", "off", "--backend", "auto"}));
  EXPECT_EQ(s.backend, "cpu");
}

}  // namespace
}  // namespace h5decon::app
