// The run pipeline's checks before anything is written (src/app, the h5decon_app
// library): the launch, the output's state, the plan of `run` and `info`.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "app/preflight.hpp"
#include "app/run_journal.hpp"
#include "app/run_options.hpp"
#include "app/run_resume.hpp"
#include "h5decon/error.hpp"

namespace h5decon::app {
namespace {

namespace fs = std::filesystem;

// A scratch folder removed at the end of the test.
class Scratch {
 public:
  Scratch() : dir_(fs::temp_directory_path() / ("h5decon_pipeline_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(counter_++))) {
    fs::create_directories(dir_);
  }
  ~Scratch() { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  void touch(const std::string& name) const { std::ofstream(file(name)) << "x"; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

RunSettings settings_for(const Scratch& d, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run", "--input", d.file("in.h5"), "--psf", d.file("psf.h5"),
                                   "--output", d.file("out.h5")};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_run_settings(static_cast<int>(argv.size()), argv.data());
}

// Sets an environment variable for one scope.
class Env {
 public:
  Env(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~Env() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(Launch, OneRankUnderSlurmWithMoreTasksIsRefusedUnlessAllowed) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 1) GTEST_SKIP() << "a one-rank launch check";
  const Env tasks("SLURM_NTASKS", "4");
  try {
    check_launch(MPI_COMM_WORLD, false);
    ADD_FAILURE() << "expected a refusal";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("SLURM_NTASKS=4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--allow-singleton"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_launch(MPI_COMM_WORLD, true));
  const Env step("SLURM_STEP_NUM_TASKS", "1");  // the step's count wins over the job's
  EXPECT_NO_THROW(check_launch(MPI_COMM_WORLD, false));
}

TEST(OutputState, AnExistingOutputNeedsOverwrite) {
  const Scratch d;
  d.touch("out.h5");
  EXPECT_THROW(check_output_state(settings_for(d)), InputError);
  EXPECT_NO_THROW(check_output_state(settings_for(d, {"--overwrite"})));
}

TEST(OutputState, ResumableWorkIsNeverReplacedSilently) {
  const Scratch d;
  d.touch("out.h5.partial");
  d.touch("out.h5.partial.journal");
  ASSERT_EQ(journal_path(d.file("out.h5")), d.file("out.h5.partial.journal"));
  try {
    check_output_state(settings_for(d));
    ADD_FAILURE() << "expected a refusal";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pass --resume"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_output_state(settings_for(d, {"--resume"})));
  EXPECT_NO_THROW(check_output_state(settings_for(d, {"--overwrite"})));
  // The same in exact mode: one pipeline, one check.
  EXPECT_THROW(check_output_state(settings_for(d, {"--mode", "exact"})), InputError);
}

TEST(OutputState, ResumeNeedsAPartialOutputWithItsJournal) {
  const Scratch d;
  EXPECT_THROW(check_output_state(settings_for(d, {"--resume"})), InputError);
  d.touch("out.h5.partial");
  try {
    check_output_state(settings_for(d, {"--resume"}));
    ADD_FAILURE() << "expected a refusal";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no journal"), std::string::npos) << e.what();
  }
}

TEST(FreeSpace, AnOutputLargerThanTheDiskIsRefusedNamingTheBytes) {
  const Scratch d;
  EXPECT_NO_THROW(check_free_space(d.file("out.h5"), 1024, false));
  try {
    check_free_space(d.file("out.h5"), std::int64_t{1} << 60, false);
    ADD_FAILURE() << "expected a refusal";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("free"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace h5decon::app
