// `h5decon merge --output OUT.h5[:/path] SHARD.h5[:/path]...`
#include "merge_command.hpp"

#include <mpi.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/shard_merge.hpp"

namespace h5decon::app {
namespace {

const char* const kSynopsis = "--output OUT.h5[:/path] [--copy] SHARD.h5[:/path]...";
const char* const kDescription =
    "Joins the shard files written by `h5decon run --shard K/N` (one per job-array\n"
    "task) into OUT.h5, whose dataset is (c, t, z, y, x) again. It checks that the\n"
    "shards belong together (same input and settings, N shards, every (c, t) volume\n"
    "exactly once, none interrupted). By default the dataset is an HDF5 virtual\n"
    "dataset that maps every volume to its shard file (keep the shards beside it);\n"
    "--copy writes a self-contained copy instead, one slab at a time. The shards'\n"
    "dataset path defaults to the output's (default /data).";

struct MergeSettings {
  bool help = false;
  io::DatasetRef output;
  std::vector<io::DatasetRef> shards;
  io::MergeOptions options;
};

po::options_description merge_option_descriptions() {
  po::options_description desc("Merge options");
  desc.add_options()("output", po::value<std::string>()->value_name("OUT.h5[:/path]"),
                     "the merged file (dataset path default /data)")(
      "copy", switch_value(), "copy the data instead of mapping it (a virtual dataset)")(
      "overwrite", switch_value(), "replace an existing output file");
  desc.add(generic_options());
  return desc;
}

io::DatasetRef parse_ref(const std::string& option, const std::string& spec,
                         const std::string& default_path) {
  try {
    return io::DatasetRef::parse(spec, default_path);
  } catch (const InputError& e) {
    throw UsageError(option + ": " + e.what());
  }
}

MergeSettings parse_merge_settings(int argc, char** argv) {
  // Shard files are the arguments that are neither options nor their values.
  std::vector<const char*> options{argv[0]};
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("-")) {
      options.push_back(argv[i]);
      const bool takes_value = (arg == "--output" || arg == "--config");
      if (takes_value && i + 1 < argc) options.push_back(argv[++i]);
    } else {
      files.push_back(arg);
    }
  }
  const ParsedOptions parsed = parse_options("merge", static_cast<int>(options.size()),
                                             options.data(), merge_option_descriptions());
  MergeSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  require_option(parsed, "output");
  s.output = parse_ref("--output", parsed.values["output"].as<std::string>(), "/data");
  s.options.copy = parsed.values["copy"].as<bool>();
  s.options.overwrite = parsed.values["overwrite"].as<bool>();
  if (files.empty()) throw UsageError("merge: no shard files given (SHARD.h5...)");
  for (const std::string& f : files) s.shards.push_back(parse_ref("shard '" + f + "'", f, s.output.path));
  return s;
}

}  // namespace

int merge_command(int argc, char** argv, const std::string& command_line) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MergeSettings s;
  agree_on(MPI_COMM_WORLD, [&] { s = parse_merge_settings(argc, argv); });
  if (s.help) {
    if (rank == 0) print_help(std::cout, "merge", kSynopsis, kDescription, merge_option_descriptions());
    return kExitOk;
  }
  s.options.command_line = command_line;
  const auto start = std::chrono::steady_clock::now();
  io::MergeReport report;
  agree_on(MPI_COMM_WORLD, [&] {
    if (rank == 0) report = io::merge_shards(s.output, s.shards, s.options);
  });
  if (rank == 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "merged " << report.shards << " shards (" << report.volumes << " volumes, "
              << report.shape.str() << ") into " << s.output.str() << " as "
              << (s.options.copy ? "a copy (" + std::to_string(report.bytes_copied) + " bytes)"
                                 : std::string("a virtual dataset"))
              << " in " << seconds << " s" << std::endl;
  }
  return kExitOk;
}

}  // namespace h5decon::app
