// Launch and disk-space checks before `h5decon run` writes anything.
#include "preflight.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "run_resume.hpp"
#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::app {
namespace {

namespace fs = std::filesystem;

int positive_env(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return 0;
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);
  return end && *end == '\0' && n > 0 && n < (1L << 30) ? static_cast<int>(n) : 0;
}

std::string mib(std::int64_t bytes) {
  return detail::concat(static_cast<double>(bytes * 10 / (1024 * 1024)) / 10, " MiB");
}

// Bytes already on disk for `file` (its blocks: a sparse file holds only what was written).
std::int64_t allocated_bytes(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_blocks) * 512;
}

}  // namespace

int slurm_task_count() {
  const int step = positive_env("SLURM_STEP_NUM_TASKS");
  return step ? step : positive_env("SLURM_NTASKS");
}

void check_launch(MPI_Comm comm, bool allow_singleton) {
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  const int tasks = slurm_task_count();
  if (tasks <= 1 || tasks == size) return;
  const std::string what = detail::concat(
      "MPI world size ", size, " but SLURM_NTASKS=", tasks, " (SLURM_STEP_NUM_TASKS, else ",
      "SLURM_NTASKS)");
  if (size == 1 && !allow_singleton)
    throw UsageError(what + ": srun started " + std::to_string(tasks) +
                     " processes that are not one MPI job (srun without MPI support, e.g. "
                     "--mpi=none, or an MPI built without SLURM/PMIx); each would compute and "
                     "write the whole output. Launch with 'srun --mpi=pmix' or mpirun, or pass "
                     "--allow-singleton to run on one rank anyway");
  if (rank == 0)
    std::cerr << "h5decon: warning: " << what << "; running on " << size
              << (size == 1 ? " rank (--allow-singleton)" : " ranks") << std::endl;
}

std::int64_t output_bytes(const DecompositionPlan& plan, std::int64_t volumes) {
  std::int64_t chunks = 1;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t n = plan.dataset.volume[a], c = std::max<std::int64_t>(1, plan.chunk[a]);
    chunks *= (n + c - 1) / c;
  }
  const Shape3 chunk{std::min(plan.chunk.z, plan.dataset.volume.z),
                     std::min(plan.chunk.y, plan.dataset.volume.y),
                     std::min(plan.chunk.x, plan.dataset.volume.x)};
  constexpr std::int64_t kMetadata = 1 << 20;  // provenance attributes, chunk index
  return volumes * chunks * chunk.size() * 4 + kMetadata;
}

void check_free_space(const std::string& output_file, std::int64_t bytes, bool resume) {
  const fs::path parent = fs::absolute(output_file).parent_path();
  struct statvfs st {};
  if (::statvfs(parent.c_str(), &st) != 0) return;  // the creation reports a real problem
  const auto free = static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
  const std::int64_t held = resume ? allocated_bytes(io::partial_file(output_file)) : 0;
  const std::int64_t needed = std::max<std::int64_t>(0, bytes - held);
  H5DECON_REQUIRE(needed <= free, IoError, "output '", output_file, "': not enough free space in '",
                  parent.string(), "': the output needs ", needed, " bytes (", mib(needed), ")",
                  resume ? " more" : "", ", ", free, " bytes (", mib(free),
                  ") are free; free some space or choose another --output");
}

void claim_output(const RunSettings& s, int rank, std::optional<OutputLock>& lock) {
  if (rank == 0) lock.emplace(s.output.file);
  check_output_state(s);
}

io::FileIdentity check_opened_input(const RunSettings& s, const io::InputDataset& input,
                                    std::int64_t volumes, int rank) {
  check_background_for(s.rl, input.dtype(), s.input.str());
  if (rank != 0) return {};
  check_free_space(s.output.file, volumes * input.shape().volume.size() * 4, s.resume);
  return input_identity(s);
}

}  // namespace h5decon::app
