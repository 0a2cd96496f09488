// Graceful SIGTERM and the written-block log of `h5decon run`.
#include "run_hooks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>

#include "h5decon/error.hpp"

namespace h5decon::app {
namespace {

std::atomic<int> terminations{0};
struct sigaction previous {};

extern "C" void on_sigterm(int) {
  // A second SIGTERM: the user means it; end as the default disposition would.
  if (terminations.fetch_add(1) >= 1) {
    std::signal(SIGTERM, SIG_DFL);
    std::raise(SIGTERM);
  }
}

}  // namespace

GracefulTermination::GracefulTermination() {
  terminations = 0;
  struct sigaction action {};
  action.sa_handler = on_sigterm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, &previous);
}

GracefulTermination::~GracefulTermination() { sigaction(SIGTERM, &previous, nullptr); }

bool termination_requested() { return terminations.load() > 0; }

Error stopped_by_sigterm(int rank) {
  return Error(detail::concat("stopped by SIGTERM (first seen by rank ", rank,
                              ") after the blocks in progress were written; the blocks recorded "
                              "done are kept: finish with --resume"));
}

void log_block_written(int rank, std::int64_t block) {
  static const char* const path = std::getenv("H5DECON_BLOCK_LOG");
  if (!path || !*path) return;
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;  // a diagnostic only: never fail a run over it
  const std::string line = std::to_string(rank) + " " + std::to_string(block) + "\n";
  [[maybe_unused]] const auto written = ::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace h5decon::app
