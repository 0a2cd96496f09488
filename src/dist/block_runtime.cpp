// The block runtime's entry points: memory budget, FFT plan sharing, and the
// run itself: rank 0 serves (in a thread of its own when MPI allows it, so it
// computes too), every computing rank works, the outcome is gathered on rank 0.
#include "h5decon/dist/block_runtime.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>
#include <thread>

#include "dist/block_processor.hpp"
#include "dist/block_server.hpp"
#include "dist/chunk_cache.hpp"
#include "dist/block_worker.hpp"
#include "dist/engine_cache.hpp"
#include "dist/progress.hpp"
#include "dist/protocol.hpp"
#include "h5decon/dist/memory_fit.hpp"
#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

using Clock = std::chrono::steady_clock;

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

int comm_size(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  return size;
}

// A memory limit of this process's cgroup (SLURM and containers set one), if any.
std::optional<std::int64_t> cgroup_limit() {
  for (const char* file :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(file);
    long long value = 0;
    if (in >> value && value > 0) return value;  // "max" (no limit) fails to parse
  }
  return std::nullopt;
}

std::int64_t resolve_max_message(const BlockRunOptions& options, MPI_Comm comm) {
  long long bytes = options.max_message_bytes > 0 ? options.max_message_bytes : 0;
  if (comm_rank(comm) == 0 && bytes == 0) {
    const char* env = std::getenv(kMaxMessageEnv);
    try {
      if (env && *env) bytes = std::stoll(env);
    } catch (const std::exception&) {
      std::cerr << "h5decon: warning: ignoring " << kMaxMessageEnv << "='" << env
                << "' (not a number of bytes)" << std::endl;
    }
    if (bytes <= 0) bytes = kDefaultMaxMessageBytes;
  }
  MPI_Bcast(&bytes, 1, MPI_LONG_LONG, 0, comm);  // rank 0's value is the rule
  return bytes;
}

std::int64_t interior_voxels(const DecompositionPlan& plan, const std::vector<std::int64_t>& ids) {
  std::int64_t sum = 0;
  for (std::int64_t id : ids) sum += block_at(plan, id).interior_count.size();
  return sum;
}

// CPUs this process may run on (mpirun and srun bind ranks); 0 when unknown.
int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
}

}  // namespace

std::int64_t auto_memory_budget(MPI_Comm comm, double fraction) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  const int local = comm_size(node);
  MPI_Comm_free(&node);
  std::int64_t memory =
      std::int64_t{sysconf(_SC_PHYS_PAGES)} * std::int64_t{sysconf(_SC_PAGE_SIZE)};
  if (const auto limit = cgroup_limit()) memory = std::min(memory, *limit);
  long long mine = static_cast<long long>(double(memory) * fraction / std::max(1, local));
  long long all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_LONG_LONG, MPI_MIN, comm);
  return all;
}

std::string describe_per_rank(MPI_Comm comm, const std::string& text) {
  const int rank = comm_rank(comm), size = comm_size(comm);
  const int length = static_cast<int>(text.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), displs(lengths.size());
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm);
  for (std::size_t r = 1; r < lengths.size(); ++r) displs[r] = displs[r - 1] + lengths[r - 1];
  std::string all(rank == 0 ? static_cast<std::size_t>(displs.back() + lengths.back()) : 0, ' ');
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR, 0,
              comm);
  if (rank != 0) return {};
  std::vector<std::string> texts;
  for (int r = 0; r < size; ++r)
    texts.push_back(
        all.substr(static_cast<std::size_t>(displs[r]), static_cast<std::size_t>(lengths[r])));
  if (std::all_of(texts.begin(), texts.end(), [&](const std::string& t) { return t == texts[0]; }))
    return (size == 1 ? "rank 0: " : "all " + std::to_string(size) + " ranks: ") + texts[0];
  std::string joined;
  for (int r = 0; r < size; ++r)
    joined +=
        (r ? "; rank " : "rank ") + std::to_string(r) + ": " + texts[static_cast<std::size_t>(r)];
  return joined;
}

