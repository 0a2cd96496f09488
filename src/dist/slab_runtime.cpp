// The slab loop of exact mode (include/h5decon/dist/slab_runtime.hpp).
#include "h5decon/dist/slab_runtime.hpp"

#include <chrono>
#include <memory>

#include "h5decon/exact_engine.hpp"

namespace h5decon::dist {
namespace {

using Clock = std::chrono::steady_clock;

// One volume: collective read of this rank's planes, RL, collective write.
void deconvolve_volume(MPI_Comm comm, exact::ExactEngine& engine, const io::InputDataset& input,
                       io::OutputDataset& output, std::int64_t c, std::int64_t t,
                       const SlabRunOptions& o, const AgreedStep& agreed) {
  const Shape3 v = input.shape().volume;
  const exact::PlaneRange in = engine.input_planes(), out = engine.output_planes();
  std::vector<float> observed(std::size_t(in.size() * v.y * v.x));
  std::vector<float> result(std::size_t(out.size() * v.y * v.x));
  std::int64_t negatives = 0, total = 0;
  agreed([&] {
    negatives = input.read_box_collective(c, t, {in.begin, 0, 0}, {in.size(), v.y, v.x}, observed);
  });
  MPI_Allreduce(&negatives, &total, 1, MPI_INT64_T, MPI_SUM, comm);
  if (o.on_negatives) o.on_negatives(c, t, total);
  if (!o.backgrounds.empty()) engine.set_background(o.backgrounds.at({c, t}));
  const auto start = Clock::now();
  int iterations = 0;  // every rank gets the same reports (their sums are reduced)
  const IterationObserver observer = [&](const IterationReport& r) {
    iterations = r.iteration;
    if (o.on_iteration) o.on_iteration(c, t, r);
  };
  agreed([&] { engine.deconvolve(observed, result, observer); });
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  agreed([&] {
    output.write_box_collective(c, t, {out.begin, 0, 0}, {out.size(), v.y, v.x}, result);
  });
  if (o.on_volume) o.on_volume(c, t, iterations, seconds);
}

}  // namespace

void run_slabs(MPI_Comm comm, const io::InputDataset& input, io::OutputDataset& output,
               const std::vector<Psf>& psfs, const SlabRunOptions& o, const AgreedStep& agreed) {
  const Shape5 shape = input.shape();
  for (std::int64_t c = 0; c < shape.c; ++c) {
    std::unique_ptr<exact::ExactEngine> engine;  // one at a time: the previous one is gone
    agreed([&] {
      engine = std::make_unique<exact::ExactEngine>(psfs.at(std::size_t(c)), shape.volume, o.rl,
                                                    comm, o.backend_options);
    });
    for (std::int64_t t = 0; t < shape.t; ++t)
      deconvolve_volume(comm, *engine, input, output, c, t, o, agreed);
  }
}

}  // namespace h5decon::dist
