// The exact-mode reference of `h5decon seams`: each rank reads the observed
// planes its slab needs, ExactEngine runs RL on the whole volume across the ranks,
// and the result planes (which partition the volume in rank order) are gathered
// on rank 0 as whole planes.
#include "tools/seam_reference.hpp"

#include <chrono>
#include <climits>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "app/cli.hpp"
#include "h5decon/error.hpp"
#include "h5decon/exact_engine.hpp"

namespace h5decon::tools {
using namespace app;  // the program's shared pieces: options, agreement, errors
namespace {

/// An MPI datatype of `floats` contiguous floats, freed on destruction.
class PlaneType {
 public:
  explicit PlaneType(std::int64_t floats) {
    H5DECON_REQUIRE(floats > 0 && floats <= INT_MAX, InputError, "a plane of ", floats,
                    " voxels is too large to gather with MPI");
    MPI_Type_contiguous(static_cast<int>(floats), MPI_FLOAT, &type_);
    MPI_Type_commit(&type_);
  }
  ~PlaneType() { MPI_Type_free(&type_); }
  PlaneType(const PlaneType&) = delete;
  PlaneType& operator=(const PlaneType&) = delete;
  MPI_Datatype get() const { return type_; }

 private:
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
};

/// Rank 0 receives every rank's result planes at their place in the volume.
Volume gather_planes(const std::vector<float>& mine, exact::PlaneRange out, Shape3 volume,
                     MPI_Comm comm) {
  int rank = 0, ranks = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  const PlaneType plane(volume.y * volume.x);
  const int range[2] = {static_cast<int>(out.begin), static_cast<int>(out.size())};
  std::vector<int> ranges(rank == 0 ? 2 * std::size_t(ranks) : 0), starts, counts;
  MPI_Gather(range, 2, MPI_INT, ranges.data(), 2, MPI_INT, 0, comm);
  for (std::size_t r = 0; r < ranges.size(); r += 2) {
    starts.push_back(ranges[r]);
    counts.push_back(ranges[r + 1]);
  }
  Volume whole = rank == 0 ? Volume(volume) : Volume();
  MPI_Gatherv(mine.data(), range[1], plane.get(), whole.data.data(), counts.data(), starts.data(),
              plane.get(), 0, comm);
  return whole;
}

}  // namespace

void require_reference_support(const RlOptions& rl) {
  H5DECON_REQUIRE(!rl.background_auto, UsageError,
                  "'h5decon seams' compares blocks with the whole volume, each of which would "
                  "estimate its own --background auto; give the offset as a number");
}

Volume exact_reference(const io::InputDataset& input, const Psf& psf, const RlOptions& rl,
                       const BackendOptions& backend, MPI_Comm comm) {
  const Shape3 v = input.shape().volume;
  std::unique_ptr<exact::ExactEngine> engine;
  agree_on(comm, [&] { engine = std::make_unique<exact::ExactEngine>(psf, v, rl, comm, backend); });
  const exact::PlaneRange in = engine->input_planes(), out = engine->output_planes();
  std::vector<float> observed(std::size_t(in.size() * v.y * v.x));
  std::vector<float> result(std::size_t(out.size() * v.y * v.x));
  agree_on(comm, [&] {
    input.read_box_collective(0, 0, {in.begin, 0, 0}, {in.size(), v.y, v.x}, observed);
  });
  agree_on(comm, [&] { engine->deconvolve(observed, result); });
  return gather_planes(result, out, v, comm);
}

void save_reference(const std::string& file, bool create, int iterations, const Volume& reference) {
  const Shape3 s = reference.shape;
  io::write_array(file, "/iterations_" + std::to_string(iterations), reference.span(),
                  {s.z, s.y, s.x}, io::DType::float32, create);
}

void wait_quietly(MPI_Comm comm) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  while (!done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
  }
}

}  // namespace h5decon::tools