std::string BlockRunSummary::str() const {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  for (std::size_t r = 0; r < ranks.size(); ++r)
    os << "rank " << r << ": " << ranks[r].blocks << " blocks, compute " << ranks[r].compute_s
       << " s, write " << ranks[r].write_s << " s, waiting for blocks " << ranks[r].wait_s
       << " s\n";
  os << "total: " << blocks << " blocks, " << voxels << " voxels in " << seconds << " s ("
     << (seconds > 0 ? double(voxels) / seconds / 1e6 : 0.0) << " Mvoxel/s)";
  if (bytes_served > 0)
    os << "\nserved: " << double(bytes_served) / 1e6 << " MB of " << sample_type
       << " regions (halos included), " << std::setprecision(3)
       << (seconds > 0 ? double(bytes_served) / seconds / 1e9 : 0.0) << " GB/s over the run, read in "
       << std::setprecision(2) << read_seconds << " s ("
       << std::setprecision(3) << (read_seconds > 0 ? double(bytes_served) / read_seconds / 1e9 : 0.0)
       << " GB/s while reading";
  if (bytes_served > 0)
    os << (read_ahead > 0 ? ", up to " + std::to_string(read_ahead) + " read ahead" : "")
       << (rank0_cpus > 0 ? ", rank 0 on " + std::to_string(rank0_cpus) + " CPU" +
                                (rank0_cpus > 1 ? "s" : "")
                          : "")
       << ")";
  if (bytes_served > 0 && volume_bytes > 0) {
    os << "; " << std::setprecision(2) << double(bytes_served) / double(volume_bytes)
       << "x the volumes' bytes (halos)";
    if (file_bytes > 0) {
      os << ", " << double(file_bytes) / double(volume_bytes) << "x read from the file";
      if (chunk_cache_bytes > 0)
        os << " (chunks, or bands of whole rows, each once while held in "
           << (chunk_cache_bytes >> 20) << " MiB)";
      else if (file_bytes != bytes_served)
        os << " (whole chunks: every chunk a region touches, for each region)";
    }
  }
  if (direct_reads)
    os << "\nregions read by each rank itself (--read direct); rank 0 only scheduled blocks";
  if (!rank0_computes) os << "; rank 0 only served blocks";
  if (max_message_bytes > 0 && max_message_bytes < kDefaultMaxMessageBytes)
    os << "; blocks sent in messages of at most " << max_message_bytes << " bytes";
  return os.str();
}

struct BlockRuntime::Impl {
  MPI_Comm world = MPI_COMM_NULL;
  int rank = 0, size = 1;
  DecompositionPlan plan;
  std::vector<Psf> psfs;
  BlockRunOptions options;
  std::unique_ptr<Backend> backend;
  std::vector<std::int64_t> blocks;  ///< what is served, in order
  std::unique_ptr<EngineCache> engines;  ///< made by the first run(), kept for the next
  std::int64_t engine_capacity = 0;      ///< the capacity it was made with

  void select_blocks();

  std::optional<Failure> serve(MPI_Comm comm, const io::InputDataset& input,
                               const PieceLayout& layout, BlockProcessor& processor,
                               std::mutex& h5_lock, bool threads, BlockRunSummary& summary);
  std::optional<Failure> run_serial(const io::InputDataset& input, BlockProcessor& processor,
                                    Progress& progress, BlockRunSummary& summary);
  void gather(const RankWork& mine, BlockRunSummary& summary) const;

  /// --read direct: how a worker reads its block's region (under the HDF5 lock,
  /// which rank 0's server thread shares); empty when rank 0 serves the regions.
  std::function<void(const Block&, std::span<std::byte>)> direct_reader(
      const io::InputDataset& input, std::mutex& h5_lock) const {
    if (!options.direct_reads) return {};
    return [&input, &h5_lock](const Block& b, std::span<std::byte> out) {
      std::lock_guard lock(h5_lock);
      input.read_samples(b.c, b.t, b.region_offset, b.region_count, out);
    };
  }
};

BlockRuntime::BlockRuntime(MPI_Comm comm, const DecompositionPlan& plan, std::vector<Psf> psfs,
                           BlockRunOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.world = comm;
  d.rank = comm_rank(comm);
  d.size = comm_size(comm);
  d.plan = plan;
  d.psfs = std::move(psfs);
  d.options = std::move(options);
  H5DECON_REQUIRE(static_cast<std::int64_t>(d.psfs.size()) == plan.dataset.c, Error,
                  "block runtime: ", d.psfs.size(), " PSFs for ", plan.dataset.c, " channels");
  // Only rank 0 touches the wisdom file; the others get its wisdom by broadcast.
  if (d.rank != 0) d.options.backend_options.wisdom_file.clear();
  d.backend = make_backend(d.options.backend, d.options.backend_options);
  d.select_blocks();
}

void BlockRuntime::Impl::select_blocks() {
  blocks = options.blocks;
  if (blocks.empty()) {
    blocks.resize(static_cast<std::size_t>(plan.block_count));
    std::iota(blocks.begin(), blocks.end(), std::int64_t{0});
  }
  for (std::int64_t id : blocks) block_at(plan, id);  // throws for an id out of range
}

