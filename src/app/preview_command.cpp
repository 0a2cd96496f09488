// `h5decon preview`: xy and xz maximum-intensity projections of one (c, t) volume
// of the input (left) and of the result (right), as an 8-bit greyscale PNG.
#include "preview_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/io/output_path.hpp"
#include "png_image.hpp"
#include "png_text.hpp"

namespace h5decon::app {
namespace {

constexpr std::int64_t kGap = 8;    // black pixels between the input's and the result's panels
constexpr std::int64_t kBand = 20;  // the label band above each row of panels
constexpr std::int64_t kTargetPixels = 512;  // small volumes are enlarged towards this

// Where everything goes: each voxel a zoom x zoom square (xz rows stretched by
// the z/x voxel ratio so that the xz view has true proportions).
struct Layout {
  std::int64_t zoom = 1, z_stretch = 1, panel_width = 0, xy_height = 0, xz_height = 0;
  std::int64_t width = 0, height = 0, xy_top = 0, xz_top = 0;

  Layout(const Shape3& n, const std::optional<std::array<double, 3>>& voxel) {
    zoom = std::clamp<std::int64_t>((kTargetPixels + std::max(n.x, n.y) - 1) / std::max(n.x, n.y), 1, 8);
    if (voxel) z_stretch = std::clamp<std::int64_t>(std::llround((*voxel)[0] / (*voxel)[2]), 1, 16);
    panel_width = n.x * zoom;
    xy_height = n.y * zoom;
    xz_height = n.z * zoom * z_stretch;
    width = 2 * panel_width + kGap;
    xy_top = kBand;
    xz_top = kBand + xy_height + kBand;
    height = xz_top + xz_height;
  }
  std::int64_t left(int side) const { return side * (panel_width + kGap); }
};

struct PreviewSettings {
  bool help = false;
  io::DatasetRef input, result;
  std::string axes, output;
  std::int64_t c = 0, t = 0;
};

po::options_description preview_option_descriptions() {
  po::options_description desc("Preview options");
  desc.add_options()("input", po::value<std::string>()->value_name("IN.h5[:/data]"),
                     "the data before deconvolution")(
      "result", po::value<std::string>()->value_name("OUT.h5[:/data]"),
      "the deconvolved data (same volume shape)")(
      "c", po::value<std::int64_t>()->default_value(0)->value_name("C"), "channel")(
      "t", po::value<std::int64_t>()->default_value(0)->value_name("T"), "time point")(
      "axes", po::value<std::string>()->default_value("")->value_name("zyx|czyx|tzyx"),
      "stored axes of rank-3/4 datasets (both files)")(
      "output", po::value<std::string>()->value_name("preview.png"), "the PNG to write");
  desc.add(generic_options());
  return desc;
}

PreviewSettings parse_preview_settings(int argc, const char* const argv[]) {
  const ParsedOptions parsed =
      parse_options("preview", argc, argv, preview_option_descriptions());
  PreviewSettings s;
  s.help = parsed.help;
  if (s.help) return s;
  for (const char* name : {"input", "result", "output"}) require_option(parsed, name);
  const auto& v = parsed.values;
  s.input = io::DatasetRef::parse(v["input"].as<std::string>(), "/data");
  s.result = io::DatasetRef::parse(v["result"].as<std::string>(), "/data");
  s.output = v["output"].as<std::string>();
  s.axes = v["axes"].as<std::string>();
  s.c = v["c"].as<std::int64_t>();
  s.t = v["t"].as<std::int64_t>();
  if (s.c < 0 || s.t < 0) throw UsageError("--c and --t must be >= 0");
  return s;
}

// Maximum-intensity projections of one volume: along z (xy, y rows) and y (xz, z rows).
struct Projections {
  Volume xy, xz;  // shapes {1, y, x} and {1, z, x}
};

Projections project(const Volume& v) {
  const Shape3 s = v.shape;
  Projections p{Volume({1, s.y, s.x}, -INFINITY), Volume({1, s.z, s.x}, -INFINITY)};
  for (std::int64_t z = 0; z < s.z; ++z)
    for (std::int64_t y = 0; y < s.y; ++y)
      for (std::int64_t x = 0; x < s.x; ++x) {
        const float value = v.at(z, y, x);
        p.xy.at(0, y, x) = std::max(p.xy.at(0, y, x), value);
        p.xz.at(0, z, x) = std::max(p.xz.at(0, z, x), value);
      }
  return p;
}

// The 0.1 and 99.9 percentiles of both projections' pixels together.
std::pair<float, float> contrast_range(const Projections& p) {
  std::vector<float> all(p.xy.data);
  all.insert(all.end(), p.xz.data.begin(), p.xz.data.end());
  auto percentile = [&](double q) {
    const auto k = std::size_t(std::llround(q * double(all.size() - 1)));
    std::nth_element(all.begin(), all.begin() + std::ptrdiff_t(k), all.end());
    return all[k];
  };
  const float lo = percentile(0.001), hi = percentile(0.999);
  return {lo, hi > lo ? hi : lo + 1.0f};
}

// Draws projection `p` (one plane) at column `left`, row `top`, scaled to 0..255,
// each pixel `w` x `h` image pixels.
void paint(GreyImage& image, const Volume& p, std::int64_t left, std::int64_t top,
           std::pair<float, float> range, std::int64_t w, std::int64_t h) {
  const double scale = 255.0 / double(range.second - range.first);
  for (std::int64_t r = 0; r < p.shape.y; ++r)
    for (std::int64_t x = 0; x < p.shape.x; ++x) {
      const double g = (double(p.at(0, r, x)) - range.first) * scale;
      const auto grey = std::uint8_t(std::lround(std::clamp(g, 0.0, 255.0)));
      for (std::int64_t dy = 0; dy < h; ++dy)
        for (std::int64_t dx = 0; dx < w; ++dx) image.at(left + x * w + dx, top + r * h + dy) = grey;
    }
}

// A label in the band above a panel: at scale 2 when it fits, else 1.
void label(GreyImage& image, std::int64_t left, std::int64_t band_top, std::int64_t width,
           const std::string& text) {
  const int scale = text_width(text, 2) <= width ? 2 : 1;
  draw_text(image, left + 2, band_top + (kBand - kGlyphHeight * scale) / 2, text, scale);
}

// A run's output is (c, t, z, y, x) whatever the input's axes: --axes applies to a
// dataset of rank 3 or 4, and a rank-5 dataset is read as it is.
io::InputDataset open_any(const io::DatasetRef& ref, const std::string& axes) {
  if (axes.empty()) return io::InputDataset(ref, MPI_COMM_SELF, "");
  try {
    return io::InputDataset(ref, MPI_COMM_SELF, axes);
  } catch (const InputError&) {
    try {
      return io::InputDataset(ref, MPI_COMM_SELF, "");
    } catch (const InputError&) {
    }
    throw;
  }
}

struct PreviewVolume {
  Volume volume;
  std::optional<std::array<double, 3>> voxel;
};

PreviewVolume read_one(const io::DatasetRef& ref, const PreviewSettings& s) {
  const io::InputDataset dataset = open_any(ref, s.axes);
  const Shape5 shape = dataset.shape();
  H5DECON_REQUIRE(s.c < shape.c && s.t < shape.t, InputError, ref.str(), " has ", shape.c,
                  " channels and ", shape.t, " time points; --c ", s.c, " --t ", s.t,
                  " is outside");
  return {dataset.read_volume(s.c, s.t), dataset.element_size_um()};
}

void make_preview(const PreviewSettings& s) {
  // A preview is replaced freely, but only a regular file, never an input.
  io::check_output_path(s.output, true,
                        {{s.input.file, "the input file"}, {s.result.file, "the result file"}},
                        "preview output");
  const PreviewVolume a = read_one(s.input, s), b = read_one(s.result, s);
  const Volume &in = a.volume, &out = b.volume;
  H5DECON_REQUIRE(in.shape == out.shape, InputError, "the volumes differ in shape: ",
                  s.input.str(), " is ", in.shape.str(), ", ", s.result.str(), " is ",
                  out.shape.str());
  const Layout l(in.shape, b.voxel ? b.voxel : a.voxel);
  GreyImage image(l.width, l.height);
  const std::string where = " C=" + std::to_string(s.c) + " T=" + std::to_string(s.t);
  int side = 0;
  for (const Volume* v : {&in, &out}) {
    const Projections p = project(*v);
    const auto range = contrast_range(p);
    const std::string name = side == 0 ? "INPUT" : "RESULT";
    label(image, l.left(side), 0, l.panel_width, name + " XY MAX" + where);
    paint(image, p.xy, l.left(side), l.xy_top, range, l.zoom, l.zoom);
    label(image, l.left(side), l.xy_top + l.xy_height, l.panel_width, name + " XZ MAX" + where);
    paint(image, p.xz, l.left(side), l.xz_top, range, l.zoom, l.zoom * l.z_stretch);
    ++side;
  }
  write_png(s.output, image);
  std::cout << "preview: wrote " << s.output << " (" << image.width << "x" << image.height
            << "; left " << s.input.str() << ", right " << s.result.str() << "; c " << s.c
            << " t " << s.t << "; zoom " << l.zoom << ", xz rows x" << l.z_stretch
            << "; xy at rows " << l.xy_top << "-" << l.xy_top + l.xy_height - 1 << ", xz at rows "
            << l.xz_top << "-" << l.height - 1 << ", right panels from column " << l.left(1)
            << "; maximum projections)\n";
}

}  // namespace

int preview_command(int argc, char** argv) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  PreviewSettings s;
  agree_on(MPI_COMM_WORLD, [&] { s = parse_preview_settings(argc, argv); });
  if (s.help) {
    if (rank == 0)
      print_help(std::cout, "preview",
                 "--input IN.h5[:/data] --result OUT.h5[:/data] [--c C] [--t T] --output FILE.png",
                 "Writes an 8-bit greyscale PNG: maximum-intensity projections of volume (c, t),\n"
                 "the input on the left and the result on the right, xy (along z) on top and\n"
                 "xz (along y) below, each under a label naming the side, projection, c and t.\n"
                 "Each voxel is a square of 1 to 8 pixels (volumes under 512 voxels wide are\n"
                 "enlarged); xz rows are stretched by the z/x voxel ratio when the voxel size is\n"
                 "known. Each side is scaled from the 0.1 to the 99.9 percentile of its\n"
                 "projections. --axes names a rank-3/4 input's axes; a run's output (rank 5)\n"
                 "is read as it is.",
                 preview_option_descriptions());
    return kExitOk;
  }
  agree_on(MPI_COMM_WORLD, [&] {
    if (rank == 0) make_preview(s);
  });
  return kExitOk;
}

}  // namespace h5decon::app
