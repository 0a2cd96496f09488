#pragma once
// Agreement on failure across MPI ranks (docs/design.md §4): every step that may fail
// on some ranks only is followed by a collective check, so that a failure on any
// rank ends the run on every rank with one message and one exit code, never a hang.

#include <mpi.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace h5decon::app {

/// Exit codes of the h5decon program.
inline constexpr int kExitOk = 0, kExitUsage = 1, kExitInput = 2, kExitIo = 3, kExitBackend = 4,
                     kExitOther = 5;

/// The exit code for an exception: UsageError 1, InputError 2, IoError 3,
/// BackendError 4, anything else 5. An AgreedError keeps its code.
int exit_code_of(std::exception_ptr error);
/// The exception's what(), or "unknown error".
std::string message_of(std::exception_ptr error);

/// Thrown on every rank once the ranks have agreed that a step failed somewhere.
class AgreedError : public std::runtime_error {
 public:
  AgreedError(int code, int first_rank, const std::string& message, std::string local_message)
      : std::runtime_error(first_rank == 0 ? message
                                           : "rank " + std::to_string(first_rank) + ": " + message),
        code_(code),
        shared_(message),
        local_(std::move(local_message)) {}
  /// The exit code every rank should return.
  int code() const { return code_; }
  /// The lowest failing rank's message, without the rank prefix of what().
  const std::string& shared_message() const { return shared_; }
  /// This rank's own error message, empty when this rank did not fail.
  const std::string& local_message() const { return local_; }

 private:
  int code_;
  std::string shared_, local_;
};

/// Collective on `comm`: if `local` (this rank's error, or null) or any other
/// rank's error is set, throws AgreedError on every rank with the code and
/// message of the lowest failing rank (prefixed "rank R: " when R != 0).
void agree(MPI_Comm comm, std::exception_ptr local);

/// Runs `step` on this rank, then agree()s on its outcome. Collective on `comm`.
template <class Step>
void agree_on(MPI_Comm comm, Step&& step) {
  std::exception_ptr error;
  try {
    std::forward<Step>(step)();
  } catch (...) {
    error = std::current_exception();
  }
  agree(comm, error);
}

/// Rethrows the current exception with `context` in front of its message,
/// keeping its h5decon error type (and so its exit code).
[[noreturn]] void rethrow_with_context(const std::string& context);

}  // namespace h5decon::app
