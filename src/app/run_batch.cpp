// `run --inputs`: the list, each input's output, this task's share, and one run
// per input with that input's settings.
#include "run_batch.hpp"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/natural_order.hpp"
#include "run_command.hpp"
#include "run_journal.hpp"
#include "run_shard.hpp"

namespace h5decon::app {
namespace {

namespace fs = std::filesystem;

bool is_glob(const std::string& spec) { return spec.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> glob_matches(const std::string& pattern) {
  glob_t found{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &found);
  std::vector<std::string> out;
  for (std::size_t i = 0; rc == 0 && i < found.gl_pathc; ++i) out.emplace_back(found.gl_pathv[i]);
  globfree(&found);
  std::sort(out.begin(), out.end(), natural_less);
  return out;
}

std::vector<std::string> list_file(const std::string& file) {
  std::ifstream in(file);
  H5DECON_REQUIRE(in, InputError, "--inputs: list file '", file, "' cannot be read (not found, ",
                  "or no permission); give a list file or a quoted glob such as 'raw/*.h5'");
  const fs::path folder = fs::path(file).parent_path();
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    out.push_back(fs::path(line).is_absolute() ? line : (folder / line).string());
  }
  return out;
}

// Rank 0's list, then every rank's (the same files: a list read once per rank).
std::vector<std::string> agreed_inputs(MPI_Comm comm, int rank, const std::string& spec) {
  std::vector<std::string> inputs;
  agree_on(comm, [&] {
    if (rank == 0) inputs = batch_inputs(spec);
  });
  agree_on(comm, [&] {
    if (rank != 0) inputs = batch_inputs(spec);
  });
  return inputs;
}

// This input's settings: the batch's, with its input and output, whole (no shard).
RunSettings settings_for(const RunSettings& batch, const std::string& input) {
  RunSettings s = batch;
  s.inputs.clear();
  s.resolved.erase("inputs");
  s.input = io::DatasetRef::parse(input, "/data");
  s.output = io::DatasetRef{batch_output(batch.output.file, input), batch.output.path};
  s.resolved["input"] = s.input.str();
  s.resolved["output"] = s.output.str();
  s.shard = "off";
  if (s.resolved.count("shard")) s.resolved["shard"] = "off";
  return s;
}

bool exists(const std::string& file) {
  std::error_code ec;
  return fs::exists(file, ec);
}

// Rank 0, before anything runs: outputs distinct, none silently replaced.
void check_outputs(const std::vector<RunSettings>& runs, const RunSettings& batch) {
  std::set<std::string> seen;
  for (const RunSettings& r : runs) {
    const std::string out = fs::absolute(r.output.file).lexically_normal().string();
    H5DECON_REQUIRE(seen.insert(out).second, UsageError, "--inputs: two inputs have the output '",
                    r.output.file, "' (their file names are alike); put more of the name in "
                    "--output or rename the inputs");
    H5DECON_REQUIRE(batch.overwrite || batch.resume || !exists(r.output.file), InputError,
                    "--inputs: output '", r.output.file, "' (of input '", r.input.str(),
                    "') exists; pass --resume to skip complete outputs and finish interrupted "
                    "ones, or --overwrite to replace them");
  }
}

}  // namespace

std::vector<std::string> batch_inputs(const std::string& spec) {
  std::vector<std::string> inputs = is_glob(spec) ? glob_matches(spec) : list_file(spec);
  H5DECON_REQUIRE(!inputs.empty(), InputError, "--inputs '", spec, "': ",
                  is_glob(spec) ? "no file matches" : "the list names no input");
  return inputs;
}

std::string batch_output(const std::string& output_pattern, const std::string& input) {
  const std::string file = io::DatasetRef::parse(input, "/data").file;
  const std::string name = fs::path(file).stem().string();
  std::string out = output_pattern;
  for (auto at = out.find("{name}"); at != std::string::npos; at = out.find("{name}", at + name.size()))
    out.replace(at, 6, name);
  return out;
}

int run_batch(MPI_Comm comm, const RunSettings& batch, const std::string& command_line) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const std::vector<std::string> inputs = agreed_inputs(comm, rank, batch.inputs);
  Shard shard;
  agree_on(comm, [&] { shard = resolve_shard(batch.shard); });
  std::vector<RunSettings> runs;  // this task's share: inputs i with i % N == K
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!shard.enabled || std::int64_t(i) % shard.count == shard.index)
      runs.push_back(settings_for(batch, inputs[i]));
  agree_on(comm, [&] {
    if (rank == 0) check_outputs(runs, batch);
  });
  if (rank == 0)
    std::cout << "batch: " << inputs.size() << " inputs from '" << batch.inputs << "'"
              << (shard.enabled ? "; task " + shard.str() + " (" + shard.source + ") runs " +
                                      std::to_string(runs.size()) + " of them whole"
                                : std::string())
              << std::endl;
  std::size_t done = 0, skipped = 0;
  SharedRuntime shared;  // engines and plans kept from one input to the next
  for (std::size_t k = 0; k < runs.size(); ++k) {
    RunSettings& r = runs[k];
    if (batch.resume) {  // complete: skipped; interrupted: resumed; else started
      int state = 0;
      if (rank == 0)
        state = exists(r.output.file) ? 2 : exists(io::partial_file(r.output.file)) &&
                                                    exists(journal_path(r.output.file)) ? 1 : 0;
      MPI_Bcast(&state, 1, MPI_INT, 0, comm);
      if (state == 2) {
        ++skipped;
        if (rank == 0) std::cout << "batch: " << r.output.file << " is complete; skipped" << std::endl;
        continue;
      }
      r.resume = state == 1;
    }
    if (rank == 0)
      std::cout << "batch: input " << k + 1 << " of " << runs.size() << ": " << r.input.str()
                << " -> " << r.output.str() << (r.resume ? " (resumed)" : "") << std::endl;
    try {
      run_one(comm, r, command_line, &shared);
    } catch (const AgreedError& e) {
      throw AgreedError(e.code(), 0,
                        detail::concat("--inputs: input ", k + 1, " of ", runs.size(),
                                       " failed (the outputs before it are complete; --resume "
                                       "skips them): ", e.shared_message()),
                        e.local_message());
    }
    ++done;
  }
  if (rank == 0)
    std::cout << "batch: " << done << " run, " << skipped << " complete before" << std::endl;
  return kExitOk;
}

}  // namespace h5decon::app
