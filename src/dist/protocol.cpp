// Messages of the block runtime: failures by type, region pieces, request sets.
#include "dist/protocol.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>
#include <thread>

#include "h5decon/error.hpp"

namespace h5decon::dist {

int classify(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const InputError&) {
    return 1;
  } catch (const IoError&) {
    return 2;
  } catch (const BackendError&) {
    return 3;
  } catch (...) {
    return 0;
  }
}

std::string message_of(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::bad_alloc&) {
    return "out of memory";
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error (not a std::exception)";
  }
}

void throw_failure(const Failure& f) {
  const std::string text = "rank " + std::to_string(f.rank) + ": " + f.message;
  switch (f.error_class) {
    case 1:
      throw InputError(text);
    case 2:
      throw IoError(text);
    case 3:
      throw BackendError(text);
    default:
      throw Error(text);
  }
}

std::string describe_block(const DecompositionPlan& plan, const Block& b) {
  return detail::concat("block ", b.id, " (c=", b.c, " t=", b.t, ", grid index ", b.index.z, ",",
                        b.index.y, ",", b.index.x, " of ", plan.grid.str(), ")");
}

PieceLayout::PieceLayout(std::int64_t max_bytes, std::int64_t max_message_bytes) {
  H5DECON_REQUIRE(max_message_bytes >= 4, Error, "largest MPI message of ", max_message_bytes,
                  " bytes is too small (at least 4)");
  const std::int64_t int_max = std::numeric_limits<int>::max();
  piece_bytes_ = std::min(max_message_bytes, int_max);
  pieces_ = std::max<std::int64_t>(1, (max_bytes + piece_bytes_ - 1) / piece_bytes_);
}

int PieceLayout::count(std::int64_t i, std::int64_t bytes) const {
  const std::int64_t first = i * piece_bytes_;
  return static_cast<int>(std::clamp<std::int64_t>(bytes - first, 0, piece_bytes_));
}

Requests::~Requests() {
  try {
    cancel();
  } catch (...) {
    std::cerr << "h5decon: warning: could not cancel outstanding MPI requests" << std::endl;
  }
}

bool Requests::test() {
  if (r_.empty()) return true;
  int flag = 0;
  MPI_Testall(static_cast<int>(r_.size()), r_.data(), &flag, MPI_STATUSES_IGNORE);
  if (flag) r_.clear();
  return flag != 0;
}

void Requests::wait() {
  while (!test()) sleep_briefly();
}

void Requests::cancel() {
  for (MPI_Request& r : r_)
    if (r != MPI_REQUEST_NULL) MPI_Cancel(&r);
  if (!r_.empty()) MPI_Waitall(static_cast<int>(r_.size()), r_.data(), MPI_STATUSES_IGNORE);
  r_.clear();
}

void post_piece_receives(MPI_Comm comm, const PieceLayout& layout, std::span<std::byte> buffer,
                         Requests& requests) {
  const auto size = static_cast<std::int64_t>(buffer.size());
  for (std::int64_t i = 0; i < layout.pieces(); ++i) {
    MPI_Request r;
    std::byte* at = buffer.data() + std::min(size, i * layout.piece_bytes());
    MPI_Irecv(at, layout.count(i, size), MPI_BYTE, 0, kTagData, comm, &r);
    requests.add(r);
  }
}

void send_pieces(MPI_Comm comm, const PieceLayout& layout, std::span<const std::byte> data,
                 int dest, Requests& requests) {
  const auto size = static_cast<std::int64_t>(data.size());
  for (std::int64_t i = 0; i < layout.pieces(); ++i) {
    MPI_Request r;
    const std::byte* at = data.data() + std::min(size, i * layout.piece_bytes());
    MPI_Isend(at, layout.count(i, size), MPI_BYTE, dest, kTagData, comm, &r);
    requests.add(r);
  }
}

void send_report(MPI_Comm comm, const Report& report) {
  MPI_Send(&report, sizeof(Report), MPI_BYTE, 0, kTagReport, comm);
}

void sleep_briefly() { std::this_thread::sleep_for(std::chrono::microseconds(500)); }

}  // namespace h5decon::dist
