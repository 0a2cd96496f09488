#pragma once
// GPU binding (docs/design.md §4): each rank takes the device numbered by its
// node-local rank modulo the devices it can see, logs host, device name and
// UUID, and says when ranks of one node share a device. `--backend cuda` on a
// rank that sees no device is an error naming the rank and its host;
// `--backend auto` falls back to the CPU backend there, loudly.

#include <mpi.h>

#include <iosfwd>
#include <string>

namespace h5decon::dist {

/// The pure arithmetic of binding, for one rank.
struct DeviceChoice {
  int device = -1;      ///< -1: no device visible
  bool shared = false;  ///< more ranks on this node than devices: some share one
  int sharers = 0;      ///< ranks of this node on `device`, this one included
};

/// The device of node-local rank `local_rank` of `local_size` ranks that see
/// `devices` devices: local_rank % devices.
DeviceChoice choose_device(int local_rank, int local_size, int devices);

/// The message of a rank that needs a GPU and sees none.
std::string no_device_message(int rank, const std::string& host, const std::string& reason);

/// What binding decided on this rank.
struct GpuBinding {
  std::string backend = "cpu";  ///< the make_backend() kind for this rank: "cuda" or "cpu"
  int device = -1;              ///< BackendOptions::device for this rank (-1 with cpu)
  std::string host;             ///< MPI_Get_processor_name
  /// Ranks of this node bound to the same GPU, this one included, told apart by
  /// the GPU's UUID (right under per-rank CUDA_VISIBLE_DEVICES, where every rank
  /// sees its own GPU as device 0); 1 with cpu.
  int sharers = 1;
};

/// Collective on `comm`: how many ranks on this rank's node passed the same
/// non-empty `key` (this one included); 0 for an empty key.
int count_same_on_node(MPI_Comm comm, const std::string& key);

/// Collective on `comm`. Resolves `requested` ("cpu", "cuda" or "auto") on every
/// rank (the device goes to BackendOptions::device), and prints on rank 0 (to `log`) one
/// line per rank: host, device, name, UUID, memory; warnings (to stderr) for
/// shared devices and CPU fallbacks. Throws InputError on every rank that
/// needs a GPU and sees none, after the collective steps (the caller agrees).
GpuBinding bind_gpus(MPI_Comm comm, const std::string& requested, std::ostream& log);

}  // namespace h5decon::dist
