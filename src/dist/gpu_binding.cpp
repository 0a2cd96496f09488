// GPU binding of the ranks (gpu_binding.hpp).
#include "h5decon/dist/gpu_binding.hpp"

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

std::string host_name() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  MPI_Get_processor_name(name, &length);
  return std::string(name, static_cast<std::size_t>(length));
}

/// This rank's place on its node.
std::pair<int, int> node_rank_and_size(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int rank = 0, size = 1;
  MPI_Comm_rank(node, &rank);
  MPI_Comm_size(node, &size);
  MPI_Comm_free(&node);
  return {rank, size};
}

std::string gib(std::int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << double(bytes) / double(1 << 30) << " GiB";
  return os.str();
}

/// Every rank's text on rank 0, in rank order (empty elsewhere). Collective.
std::vector<std::string> gather_texts(MPI_Comm comm, const std::string& text) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int length = static_cast<int>(text.size());
  std::vector<int> lengths(static_cast<std::size_t>(size)), displs(lengths.size());
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, comm);
  for (std::size_t r = 1; r < lengths.size(); ++r) displs[r] = displs[r - 1] + lengths[r - 1];
  std::string all(rank == 0 ? static_cast<std::size_t>(displs.back() + lengths.back()) : 0, ' ');
  MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR,
              0, comm);
  std::vector<std::string> texts;
  if (rank == 0)
    for (std::size_t r = 0; r < lengths.size(); ++r)
      texts.push_back(all.substr(static_cast<std::size_t>(displs[r]),
                                 static_cast<std::size_t>(lengths[r])));
  return texts;
}

/// Line kinds: ' ' info, 'W' warning (stderr), 'E' this rank failed.
struct Decision {
  GpuBinding binding;
  std::string uuid;  ///< the bound GPU's; empty without one
  char kind = ' ';
  std::string line, error;
};

Decision decide(MPI_Comm comm, const std::string& requested) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  Decision d;
  d.binding.host = host_name();
  const auto [local_rank, local_size] = node_rank_and_size(comm);
  std::string reason;
  const int devices = detail::cuda_device_count(&reason);
  const DeviceChoice choice = choose_device(local_rank, local_size, devices);
  const std::string who = detail::concat("rank ", rank, " on ", d.binding.host);
  if (choice.device < 0) {
    d.line = no_device_message(rank, d.binding.host, reason);
    if (requested == "cuda") {
      d.kind = 'E';
      d.error = d.line;
    } else {
      d.kind = 'W';
      d.line = who + ": --backend auto found no CUDA device; using the CPU backend (" + reason + ")";
    }
    return d;
  }
  d.binding.backend = "cuda";
  d.binding.device = choice.device;
  try {
    const detail::CudaDeviceInfo info = detail::cuda_device_info(choice.device);
    d.uuid = info.uuid;
    d.line = detail::concat(who, ": ", requested == "auto" ? "--backend auto took " : "",
                            "cuda device ", choice.device, " of ", devices, " (", info.name, ", ",
                            info.uuid, ", ", gib(info.total_bytes), ", ", gib(info.free_bytes),
                            " free)");
  } catch (const std::exception& e) {
    d.kind = 'E';
    d.error = d.line = detail::concat(who, ": cannot use CUDA device ", choice.device, ": ", e.what());
    return d;
  }
  return d;
}

}  // namespace

DeviceChoice choose_device(int local_rank, int local_size, int devices) {
  DeviceChoice c;
  if (devices <= 0 || local_rank < 0 || local_size <= 0) return c;
  c.device = local_rank % devices;
  c.shared = local_size > devices;
  // Local ranks r with r % devices == device: ceil((local_size - device) / devices).
  c.sharers = (local_size - c.device + devices - 1) / devices;
  return c;
}

std::string no_device_message(int rank, const std::string& host, const std::string& reason) {
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  return detail::concat("rank ", rank, " on ", host,
                        ": --backend cuda but no CUDA device is visible (CUDA_VISIBLE_DEVICES=",
                        visible ? visible : "<unset>", "; ", reason, ")");
}

int count_same_on_node(MPI_Comm comm, const std::string& key) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int size = 1;
  MPI_Comm_size(node, &size);
  constexpr int kWidth = 64;  // a UUID's text is 40 characters
  std::string mine = key.substr(0, kWidth);
  mine.resize(kWidth, '\0');
  std::string all(static_cast<std::size_t>(kWidth * size), '\0');
  MPI_Allgather(mine.data(), kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, node);
  MPI_Comm_free(&node);
  if (key.empty()) return 0;
  int same = 0;
  for (int r = 0; r < size; ++r)
    same += all.compare(static_cast<std::size_t>(r * kWidth), kWidth, mine) == 0;
  return same;
}

GpuBinding bind_gpus(MPI_Comm comm, const std::string& requested, std::ostream& log) {
  if (requested == "cpu") return {};
  Decision d = decide(comm, requested);
  const int sharers = count_same_on_node(comm, d.uuid);  // collective: every rank takes part
  d.binding.sharers = std::max(sharers, 1);
  if (sharers > 1 && d.kind != 'E') {
    d.kind = 'W';
    d.line += detail::concat("; shared by ", sharers, " ranks on this node (same UUID): they "
                             "compete for its time, and each plans its blocks with 1/", sharers,
                             " of its free memory");
  }
  const std::vector<std::string> lines = gather_texts(comm, std::string(1, d.kind) + d.line);
  for (const std::string& l : lines) {
    if (l[0] == ' ') log << "gpu binding: " << l.substr(1) << '\n';
    if (l[0] == 'W') std::cerr << "h5decon: warning: " << l.substr(1) << '\n';
  }
  log << std::flush;
  std::cerr << std::flush;
  if (d.kind == 'E') throw InputError(d.error);
  return d.binding;
}

}  // namespace h5decon::dist
