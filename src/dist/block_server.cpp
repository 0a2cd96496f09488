// The serving loop of rank 0.
#include "dist/block_server.hpp"

#include <chrono>
#include <iostream>

#include "h5decon/error.hpp"

namespace h5decon::dist {

BlockServer::BlockServer(MPI_Comm comm, const DecompositionPlan& plan,
                         const std::vector<std::int64_t>& blocks, const PieceLayout& layout,
                         const io::InputDataset& input, std::mutex& h5_lock,
                         const std::vector<int>& workers, Progress& progress,
                         BlockDoneHook on_done, std::function<bool()> stop_requested,
                         ServerReads reads)
    : comm_(comm),
      plan_(plan),
      blocks_(blocks),
      layout_(layout),
      input_(input),
      h5_lock_(h5_lock),
      workers_(workers),
      progress_(progress),
      on_done_(std::move(on_done)),
      reads_(reads),
      chunks_(input, reads.chunk_cache_bytes),
      negatives_(input.description()),
      stop_requested_(std::move(stop_requested)) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  if (reads_.direct) reads_.read_ahead = {0, 0};
  states_.resize(static_cast<std::size_t>(size));
}

void BlockServer::run() noexcept {
  try {
    std::optional<RegionReader> reader;
    if (reads_.read_ahead.depth > 0)
      reader.emplace(plan_, blocks_, input_, h5_lock_, reads_.read_ahead, reads_.chunk_cache_bytes);
    reader_ = reader ? &*reader : nullptr;
    while (gone_ < workers_.size()) {
      if (stop_rank_ < 0 && stop_requested_ && stop_requested_()) stop_rank_ = 0;
      const bool reported = poll_report();
      const bool served = dispatch();
      const bool sent = reap_sends();
      progress_.update(done_blocks_, done_voxels_);
      if (!reported && !served && !sent) sleep_briefly();
    }
    // Every worker received all it was sent before saying bye: these complete.
    for (Outgoing& out : outgoing_) out.requests.wait();
    for (auto& [abort, requests] : aborts_) requests.wait();
    outgoing_.clear();
    aborts_.clear();
    reader_ = nullptr;
    if (reader) {
      reader->stop();  // joins the thread: its time is final
      read_seconds_ += reader->read_seconds();
      file_bytes_ = reader->file_bytes();
    }
  } catch (...) {
    // Only the protocol itself can get here; the workers would wait forever.
    std::cerr << "h5decon: error: block server: " << message_of(std::current_exception())
              << "; aborting all ranks" << std::endl;
    MPI_Abort(MPI_COMM_WORLD, 5);
  }
}

bool BlockServer::poll_report() {
  int flag = 0;
  MPI_Status status;
  MPI_Iprobe(MPI_ANY_SOURCE, kTagReport, comm_, &flag, &status);
  if (!flag) return false;
  Report report;
  MPI_Recv(&report, sizeof(Report), MPI_BYTE, status.MPI_SOURCE, kTagReport, comm_,
           MPI_STATUS_IGNORE);
  report.text[sizeof(report.text) - 1] = '\0';
  handle(report, status.MPI_SOURCE);
  return true;
}

void BlockServer::handle(const Report& report, int source) {
  switch (report.kind) {
    case Report::kRequest:
      waiting_.push_back(source);
      break;
    case Report::kDone:
      ++done_blocks_;
      done_voxels_ += report.voxels;
      negatives_.add(block_at(plan_, report.block), report.negatives);
      record_done(report.block);
      break;
    case Report::kError:
      fail(Failure{source, report.block, static_cast<int>(report.error_class), report.text},
           source);
      break;
    case Report::kStop:
      if (stop_rank_ < 0) stop_rank_ = source;
      break;
    case Report::kBye:
      state(source).gone = true;
      ++gone_;
      break;
    default:
      throw Error(detail::concat("unknown report kind ", report.kind, " from rank ", source));
  }
}

