#include "agreement.hpp"

#include <vector>

#include "cli.hpp"
#include "h5decon/error.hpp"

namespace h5decon::app {

int exit_code_of(std::exception_ptr error) {
  if (!error) return kExitOk;
  try {
    std::rethrow_exception(error);
  } catch (const AgreedError& e) {
    return e.code();
  } catch (const UsageError&) {
    return kExitUsage;
  } catch (const InputError&) {
    return kExitInput;
  } catch (const IoError&) {
    return kExitIo;
  } catch (const BackendError&) {
    return kExitBackend;
  } catch (...) {
    return kExitOther;
  }
}

std::string message_of(std::exception_ptr error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error (not a std::exception)";
  }
}

void agree(MPI_Comm comm, std::exception_ptr local) {
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  const int code = local ? exit_code_of(local) : kExitOk;
  std::vector<int> codes(static_cast<std::size_t>(size));
  MPI_Allgather(&code, 1, MPI_INT, codes.data(), 1, MPI_INT, comm);
  int first = -1;
  for (int r = 0; r < size && first < 0; ++r)
    if (codes[static_cast<std::size_t>(r)] != kExitOk) first = r;
  if (first < 0) return;

  // The lowest failing rank's message, sent to every rank.
  const std::string mine = message_of(local);
  std::string message = rank == first ? mine : std::string();
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, first, comm);
  message.resize(static_cast<std::size_t>(length));
  MPI_Bcast(message.data(), length, MPI_CHAR, first, comm);
  throw AgreedError(codes[static_cast<std::size_t>(first)], first, message, mine);
}

void rethrow_with_context(const std::string& context) {
  try {
    throw;
  } catch (const UsageError& e) {
    throw UsageError(context + e.what());
  } catch (const InputError& e) {
    throw InputError(context + e.what());
  } catch (const IoError& e) {
    throw IoError(context + e.what());
  } catch (const BackendError& e) {
    throw BackendError(context + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(context + "out of memory");
  } catch (const std::exception& e) {
    throw Error(context + e.what());
  }
}

}  // namespace h5decon::app
