// The h5decon program: MPI set-up, command dispatch, and the one place where
// errors become messages and exit codes.
#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "agreement.hpp"
#include "cli.hpp"
#include "export_command.hpp"
#include "import_command.hpp"
#include "h5decon/backend.hpp"
#include "h5decon/config.hpp"
#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "info_command.hpp"
#include "merge_command.hpp"
#include "preview_command.hpp"
#include "psf_command.hpp"
#include "run_command.hpp"
#include "synth_command.hpp"
#include "tools/bench_command.hpp"
#include "tools/quality_command.hpp"
#include "tools/seam_command.hpp"

namespace h5decon::app {
namespace {

void print_usage(std::ostream& os) {
  os << "h5decon " H5DECON_VERSION " (" H5DECON_GIT_HASH
        "): Richardson-Lucy deconvolution of 5D (c,t,z,y,x) HDF5 datasets\n\n"
        "Usage: h5decon <command> [options]     (under mpiexec/srun for several ranks)\n\n"
        "Commands:\n"
        "  run     deconvolve a dataset:  h5decon run --input IN.h5:/data --psf PSF.h5:/psf\n"
        "          --output OUT.h5 --iterations N\n"
        "  merge   join the shard files of a job array (run --shard K/N) into one file\n"
        "  synth   write a synthetic data set with ground truth (--preset small|medium|stack)\n"
        "  bench   time RL iterations against the FFT floor and scikit-image\n"
        "  quality PSNR/SSIM vs the truth of a synth file, per RL option, by iteration and time\n"
        "  info    the options of run: print the block decomposition and data sizes, run nothing\n"
        "  seams   measure the seam error of blocks vs the whole volume, by halo size\n"
        "  psf     write a generated PSF (Born-Wolf model) with its voxel size\n"
        "  preview a PNG of maximum projections of input and result, side by side\n"
        "  import  TIFF files (stack, ImageJ hyperstack, OME-TIFF, a folder of planes) into\n"
        "          the (c,t,z,y,x) HDF5 dataset run reads\n"
        "  export  a result in a viewer's layout: --layout bdv (BigDataViewer HDF5 + XML, Fiji)\n\n"
        "'h5decon <command> --help' lists a command's options; every option can also be\n"
        "given in an INI file with --config FILE.ini.\n"
        "Exit codes: 0 ok, 1 usage, 2 input, 3 I/O, 4 backend, 5 other error.\n";
}

void print_version(std::ostream& os) {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int length = 0;
  MPI_Get_library_version(mpi, &length);
  std::string mpi_text(mpi, static_cast<std::size_t>(std::max(length, 0)));
  if (const auto end = mpi_text.find_first_of(",\n"); end != std::string::npos)
    mpi_text.resize(end);
  os << "h5decon " H5DECON_VERSION " (git " H5DECON_GIT_HASH ")\n"
     << "backends: " << compiled_backends() << "\n"
     << "HDF5:     " << io::hdf5_version() << "\n"
     << "FFTW:     " << fftw_version() << "\n"
     << "MPI:      " << mpi_text << "\n"
     << "CUDA:     " << detail::cuda_versions() << "\n";
}

int dispatch(int argc, char** argv, int rank) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "run") return run_command(argc - 1, argv + 1, join_command_line(argc, argv));
  if (command == "synth") return synth_command(argc - 1, argv + 1);
  if (command == "merge")
    return merge_command(argc - 1, argv + 1, join_command_line(argc, argv));
  if (command == "bench") return tools::bench_command(argc - 1, argv + 1);
  if (command == "quality") return tools::quality_command(argc - 1, argv + 1);
  if (command == "info") return info_command(argc - 1, argv + 1);
  if (command == "seams") return tools::seam_command(argc - 1, argv + 1);
  if (command == "psf") return psf_command(argc - 1, argv + 1);
  if (command == "preview") return preview_command(argc - 1, argv + 1);
  if (command == "import")
    return import_command(argc - 1, argv + 1, join_command_line(argc, argv));
  if (command == "export")
    return export_command(argc - 1, argv + 1, join_command_line(argc, argv));
  if (command == "--version" || command == "version") {
    if (rank == 0) print_version(std::cout);
    return kExitOk;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    if (rank == 0) print_usage(std::cout);
    return kExitOk;
  }
  // Every rank sees the same arguments, so every rank fails here alike.
  agree_on(MPI_COMM_WORLD, [&] {
    throw UsageError(command.empty()
                         ? "no command given (see 'h5decon --help')"
                         : "unknown command '" + command +
                               "'; commands: run, merge, synth, bench, quality, info, seams, "
                               "psf, preview, import, export (see 'h5decon --help')");
  });
  return kExitUsage;
}

// Rank 0 prints the agreed message; another rank adds its own only when it differs.
void report(const AgreedError& e, int rank) {
  if (rank == 0) {
    std::cerr << "h5decon: error: " << e.what() << std::endl;
  } else if (!e.local_message().empty() && e.local_message() != e.shared_message()) {
    std::cerr << "h5decon: error: rank " << rank << ": " << e.local_message() << std::endl;
  }
}

}  // namespace
}  // namespace h5decon::app

int main(int argc, char** argv) {
  using namespace h5decon::app;
  // Threads: rank 0 serves blocks from one thread while it computes in another.
  // The block runtime checks what was provided and falls back without them.
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = kExitOk;
  try {
    code = dispatch(argc, argv, rank);
  } catch (const AgreedError& e) {
    report(e, rank);
    code = e.code();
    // Every rank is here (the error was agreed): none exits before rank 0 has printed,
    // or mpiexec, seeing a non-zero exit, could kill rank 0 with the message unsaid.
    std::cerr.flush();
    MPI_Barrier(MPI_COMM_WORLD);
  } catch (...) {
    // Not agreed: the other ranks may be anywhere, perhaps in a collective call.
    const auto error = std::current_exception();
    code = exit_code_of(error);
    std::cerr << "h5decon: error: " << (size > 1 ? "rank " + std::to_string(rank) + ": " : "")
              << message_of(error) << std::endl;
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  }
  std::cout.flush();
  MPI_Finalize();
  return code;
}
