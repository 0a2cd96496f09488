// The exact-mode part of `h5decon info`; see info_exact.hpp.
#include "info_exact.hpp"

#include <iomanip>
#include <sstream>

#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/exact_engine.hpp"

namespace h5decon::app {
namespace {

std::string mib(std::int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << double(bytes) / (1024.0 * 1024.0) << " MiB";
  return os.str();
}

// This rank's largest need over the channels' PSFs.
exact::ExactMemory largest(MPI_Comm comm, const RunSettings& s, const Shape5& shape,
                           const std::vector<Psf>& psfs) {
  exact::ExactMemory most;
  for (const Psf& p : psfs) {
    const exact::ExactMemory m = exact::exact_memory(shape.volume, p.kernel.shape, s.rl, comm, s.backend_options);
    if (m.total() >= most.total()) most = m;
  }
  return most;
}

}  // namespace

std::string exact_info_text(MPI_Comm comm, const RunSettings& s, const Shape5& shape,
                            const std::vector<Psf>& psfs, int planned_ranks) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const exact::ExactMemory m = largest(comm, s, shape, psfs);
  const std::int64_t mine[6] = {m.fft_range.begin, m.fft_range.end, m.output.begin,
                                m.output.end,      m.fft_bytes,     m.slab_bytes};
  std::vector<std::int64_t> all(6 * std::size_t(size));
  MPI_Gather(mine, 6, MPI_INT64_T, all.data(), 6, MPI_INT64_T, 0, comm);
  const std::int64_t budget = s.auto_memory_budget ? dist::auto_memory_budget(comm) : s.memory_budget;
  if (rank != 0) return {};
  std::ostringstream os;
  os << "exact:   each volume whole in z-slabs over " << size << (size == 1 ? " rank" : " ranks")
     << " (FFTW3-MPI), FFT " << m.fft.str() << ", no blocks, no seams\n";
  std::int64_t most = 0;
  for (int r = 0; r < size; ++r) {
    const std::int64_t* v = all.data() + 6 * r;
    most = std::max(most, v[4] + v[5]);
    os << "  rank " << r << ": FFT planes [" << v[0] << ", " << v[1] << "), volume planes ["
       << v[2] << ", " << v[3] << "), " << v[4] + v[5] << " bytes (" << mib(v[4] + v[5])
       << ": FFT array and OTF " << mib(v[4]) << ", slabs " << mib(v[5]) << ")\n";
  }
  os << "  memory per rank:  at most " << most << " bytes (" << mib(most) << ")";
  if (budget > 0)
    os << (most <= budget ? ", within" : ", MORE than") << " --memory-budget " << budget
       << " bytes" << (most <= budget ? "" : ": run refuses; use more ranks");
  os << "\n";
  if (planned_ranks > 0 && planned_ranks != size)
    os << "  (--ranks " << planned_ranks << " is not used in exact mode: FFTW-MPI gives the slabs"
       << " of a real communicator; run info under mpiexec -n " << planned_ranks << ")\n";
  os << "nothing was computed or written (h5decon info)\n";
  return os.str();
}

}  // namespace h5decon::app