void BlockRuntime::next_run(BlockRunOptions options) {
  Impl& d = *impl_;
  const RlOptions rl = d.options.rl;  // the engines' options stay (the caller's key says so)
  const BackendOptions backend_options = d.options.backend_options;
  d.options = std::move(options);
  d.options.rl = rl;
  d.options.backend_options = backend_options;
  d.select_blocks();
}

std::int64_t BlockRuntime::engines_made() const {
  return impl_->engines ? impl_->engines->made() : 0;
}

BlockRuntime::~BlockRuntime() = default;

std::string BlockRuntime::backend_name() const { return impl_->backend->name(); }

std::size_t BlockRuntime::share_fft_plans() {
  const Impl& d = *impl_;
  if (d.size == 1) return 0;  // nobody to share with; the backend plans as it goes
  // Only FFTW plans travel as wisdom: rank 0 says whether its backend has any (a GPU
  // rank 0 would otherwise build a full engine per shape for nothing).
  int shares = d.rank == 0 && d.backend->shares_fft_wisdom() ? 1 : 0;
  MPI_Bcast(&shares, 1, MPI_INT, 0, d.world);
  if (!shares) return 0;
  const auto shapes = distinct_fft_shapes(d.plan, d.blocks);
  share_fft_wisdom(d.world, *d.backend, d.psfs.at(0), d.options.rl, shapes);
  return shapes.size();
}

BlockRunSummary BlockRuntime::run(const io::InputDataset& input, io::OutputDataset& output) {
  Impl& d = *impl_;
  const auto start = Clock::now();
  const SampleType type = input.sample_type();
  const PieceLayout layout(d.plan.max_region.size() * sample_bytes(type),
                           resolve_max_message(d.options, d.world));
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  const bool threads = provided >= MPI_THREAD_MULTIPLE;
  BlockRunSummary summary;
  summary.rank0_computes = threads || d.size == 1;
  summary.max_message_bytes = layout.piece_bytes();
  summary.sample_type = to_string(type);
  summary.volume_bytes = interior_voxels(d.plan, d.blocks) * sample_bytes(type);
  summary.direct_reads = d.options.direct_reads && d.size > 1;
  if (!summary.rank0_computes && d.rank == 0)
    std::cerr << "h5decon: warning: MPI does not provide MPI_THREAD_MULTIPLE; rank 0 only serves "
                 "blocks and computes none"
              << std::endl;

  std::mutex h5_lock;
  // The budget covers a block's engine and its host buffers (memory_fit.hpp): in
  // host memory, cached engines get what the largest block's buffers leave.
  std::int64_t engine_capacity = d.plan.memory_budget_bytes;
  if (engine_capacity > 0 && d.backend->device_memory_budget() <= 0)
    engine_capacity = std::max<std::int64_t>(
        1, engine_capacity - block_buffer_bytes(d.plan.max_region, sample_bytes(type)));
  if (!d.engines || d.engine_capacity != engine_capacity) {
    d.engines = std::make_unique<EngineCache>(*d.backend, d.psfs, d.options.rl, engine_capacity);
    d.engine_capacity = engine_capacity;
  }
  EngineCache& engines = *d.engines;
  BlockProcessor processor(d.plan, input, engines, output, h5_lock, d.options.on_block_written,
                           d.options.no_compute, d.options.on_iteration);
  processor.set_volume_backgrounds(d.options.backgrounds);
  MPI_Comm comm;  // the protocol's own messages never meet the caller's
  MPI_Comm_dup(d.world, &comm);
  std::optional<Failure> failure;
  if (d.rank == 0)
    failure = d.serve(comm, input, layout, processor, h5_lock, threads, summary);
  else
    BlockWorker(comm, d.plan, layout, type, processor, d.options.stop_requested,
                d.direct_reader(input, h5_lock))
        .run();
  MPI_Comm_free(&comm);
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  d.gather(processor.work(), summary);
  if (failure) throw_failure(*failure);
  return summary;
}