// The worker sends DONE only after its write call returned: the block's data is
// in the file (at least in the OS's cache of it) when the hook records it.
void BlockServer::record_done(std::int64_t block) {
  if (!on_done_ || failure_) return;
  try {
    on_done_(block);
  } catch (...) {
    const auto error = std::current_exception();
    fail(Failure{0, block, classify(error),
                 describe_block(plan_, block_at(plan_, block)) +
                     ": recording it as done: " + message_of(error)},
         -1);
  }
}

// Answers the waiting requests in arrival order while regions are ready.
bool BlockServer::dispatch() {
  bool any = false;
  while (!waiting_.empty() && serve(waiting_.front())) {
    waiting_.pop_front();
    any = true;
  }
  return any;
}

// One reply to `worker`: its block, or stop. False, with nothing sent, while the
// reader thread is still reading the next region.
bool BlockServer::serve(int worker) {
  if (failure_ || stop_rank_ >= 0 || next_ >= blocks_.size()) {
    stop(worker);
    return true;
  }
  std::optional<RegionReader::Region> region;
  if (!reads_.direct) {  // otherwise the worker reads the region itself
    region = read_next();
    if (!region) return false;
    if (region->error) {
      fail(Failure{0, region->block, classify(region->error),
                   describe_block(plan_, block_at(plan_, region->block)) +
                       ": reading the input: " + message_of(region->error)},
           -1);
      stop(worker);
      return true;
    }
  }
  const std::int64_t id = blocks_[next_++];
  Outgoing& out = outgoing_.emplace_back();
  out.reply = Reply{Reply::kBlock, id, 0};
  MPI_Request r;
  MPI_Isend(&out.reply, sizeof(Reply), MPI_BYTE, worker, kTagReply, comm_, &r);
  out.requests.add(r);
  if (region) {
    out.data = std::move(region->data);
    bytes_served_ += static_cast<std::int64_t>(out.data.size());
    send_pieces(comm_, layout_, out.data, worker, out.requests);
  }
  return true;
}

// The region of blocks_[next_]: from the reader thread when it has it, or read
// here.
std::optional<RegionReader::Region> BlockServer::read_next() {
  if (reader_) return reader_->try_take();
  RegionReader::Region region;
  region.block = blocks_[next_];
  read_seconds_ += read_region(plan_, chunks_, h5_lock_, region);
  return region;
}

void BlockServer::stop(int worker) {
  WorkerState& s = state(worker);
  s.stopped = true;
  Outgoing& out = outgoing_.emplace_back();
  out.reply = Reply{Reply::kStop, -1, s.abort_sent ? 1 : 0};
  MPI_Request r;
  MPI_Isend(&out.reply, sizeof(Reply), MPI_BYTE, worker, kTagReply, comm_, &r);
  out.requests.add(r);
}

// The first failure stops the serving and aborts every worker still computing
// (not the one that reported it); later ones are only logged.
void BlockServer::fail(Failure failure, int reporter) {
  if (failure_) {
    std::cerr << "h5decon: rank " << failure.rank << ": " << failure.message
              << " (after the first failure)" << std::endl;
    return;
  }
  failure_ = std::move(failure);
  for (int w : workers_) {
    WorkerState& s = state(w);
    if (w == reporter || s.stopped) continue;
    auto& [abort, requests] = aborts_.emplace_back();
    abort = Abort{failure_->rank, failure_->block};
    MPI_Request r;
    MPI_Isend(&abort, sizeof(Abort), MPI_BYTE, w, kTagAbort, comm_, &r);
    requests.add(r);
    s.abort_sent = true;
  }
}

bool BlockServer::reap_sends() {
  bool any = false;
  for (auto it = outgoing_.begin(); it != outgoing_.end();) {
    if (it->requests.test()) {
      if (reader_ && !it->data.empty()) reader_->recycle(std::move(it->data));
      it = outgoing_.erase(it);
      any = true;
    } else {
      ++it;
    }
  }
  return any;
}

BlockServer::WorkerState& BlockServer::state(int rank) {
  return states_.at(static_cast<std::size_t>(rank));
}

}  // namespace h5decon::dist
