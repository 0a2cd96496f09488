// The worker loop of the block runtime.
#include "dist/block_worker.hpp"

#include <chrono>
#include <cstring>
#include <iostream>
#include <utility>

#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

BlockWorker::BlockWorker(MPI_Comm comm, const DecompositionPlan& plan, const PieceLayout& layout,
                         SampleType type, BlockProcessor& processor,
                         std::function<bool()> stop_requested,
                         std::function<void(const Block&, std::span<std::byte>)> read_region)
    : comm_(comm),
      plan_(plan),
      layout_(layout),
      type_(type),
      processor_(processor),
      stop_requested_(std::move(stop_requested)),
      read_region_(std::move(read_region)) {}

void BlockWorker::run() noexcept {
  try {
    request();
    Reply reply = wait_reply();
    while (reply.kind == Reply::kBlock) {
      std::swap(current_, next_.data);
      const Block block = block_at(plan_, reply.block);
      request();  // the next block travels while this one is computed
      if (!compute(block)) return drain(wait_reply());
      if (stop_requested_ && stop_requested_()) {
        // Between blocks: finish what started, say so, and take no further block
        // (one that has arrived meanwhile is left for --resume).
        if (finish_started(0)) report_stop();
        return drain(wait_reply());
      }
      reply = wait_reply();
    }
    if (!finish_started(0)) return drain(reply);
    leave(reply);
  } catch (...) {
    // Only the protocol itself can get here (no memory for the buffers): the
    // server would wait for this rank forever, so end the job.
    std::cerr << "h5decon: error: block worker: " << message_of(std::current_exception())
              << "; aborting all ranks" << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 5);
  }
}

void BlockWorker::request() {
  next_.data.resize(static_cast<std::size_t>(plan_.max_region.size()) *
                    static_cast<std::size_t>(sample_bytes(type_)));
  MPI_Request r;
  MPI_Irecv(&next_.reply, sizeof(Reply), MPI_BYTE, 0, kTagReply, comm_, &r);
  next_.header.add(r);
  if (!read_region_) post_piece_receives(comm_, layout_, next_.data, next_.pieces);
  Report report;
  report.kind = Report::kRequest;
  send_report(comm_, report);
}

Reply BlockWorker::wait_reply() {
  const auto start = Clock::now();
  next_.header.wait();
  if (next_.reply.kind == Reply::kBlock && read_region_) {
    // --read direct: this rank reads the region itself; a failure is the block's.
    const Block block = block_at(plan_, next_.reply.block);
    const auto bytes = static_cast<std::size_t>(block.region_count.size()) *
                       static_cast<std::size_t>(sample_bytes(type_));
    try {
      read_region_(block, std::span<std::byte>(next_.data.data(), bytes));
    } catch (...) {
      read_failure_ = std::current_exception();
    }
  } else if (next_.reply.kind == Reply::kBlock) {
    next_.pieces.wait();
  } else {
    next_.pieces.cancel();
  }
  processor_.work().wait_s += seconds_since(start);
  return next_.reply;
}

// A block whose engine overlaps (CUDA) is started, then the one before it is
// finished while it computes; any other block is computed as it always was.
bool BlockWorker::compute(const Block& block) {
  try {
    poll_abort();
    if (read_failure_) std::rethrow_exception(std::exchange(read_failure_, nullptr));
    const auto bytes = static_cast<std::size_t>(block.region_count.size()) *
                       static_cast<std::size_t>(sample_bytes(type_));
    const SampleView region{type_, std::span<const std::byte>(current_.data(), bytes)};
    if (processor_.overlaps(block)) {
      processor_.submit(block, region);
      return finish_started(1);
    }
    if (!finish_started(0)) return false;
    report_done(block,
                processor_.process(block, region, [this](const IterationReport&) { poll_abort(); }));
    return true;
  } catch (const Aborted&) {
    processor_.abandon();
    return false;
  } catch (...) {
    processor_.abandon();
    report_failure(block.id, std::current_exception());
    return false;
  }
}

// Finishes started blocks, oldest first, until `keep` are left; reports each.
bool BlockWorker::finish_started(std::size_t keep) {
  while (processor_.pending() > keep) {
    const Block block = processor_.oldest();
    std::int64_t negatives = 0;
    try {
      negatives = processor_.finish([this] { poll_abort(); });
    } catch (const Aborted&) {
      processor_.abandon();
      return false;
    } catch (...) {
      processor_.abandon();
      report_failure(block.id, std::current_exception());
      return false;
    }
    report_done(block, negatives);
  }
  return true;
}

void BlockWorker::report_done(const Block& block, std::int64_t negatives) {
  Report report;
  report.kind = Report::kDone;
  report.block = block.id;
  report.voxels = block.interior_count.size();
  report.negatives = negatives;
  send_report(comm_, report);
}

void BlockWorker::report_failure(std::int64_t block, std::exception_ptr error) {
  Report report;
  report.kind = Report::kError;
  report.block = block;
  report.error_class = classify(error);
  const std::string text = describe_block(plan_, block_at(plan_, block)) + ": " + message_of(error);
  std::strncpy(report.text, text.c_str(), sizeof(report.text) - 1);
  send_report(comm_, report);
}

void BlockWorker::report_stop() {
  Report report;
  report.kind = Report::kStop;
  send_report(comm_, report);
}

void BlockWorker::poll_abort() {
  if (abort_received_) throw Aborted{};
  int flag = 0;
  MPI_Iprobe(0, kTagAbort, comm_, &flag, MPI_STATUS_IGNORE);
  if (!flag) return;
  Abort abort;
  MPI_Recv(&abort, sizeof(Abort), MPI_BYTE, 0, kTagAbort, comm_, MPI_STATUS_IGNORE);
  abort_received_ = true;
  throw Aborted{};
}

// After a failure or an abort: every further request is answered with stop,
// but a block may already be on its way; take it, and ask again until stopped.
void BlockWorker::drain(Reply reply) {
  while (reply.kind == Reply::kBlock) {
    request();
    reply = wait_reply();
  }
  leave(reply);
}

void BlockWorker::leave(const Reply& stop) {
  if (stop.abort_sent && !abort_received_) {
    Abort abort;
    MPI_Recv(&abort, sizeof(Abort), MPI_BYTE, 0, kTagAbort, comm_, MPI_STATUS_IGNORE);
    abort_received_ = true;
  }
  Report report;
  report.kind = Report::kBye;
  send_report(comm_, report);
}

}  // namespace h5decon::dist