std::optional<Failure> BlockRuntime::Impl::serve(MPI_Comm comm, const io::InputDataset& input,
                                                 const PieceLayout& layout,
                                                 BlockProcessor& processor, std::mutex& h5_lock,
                                                 bool threads, BlockRunSummary& summary) {
  Progress progress(static_cast<std::int64_t>(blocks.size()), interior_voxels(plan, blocks),
                    options.progress_interval_s, isatty(STDOUT_FILENO) != 0, std::cout);
  if (size == 1 && !threads) return run_serial(input, processor, progress, summary);
  std::vector<int> workers;
  for (int r = summary.rank0_computes ? 0 : 1; r < size; ++r) workers.push_back(r);
  // A reader thread calls MPI-IO beside the server's MPI calls: only with threads.
  ServerReads reads{options.direct_reads};
  const int bytes = sample_bytes(input.sample_type());
  summary.rank0_cpus = affinity_cpus();
  if (threads && !options.direct_reads && summary.rank0_cpus == 1 && summary.rank0_computes)
    std::cerr << "h5decon: warning: rank 0 may run on 1 CPU only (its affinity), which its "
                 "reader, serving and compute threads then share: give it more (mpirun "
                 "--bind-to none or --map-by slot:PE=N, srun --cpus-per-task=N)"
              << std::endl;
  if (threads && !options.direct_reads)
    reads.read_ahead =
        read_ahead_regions(plan.max_region.size() * bytes, workers.size(), plan.memory_budget_bytes,
                           summary.rank0_computes ? plan.max_block_bytes : 0);
  if (!options.direct_reads) {  // unchunked inputs always: their rows are one read each otherwise
    const std::optional<Shape3> chunk = input.chunk_shape(0, 0);
    if (options.chunk_reads || !chunk)
      reads.chunk_cache_bytes =
          chunk_cache_bytes(plan, read_unit(chunk, plan.dataset.volume, bytes), bytes);
  }
  BlockServer server(comm, plan, blocks, layout, input, h5_lock, workers, progress,
                     options.on_block_done, options.stop_requested, reads);
  if (summary.rank0_computes) {
    std::thread serving([&server] { server.run(); });  // both loops are noexcept: join is reached
    BlockWorker(comm, plan, layout, input.sample_type(), processor, options.stop_requested,
                direct_reader(input, h5_lock))
        .run();
    serving.join();
  } else {
    server.run();
  }
  summary.blocks = server.blocks_done();
  summary.voxels = server.voxels_done();
  summary.bytes_served = server.bytes_served();
  summary.read_seconds = server.read_seconds();
  summary.read_ahead = server.read_ahead();
  summary.file_bytes = server.file_bytes();
  summary.chunk_cache_bytes = reads.chunk_cache_bytes;
  summary.stop_rank = server.stop_rank();
  summary.stopped = summary.stop_rank >= 0 && server.blocks_done() < std::int64_t(blocks.size());
  if (server.failure() || summary.stopped)
    progress.abandon();
  else
    progress.finish();
  return server.failure();
}

// One rank without MPI threads: read, compute and write in turn.
std::optional<Failure> BlockRuntime::Impl::run_serial(const io::InputDataset& input,
                                                      BlockProcessor& processor, Progress& progress,
                                                      BlockRunSummary& summary) {
  const SampleType type = input.sample_type();
  std::vector<std::byte> region;
  NegativesWarning negatives(input.description());
  for (std::int64_t id : blocks) {
    if (options.stop_requested && options.stop_requested()) {  // between blocks
      summary.stopped = true;
      summary.stop_rank = 0;
      progress.abandon();
      return std::nullopt;
    }
    const Block b = block_at(plan, id);
    try {
      region.resize(static_cast<std::size_t>(b.region_count.size()) *
                    static_cast<std::size_t>(sample_bytes(type)));
      const auto start = std::chrono::steady_clock::now();
      input.read_samples(b.c, b.t, b.region_offset, b.region_count, region);
      summary.read_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      summary.bytes_served += static_cast<std::int64_t>(region.size());
      negatives.add(b, processor.process(b, {type, region}, {}));
      if (options.on_block_done) options.on_block_done(id);
    } catch (...) {
      const auto error = std::current_exception();
      progress.abandon();
      return Failure{0, id, classify(error), describe_block(plan, b) + ": " + message_of(error)};
    }
    ++summary.blocks;
    summary.voxels += b.interior_count.size();
    progress.update(summary.blocks, summary.voxels);
  }
  progress.finish();
  return std::nullopt;
}

void BlockRuntime::Impl::gather(const RankWork& mine, BlockRunSummary& summary) const {
  const double v[4] = {double(mine.blocks), mine.compute_s, mine.write_s, mine.wait_s};
  std::vector<double> all(rank == 0 ? 4 * static_cast<std::size_t>(size) : 0);
  MPI_Gather(v, 4, MPI_DOUBLE, all.data(), 4, MPI_DOUBLE, 0, world);
  if (rank != 0) {
    summary.ranks = {mine};
    return;
  }
  for (int r = 0; r < size; ++r) {
    const double* w = &all[4 * static_cast<std::size_t>(r)];
    summary.ranks.push_back({static_cast<std::int64_t>(w[0]), w[1], w[2], w[3]});
  }
}

}  // namespace h5decon::dist
