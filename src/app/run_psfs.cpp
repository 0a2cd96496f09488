// load_run_psfs(): the PSF steps shared by `run --mode blocks` and `--mode exact`.
#include "run_psfs.hpp"

#include <iostream>
#include <string>

#include "h5decon/error.hpp"
#include "h5decon/back_projector.hpp"
#include "psf_crop_step.hpp"

namespace h5decon::app {
namespace {

double raw_sum(const Volume& v) {
  double sum = 0;
  for (float x : v.data) sum += x;
  return sum;
}

// A PSF sampled at another voxel size blurs at the wrong scale: refused; resampled
// onto the data's grid with --psf-resample; or with --ignore-voxel-size (a PSF file
// whose metadata is known to be wrong) said loudly. True: resample.
bool check_voxel_size(const RunSettings& s, const io::InputDataset& input, const io::PsfFile& file,
                      int rank) {
  const std::string mismatch =
      voxel_size_mismatch(input.element_size_um(), "input '" + input.ref().str() + "'",
                          file.element_size_um, "PSF '" + s.psf.str() + "'");
  if (s.psf_resample) {
    H5DECON_REQUIRE(input.element_size_um() && file.element_size_um, InputError,
                    "--psf-resample: the voxel size of ",
                    input.element_size_um() ? "PSF '" + s.psf.str() + "'"
                                            : "input '" + input.ref().str() + "'",
                    " is not recorded (element_size_um; a TIFF's ImageJ calibration)");
    return !mismatch.empty();
  }
  if (mismatch.empty()) return false;
  H5DECON_REQUIRE(s.ignore_voxel_size, InputError, mismatch,
                  "; --ignore-voxel-size runs with this PSF anyway");
  if (rank == 0)
    std::cerr << "h5decon: warning: " << mismatch << " (running anyway: --ignore-voxel-size)"
              << std::endl;
  return false;
}

std::string um_text(const std::array<double, 3>& v) {
  return detail::concat(v[0], ",", v[1], ",", v[2], " um");
}

}  // namespace

std::vector<Psf> load_run_psfs(const RunSettings& s, const io::InputDataset& input, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const Shape5 shape = input.shape();
  io::PsfFile file = io::read_psf_file(s.psf, comm, shape.c);
  const bool resample = check_voxel_size(s, input, file, rank);
  const bool shared = file.psfs.size() == 1;
  std::vector<Psf> psfs;
  for (std::int64_t c = 0; c < shape.c; ++c) {
    Volume& kernel = file.psfs.at(static_cast<std::size_t>(c));
    const std::string source =
        s.psf.str() + (shared ? std::string() : " (channel " + std::to_string(c) + ")");
    std::string resampled;
    if (resample) {
      const Shape3 before = kernel.shape;
      kernel = resample_psf(kernel, *file.element_size_um, *input.element_size_um());
      resampled = "PSF resampled from voxel " + um_text(*file.element_size_um) + " to the input's " +
                  um_text(*input.element_size_um()) + ": " + before.str() + " -> " +
                  kernel.shape.str();
    }
    const double sum = raw_sum(kernel);
    psfs.push_back(prepare_psf(std::move(kernel), source));
    Psf& psf = psfs.back();
    // --psf-crop first, then the volume's limit: a PSF cropped to its support may
    // no longer need the second.
    std::string cropped;
    if (s.psf_crop > 0) cropped = crop_to_support(psf, s.psf_crop);
    const std::string limited = limit_psf_to_volume(psf, shape.volume);
    const std::string back = attach_back_projector(psf, s.rl);  // every rank: the same bits
    if (rank != 0) continue;
    if (!resampled.empty()) std::cout << "PSF c=" << c << ": " << resampled << std::endl;
    if (!cropped.empty()) std::cout << "PSF c=" << c << ": " << cropped << std::endl;
    if (!limited.empty()) std::cout << "PSF c=" << c << ": " << limited << std::endl;
    for (int a = 0; a < 3; ++a)
      if (psf.kernel.shape[a] > shape.volume[a]) {
        std::cout << "PSF c=" << c << ": " << psf.kernel.shape.str()
                  << " is larger than the volume " << shape.volume.str() << "; "
                  << (psf.flux_used < 1.0 ? "the rest of its" : "all of its")
                  << " flux is used (the boundary extension holds the light it spreads "
                     "beyond the volume)"
                  << std::endl;
        break;
      }
    if (const std::string note = off_centre_note(psf); !note.empty())
      std::cerr << "h5decon: warning: PSF " << source << ": " << note << std::endl;
    if (const std::string note = background_note(psf, sum); !note.empty())
      std::cerr << "h5decon: warning: PSF " << source << ": " << note << std::endl;
    std::cout << "PSF c=" << c << ": " << psf.kernel.shape.str() << " from " << source
              << ", raw sum " << sum << ", normalised to 1"
              << (psf.clamped ? ", " + std::to_string(psf.clamped) + " negative values set to 0"
                              : std::string())
              << std::endl;
    if (!back.empty()) std::cout << "PSF c=" << c << ": " << back << std::endl;
  }
  return psfs;
}

}  // namespace h5decon::app
