// One background estimate per volume (volume_background.hpp).
#include "volume_background.hpp"

#include <string>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/rl_domain.hpp"

namespace h5decon::app {
namespace {

// This rank's share of the tile means of volume (c, t): slabs i = rank, rank + size, ...
std::vector<double> local_tile_means(const io::InputDataset& input, std::int64_t c,
                                     std::int64_t t, int rank, int size) {
  const Shape3 v = input.shape().volume;
  const Shape3 tile = background_tile(v);
  const Shape3 slab{tile.z, v.y, v.x};
  std::vector<float> buffer(static_cast<std::size_t>(slab.size()));
  std::vector<double> means;
  for (std::int64_t i = rank; (i + 1) * tile.z <= v.z; i += size) {
    input.read_box(c, t, {i * tile.z, 0, 0}, slab, buffer);
    append_tile_means(buffer, slab, v, means);
  }
  return means;
}

// Rank 0 gathers every rank's means and computes the percentile; all get the value.
float combine(MPI_Comm comm, const std::vector<double>& mine, int rank, int size) {
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size)), offsets(counts.size());
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  int total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) offsets[r] = total, total += counts[r];
  std::vector<double> all(rank == 0 ? static_cast<std::size_t>(total) : 0);
  MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(),
              MPI_DOUBLE, 0, comm);
  float value = rank == 0 ? background_from_tile_means(std::move(all)) : 0.0f;
  MPI_Bcast(&value, 1, MPI_FLOAT, 0, comm);
  return value;
}

}  // namespace

std::map<io::VolumeIndex, float> estimate_volume_backgrounds(
    MPI_Comm comm, const io::InputDataset& input, std::vector<io::VolumeIndex> volumes) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const Shape5 shape = input.shape();
  if (volumes.empty())
    for (std::int64_t c = 0; c < shape.c; ++c)
      for (std::int64_t t = 0; t < shape.t; ++t) volumes.push_back({c, t});
  std::map<io::VolumeIndex, float> out;
  for (const auto& [c, t] : volumes) {
    std::vector<double> means;
    agree_on(comm, [&] { means = local_tile_means(input, c, t, rank, size); });
    out[{c, t}] = combine(comm, means, rank, size);
  }
  return out;
}

std::string describe_backgrounds(const std::map<io::VolumeIndex, float>& backgrounds) {
  std::string out;
  for (const auto& [ct, value] : backgrounds) {
    if (!out.empty()) out += "; ";
    out += "c=" + std::to_string(ct[0]) + " t=" + std::to_string(ct[1]) + ": " +
           shortest_text(value);
  }
  return out;
}

}  // namespace h5decon::app
