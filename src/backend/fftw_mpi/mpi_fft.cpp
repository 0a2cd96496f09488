// FFTW3-MPI plans, buffers and local sizes; see mpi_fft.hpp.
#include "backend/fftw_mpi/mpi_fft.hpp"

#include <filesystem>
#include <mutex>

#include "backend/cpu/fftw_plan.hpp"
#include "h5decon/error.hpp"
#include "h5decon/exact_engine.hpp"

namespace h5decon::exact {
namespace {

unsigned planner_flags(FftPlanner p) {
  switch (p) {
    case FftPlanner::estimate:
      return FFTW_ESTIMATE;
    case FftPlanner::measure:
      return FFTW_MEASURE;
    case FftPlanner::patient:
      return FFTW_PATIENT;
  }
  return FFTW_ESTIMATE;
}

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

// The planner lock and thread count of the CPU backend, without its per-process
// wisdom file handling (the MPI planner shares wisdom through rank 0 instead).
cpu::PlannerSession planner_session(const BackendOptions& options) {
  BackendOptions o = options;
  o.wisdom_file.clear();
  return cpu::PlannerSession(o, cpu::resolve_threads(options));
}

// Rank 0 reads the wisdom file, every rank learns whether it could, then all get it.
void import_shared_wisdom(const std::string& file, MPI_Comm comm) {
  int ok = 1;
  if (comm_rank(comm) == 0 && !file.empty() && std::filesystem::exists(file))
    ok = fftwf_import_wisdom_from_filename(file.c_str()) != 0;
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  H5DECON_REQUIRE(ok, InputError, "FFTW wisdom file '", file,
                  "' could not be read (not FFTW3 single-precision wisdom?)");
  fftwf_mpi_broadcast_wisdom(comm);
}

void export_shared_wisdom(const std::string& file, MPI_Comm comm) {
  fftwf_mpi_gather_wisdom(comm);
  int ok = 1;
  if (comm_rank(comm) == 0 && !file.empty())
    ok = fftwf_export_wisdom_to_filename(file.c_str()) != 0;
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  H5DECON_REQUIRE(ok, IoError, "FFTW wisdom file '", file, "' could not be written");
}

}  // namespace

void init_fftw_mpi() {
  static std::once_flag once;
  std::call_once(once, [] {
    // fftwf_init_threads must come first (FFTW manual, "Combining MPI and Threads").
    BackendOptions one;
    one.threads = 1;
    const auto session = planner_session(one);
    fftwf_mpi_init();
  });
}

ComplexBuffer::ComplexBuffer(std::int64_t n)
    : n_(n), p_(reinterpret_cast<cfloat*>(fftwf_alloc_complex(static_cast<std::size_t>(n)))) {
  H5DECON_REQUIRE(n == 0 || p_, BackendError, "out of host memory: could not allocate ", 8 * n,
                  " bytes for an FFTW-MPI array");
}

LocalSizes local_sizes(Shape3 fft, MPI_Comm comm) {
  init_fftw_mpi();
  ptrdiff_t n0 = 0, s0 = 0, n1 = 0, s1 = 0;
  const ptrdiff_t alloc =
      fftwf_mpi_local_size_3d_transposed(fft.z, fft.y, fft.x / 2 + 1, comm, &n0, &s0, &n1, &s1);
  return {n0, s0, n1, s1, alloc};
}

MpiFft::MpiFft(Shape3 fft, MPI_Comm comm, const BackendOptions& options)
    : fft_(fft), local_(local_sizes(fft, comm)), buf_(std::max<std::int64_t>(local_.alloc, 1)) {
  H5DECON_REQUIRE(fft.x % 2 == 0, BackendError, "FFTW-MPI: the FFT shape ", fft.str(),
                  " needs an even last axis");
  const auto session = planner_session(options);
  import_shared_wisdom(options.wisdom_file, comm);
  const unsigned flags = planner_flags(options.planner);
  auto* c = reinterpret_cast<fftwf_complex*>(buf_.data());
  forward_ = cpu::FftwPlan(fftwf_mpi_plan_dft_r2c_3d(fft.z, fft.y, fft.x, real(), c, comm,
                                                     flags | FFTW_MPI_TRANSPOSED_OUT),
                           "distributed (FFTW-MPI) r2c");
  inverse_ = cpu::FftwPlan(fftwf_mpi_plan_dft_c2r_3d(fft.z, fft.y, fft.x, c, real(), comm,
                                                     flags | FFTW_MPI_TRANSPOSED_IN),
                           "distributed (FFTW-MPI) c2r");
  export_shared_wisdom(options.wisdom_file, comm);
}

}  // namespace h5decon::exact
