// Shards of job arrays: which volumes, which file.
#include "run_shard.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli.hpp"

namespace h5decon::app {
namespace {

// A whole decimal number, or nothing.
bool parse_int(const std::string& text, std::int64_t& value) {
  std::size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == text.size() && !text.empty();
}

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  std::int64_t value = 0;
  if (!parse_int(text, value))
    throw UsageError(detail::concat("--shard auto: ", name, "='", text, "' is not a number"));
  return value;
}

Shard from_slurm() {
  Shard s;
  if (!std::getenv("SLURM_ARRAY_TASK_ID")) return s;  // not an array task: off
  const std::int64_t id = env_int("SLURM_ARRAY_TASK_ID", 0);
  const std::int64_t min = env_int("SLURM_ARRAY_TASK_MIN", 0);
  const std::int64_t max = env_int("SLURM_ARRAY_TASK_MAX", id);
  const std::int64_t step = env_int("SLURM_ARRAY_TASK_STEP", 1);
  if (step < 1 || max < min || (id - min) % step != 0 || (max - min) % step != 0)
    throw UsageError(detail::concat(
        "--shard auto: SLURM_ARRAY_TASK_ID=", id, " MIN=", min, " MAX=", max, " STEP=", step,
        " is not an evenly stepped array (give --shard K/N explicitly)"));
  s.enabled = true;
  s.index = (id - min) / step;
  s.count = (max - min) / step + 1;
  s.source = detail::concat("SLURM_ARRAY_TASK_ID=", id, " (MIN ", min, ", MAX ", max, ", STEP ",
                            step, ")");
  return s;
}

}  // namespace

void log_shard_choice(MPI_Comm comm, const Shard& shard, const std::string& option) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  if (shard.enabled) {
    std::cout << "shard " << shard.str() << " (from " << shard.source
              << "): this run computes the (c, t) volumes i = c*T + t with i % " << shard.count
              << " == " << shard.index << std::endl;
  } else if (const char* task = std::getenv("SLURM_ARRAY_TASK_ID"); task && option == "off") {
    std::cout << "SLURM array task " << task << " with --shard off: this run computes every "
              << "volume of its input (--shard auto splits one input over the array's tasks)"
              << std::endl;
  }
}

std::string Shard::str() const { return detail::concat(index, "/", count); }

Shard resolve_shard(const std::string& option) {
  Shard s;
  if (option == "off") return s;
  if (option == "auto") s = from_slurm();
  else {
    const auto slash = option.find('/');
    if (slash == std::string::npos || !parse_int(option.substr(0, slash), s.index) ||
        !parse_int(option.substr(slash + 1), s.count))
      throw UsageError("--shard: '" + option + "' is not K/N (e.g. 0/4), auto or off");
    s.enabled = true;
    s.source = "--shard " + option;
  }
  if (s.enabled && (s.count < 1 || s.index < 0 || s.index >= s.count))
    throw UsageError(detail::concat("--shard: shard ", s.index, " of ", s.count,
                                    " is out of range: K must be 0..N-1 and N >= 1 (from ",
                                    s.source, ")"));
  return s;
}

std::vector<io::VolumeIndex> shard_volumes(const Shape5& shape, const Shard& shard) {
  std::vector<io::VolumeIndex> out;
  for (std::int64_t c = 0; c < shape.c; ++c)
    for (std::int64_t t = 0; t < shape.t; ++t)
      if (!shard.enabled || (c * shape.t + t) % shard.count == shard.index) out.push_back({c, t});
  H5DECON_REQUIRE(!out.empty(), InputError, "shard ", shard.str(), " has no volumes: the input has ",
                  shape.c * shape.t, " (c, t) volumes, so at most ", shape.c * shape.t,
                  " shards are useful");
  return out;
}

std::string shard_file_name(const std::string& file, const Shard& shard) {
  const std::filesystem::path p(file);
  const std::string tag = detail::concat(".shard", shard.index, "-of-", shard.count);
  const std::string ext = p.extension().string();
  const std::string stem = file.substr(0, file.size() - ext.size());
  return stem + tag + ext;
}

std::vector<std::int64_t> blocks_of(const DecompositionPlan& plan,
                                    const std::vector<io::VolumeIndex>& volumes) {
  std::vector<std::int64_t> out;
  const std::int64_t per_volume = plan.grid.size();
  for (const auto& [c, t] : volumes) {
    const std::int64_t first = block_id(plan, c, t, 0, 0, 0);
    for (std::int64_t i = 0; i < per_volume; ++i) out.push_back(first + i);
  }
  return out;
}

}  // namespace h5decon::app
