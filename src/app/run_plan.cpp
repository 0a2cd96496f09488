// The decomposition of `run` and `info` (run_plan.hpp).
#include "run_plan.hpp"

#include "agreement.hpp"
#include "h5decon/dist/gpu_binding.hpp"
#include "h5decon/dist/memory_fit.hpp"
#include "h5decon/samples.hpp"

namespace h5decon::app {

BackendChoice resolve_backend(MPI_Comm comm, RunSettings& s, std::ostream& log) {
  dist::GpuBinding binding;
  agree_on(comm, [&] { binding = dist::bind_gpus(comm, s.backend, log); });
  s.backend_options.device = binding.device;
  return {binding.backend, binding.sharers};
}

DecompositionPlan plan_run(MPI_Comm comm, const RunSettings& s, const BackendChoice& backend,
                           const io::InputDataset& input, const std::vector<Psf>& psfs,
                           std::ostream& log) {
  dist::BackendPlanRequest request;
  request.options.halo = s.halo;
  std::vector<Volume> kernels;
  for (const Psf& psf : psfs) kernels.push_back(psf.kernel);
  request.options.psf_support = halo_support(kernels);
  request.options.block = s.block;
  request.options.memory_budget_bytes = s.memory_budget;
  request.auto_budget = s.auto_memory_budget;
  request.backend = backend.kind;
  request.backend_options = s.backend_options;
  request.rl = s.rl;
  request.device_sharers = backend.device_sharers;
  request.sample_bytes = sample_bytes(input.sample_type());
  DecompositionPlan plan;
  agree_on(comm, [&] { plan = dist::plan_for_backend(comm, input.shape(), psfs, request, log); });
  return plan;
}

}  // namespace h5decon::app
