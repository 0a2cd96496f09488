// `h5decon psf`: a Born-Wolf PSF written as float32 (z, y, x) with its parameters.
#include "psf_command.hpp"

#include <mpi.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/attributes.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/io/output_path.hpp"
#include "h5decon/io/tiff.hpp"
#include "h5decon/bead_psf.hpp"
#include "h5decon/psf_model.hpp"

namespace h5decon::app {
namespace {

struct PsfSettings {
  bool help = false, dry_run = false, overwrite = false;
  BornWolfParams params;
  double crop = 0;  ///< 0: keep the full shape
  io::DatasetRef output;
  /// --from-beads: the bead image (TIFF or HDF5 (z,y,x)); the model is not used.
  std::optional<io::DatasetRef> beads;
  BeadPsfOptions bead_options;
  std::optional<std::array<double, 3>> voxel_um;  ///< --voxel-um, when given
};

po::options_description psf_option_descriptions() {
  po::options_description desc("PSF options");
  desc.add_options()("model", po::value<std::string>()->default_value("born-wolf")->value_name("NAME"),
                     "PSF model: born-wolf (scalar, paraxial, aberration-free widefield)")(
      "na", po::value<double>()->value_name("NA"), "numerical aperture of the objective")(
      "wavelength-nm", po::value<double>()->value_name("L"), "emission wavelength in vacuum (nm)")(
      "immersion-index", po::value<double>()->value_name("N"),
      "refractive index of the immersion medium (water 1.33, glycerol 1.47, oil 1.518)")(
      "voxel-um", po::value<std::string>()->value_name("Z,Y,X"), "voxel size in micrometres")(
      "shape", po::value<std::string>()->value_name("Z,Y,X"),
      "PSF extent in voxels; the centre is voxel n/2 on each axis (odd sizes are symmetric)")(
      "integrate", po::value<int>()->default_value(1)->value_name("N"),
      "pixel integration: each voxel the mean of N x N points over its lateral area, as a "
      "camera pixel integrates (for pixels not much smaller than the PSF's core, as deconwolf's "
      "dw_bw --li); 1: point samples at voxel centres")(
      "crop", po::value<double>()->default_value(0.0, "off")->value_name("ENERGY"),
      "crop to the smallest centred box holding this share of the flux (e.g. 0.999)")(
      "from-beads", po::value<std::string>()->value_name("IMAGE.tif|IMAGE.h5[:/data]"),
      "measure the PSF from an image of sub-resolution beads (TIFF stack, or HDF5 (z,y,x)) "
      "instead of the model: isolated beads found, background (the median) subtracted, "
      "each centred to a sub-voxel, averaged, normalised, cropped to --crop (default 0.999); "
      "the voxel size from the image (or --voxel-um)")(
      "box", po::value<std::string>()->default_value("auto")->value_name("Z,Y,X|auto"),
      "--from-beads: the odd extent cut around each bead; auto: per axis the largest up to "
      "31 that half of the beads found fit in the image")(
      "output", po::value<std::string>()->value_name("FILE.h5[:/psf]|FILE.tif"),
      "the file to write: HDF5, or a TIFF stack with ImageJ's calibration when it ends in "
      ".tif/.tiff")(
      "overwrite", switch_value(), "replace an existing output file")(
      "dry-run", switch_value(), "check the options and stop");
  desc.add(generic_options());
  return desc;
}

bool is_tiff_name(const std::string& file) {
  std::string lower = file;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.ends_with(".tif") || lower.ends_with(".tiff");
}

BornWolfParams parse_params(const po::variables_map& v) {
  BornWolfParams p;
  p.na = v["na"].as<double>();
  p.wavelength_nm = v["wavelength-nm"].as<double>();
  p.immersion_index = v["immersion-index"].as<double>();
  p.lateral_samples = v["integrate"].as<int>();
  const auto voxel = parse_triple("voxel-um", v["voxel-um"].as<std::string>());
  p.voxel_um = {voxel[0], voxel[1], voxel[2]};
  const auto shape = parse_triple("shape", v["shape"].as<std::string>());
  for (int a = 0; a < 3; ++a) {
    const double n = shape[std::size_t(a)];
    if (n != std::floor(n) || n < 1 || n > 1e6)
      throw UsageError("--shape: '" + v["shape"].as<std::string>() +
                       "' must be three whole numbers >= 1");
    p.shape[a] = std::int64_t(n);
  }
  return p;
}

// The output and the options every PSF source shares.
void parse_output(const po::variables_map& v, PsfSettings& s) {
  const std::string output = v["output"].as<std::string>();
  s.output = is_tiff_name(output) ? io::DatasetRef{output, ""}
                                  : io::DatasetRef::parse(output, "/psf");
  s.overwrite = v["overwrite"].as<bool>();
  s.dry_run = v["dry-run"].as<bool>();
  s.crop = v["crop"].as<double>();
  if (!(std::isfinite(s.crop) && s.crop >= 0 && s.crop <= 1))
    throw UsageError("--crop must be a number in (0, 1] (0: off), got " + std::to_string(s.crop));
}

PsfSettings parse_bead_settings(const ParsedOptions& parsed, PsfSettings& s) {
  require_option(parsed, "output");
  const auto& v = parsed.values;
  for (const char* model : {"na", "wavelength-nm", "immersion-index", "shape"})
    if (v.count(model))
      throw UsageError(std::string("--") + model + " describes the model; --from-beads measures "
                       "the PSF from the image instead: give one or the other");
  const std::string image = v["from-beads"].as<std::string>();
  s.beads = is_tiff_name(image) ? io::DatasetRef{image, ""} : io::DatasetRef::parse(image, "/data");
  const std::string box_text = v["box"].as<std::string>();
  const auto box = box_text == "auto" ? std::vector<double>{0, 0, 0} : parse_triple("box", box_text);
  for (int a = 0; a < 3 && box_text != "auto"; ++a) {
    const double n = box[std::size_t(a)];
    if (n != std::floor(n) || n < 1 || n > 4097 || std::int64_t(n) % 2 == 0)
      throw UsageError("--box: '" + v["box"].as<std::string>() + "' must be three odd whole numbers");
    s.bead_options.box[a] = std::int64_t(n);
  }
  if (v.count("voxel-um")) {
    const auto u = parse_triple("voxel-um", v["voxel-um"].as<std::string>());
    s.voxel_um = std::array<double, 3>{u[0], u[1], u[2]};
  }
  parse_output(v, s);
  s.bead_options.crop_energy = v["crop"].defaulted() ? 0.999 : s.crop;
  return s;
}

PsfSettings parse_psf_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed = parse_options("psf", argc, argv, psf_option_descriptions());
  PsfSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  const auto& v = parsed.values;
  if (v.count("from-beads")) return parse_bead_settings(parsed, s);
  for (const char* name : {"na", "wavelength-nm", "immersion-index", "voxel-um", "shape", "output"})
    require_option(parsed, name);
  const std::string model = v["model"].as<std::string>();
  if (model != "born-wolf")
    throw UsageError("--model: unknown model '" + model + "' (known: born-wolf)");
  s.params = parse_params(v);
  parse_output(v, s);
  try {
    validate(s.params);
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
  return s;
}

io::AttributeSet model_attributes(const BornWolfParams& p, const Shape3& computed) {
  io::AttributeSet a;
  a.numbers["element_size_um"] = {p.voxel_um[0], p.voxel_um[1], p.voxel_um[2]};
  a.numbers["na"] = {p.na};
  a.numbers["wavelength_nm"] = {p.wavelength_nm};
  a.numbers["immersion_index"] = {p.immersion_index};
  a.numbers["computed_shape"] = {double(computed.z), double(computed.y), double(computed.x)};
  a.strings["model"] = "born-wolf";
  a.strings["axes"] = "zyx";
  a.strings["sampling"] =
      p.lateral_samples > 1
          ? detail::concat("mean of ", p.lateral_samples, "x", p.lateral_samples,
                           " lateral points per voxel (pixel integration); centre voxel n/2; sum 1")
          : std::string("point samples at voxel centres; centre voxel n/2; sum 1");
  return a;
}

// Writes `psf` as the output: TIFF (ImageJ calibration) or HDF5 with `attributes`.
void write_psf(const PsfSettings& s, const Volume& psf, const std::optional<std::array<double, 3>>& voxel,
               const io::AttributeSet& attributes) {
  const Shape3 k = psf.shape;
  if (is_tiff_name(s.output.file)) {
    io::write_tiff_stack(s.output.file, psf, voxel);
    return;
  }
  io::write_array(s.output.file, s.output.path, psf.data, {k.z, k.y, k.x}, io::DType::float32,
                  /*truncate_file=*/true);
  io::write_attributes(s.output.file, s.output.path, attributes);
}

void measure_and_write(const PsfSettings& s) {
  io::check_output_path(s.output.file, s.overwrite, {{s.beads->file, "the bead image"}});
  io::PsfFile file = io::read_psf_file(*s.beads, MPI_COMM_SELF, 1);
  const std::optional<std::array<double, 3>> voxel = s.voxel_um ? s.voxel_um : file.element_size_um;
  const BeadPsf r = psf_from_beads(file.psfs.at(0), s.bead_options);
  io::AttributeSet a;
  if (voxel) a.numbers["element_size_um"] = {(*voxel)[0], (*voxel)[1], (*voxel)[2]};
  a.numbers["beads"] = {double(r.beads.size())};
  a.numbers["fwhm_voxels"] = {r.fwhm[0], r.fwhm[1], r.fwhm[2]};
  a.numbers["background"] = {r.background};
  a.strings["model"] = "measured from beads";
  a.strings["source"] = s.beads->str();
  a.strings["axes"] = "zyx";
  write_psf(s, r.psf, voxel, a);
  std::cout << "psf from beads: " << r.beads.size() << " isolated beads used of " << r.candidates
            << " peaks in " << s.beads->str() << " (background " << r.background << "), box "
            << r.box.str() << "\n";
  for (const Bead& b : r.beads)
    std::cout << "  bead at z=" << b.z << " y=" << b.y << " x=" << b.x << ", peak " << b.peak << "\n";
  std::cout << "FWHM (z, y, x): " << r.fwhm[0] << ", " << r.fwhm[1] << ", " << r.fwhm[2]
            << " voxels";
  if (voxel)
    std::cout << " = " << r.fwhm[0] * (*voxel)[0] << ", " << r.fwhm[1] * (*voxel)[1] << ", "
              << r.fwhm[2] * (*voxel)[2] << " um";
  std::cout << "\nwrote " << (is_tiff_name(s.output.file) ? s.output.file : s.output.str())
            << " float32 " << r.psf.shape.str() << " (z,y,x), sum 1"
            << (voxel ? "" : "; no voxel size known (give --voxel-um)") << "\n";
}

void generate_and_write(const PsfSettings& s) {
  io::check_output_path(s.output.file, s.overwrite, {});
  Volume psf = born_wolf_psf(s.params);
  io::AttributeSet attributes = model_attributes(s.params, psf.shape);
  std::string cropped;
  if (s.crop > 0) {
    CroppedPsf c = crop_psf(psf, s.crop);
    cropped = ", cropped from " + psf.shape.str() + " (energy kept " +
              std::to_string(c.energy_kept) + ")";
    attributes.numbers["crop_energy_kept"] = {c.energy_kept};
    double sum = 0;
    for (float x : c.psf.data) sum += x;
    for (float& x : c.psf.data) x = float(x / sum);
    psf = std::move(c.psf);
  }
  const Shape3 k = psf.shape;
  write_psf(s, psf, s.params.voxel_um, attributes);
  std::cout << "psf born-wolf NA " << s.params.na << ", " << s.params.wavelength_nm
            << " nm, n " << s.params.immersion_index << ": wrote "
            << (is_tiff_name(s.output.file) ? s.output.file + " (TIFF, ImageJ calibration)"
                                            : s.output.str())
            << " float32 " << k.str() << " (z,y,x), sum 1" << cropped << "\n";
}

}  // namespace

int psf_command(int argc, char** argv) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  PsfSettings s;
  agree_on(MPI_COMM_WORLD, [&] { s = parse_psf_settings(argc, argv); });
  if (s.help) {
    if (rank == 0)
      print_help(std::cout, "psf",
                 "--na NA --wavelength-nm L --immersion-index N --voxel-um Z,Y,X "
                 "--shape Z,Y,X --output PSF.h5[:/psf]",
                 "Writes a Born-Wolf PSF (scalar diffraction, paraxial, no aberrations),\n"
                 "computed in double by integrating J0 over the pupil and sampled at voxel\n"
                 "centres: float32 (z,y,x), sum 1, centre voxel n/2, with the attributes\n"
                 "element_size_um (z,y,x), na, wavelength_nm, immersion_index and model.",
                 psf_option_descriptions());
    return kExitOk;
  }
  if (s.dry_run) return kExitOk;
  agree_on(MPI_COMM_WORLD, [&] {
    if (rank != 0) return;
    if (s.beads)
      measure_and_write(s);
    else
      generate_and_write(s);
  });
  return kExitOk;
}

}  // namespace h5decon::app
