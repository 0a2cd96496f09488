// `h5decon preview`: xy and xz maximum-intensity projections of one (c, t) volume
// of the input (left) and of the result (right), as an 8-bit greyscale PNG.
#include "preview_command.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "agreement.hpp"
#include "cli.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "h5decon/io/output_path.hpp"
#include "png_image.hpp"

namespace h5decon::app {
namespace {

constexpr std::int64_t kGap = 4;  // black pixels between the panels

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

// Draws projection `p` (one plane) at column `left`, row `top`, scaled to 0..255.
void paint(GreyImage& image, const Volume& p, std::int64_t left, std::int64_t top,
           std::pair<float, float> range) {
  const double scale = 255.0 / double(range.second - range.first);
  for (std::int64_t r = 0; r < p.shape.y; ++r)
    for (std::int64_t x = 0; x < p.shape.x; ++x) {
      const double g = (double(p.at(0, r, x)) - range.first) * scale;
      image.at(left + x, top + r) = std::uint8_t(std::lround(std::clamp(g, 0.0, 255.0)));
    }
}

Volume read_one(const io::DatasetRef& ref, const PreviewSettings& s) {
  const io::InputDataset dataset(ref, MPI_COMM_SELF, s.axes);
  const Shape5 shape = dataset.shape();
  H5DECON_REQUIRE(s.c < shape.c && s.t < shape.t, InputError, ref.str(), " has ", shape.c,
                  " channels and ", shape.t, " time points; --c ", s.c, " --t ", s.t,
                  " is outside");
  return dataset.read_volume(s.c, s.t);
}

void make_preview(const PreviewSettings& s) {
  // A preview is replaced freely, but only a regular file, never an input.
  io::check_output_path(s.output, true,
                        {{s.input.file, "the input file"}, {s.result.file, "the result file"}},
                        "preview output");
  const Volume in = read_one(s.input, s), out = read_one(s.result, s);
  H5DECON_REQUIRE(in.shape == out.shape, InputError, "the volumes differ in shape: ",
                  s.input.str(), " is ", in.shape.str(), ", ", s.result.str(), " is ",
                  out.shape.str());
  const Shape3 n = in.shape;
  GreyImage image(2 * n.x + kGap, n.y + kGap + n.z);
  std::int64_t left = 0;
  for (const Volume* v : {&in, &out}) {
    const Projections p = project(*v);
    const auto range = contrast_range(p);
    paint(image, p.xy, left, 0, range);
    paint(image, p.xz, left, n.y + kGap, range);
    left += n.x + kGap;
  }
  write_png(s.output, image);
  std::cout << "preview: wrote " << s.output << " (" << image.width << "x" << image.height
            << "; left " << s.input.str() << ", right " << s.result.str() << "; c " << s.c
            << " t " << s.t << "; top xy, bottom xz maximum projections)\n";
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
                 "xz (along y) below, one pixel per voxel, 4 black pixels between panels.\n"
                 "Each side is scaled from the 0.1 to the 99.9 percentile of its projections.",
                 preview_option_descriptions());
    return kExitOk;
  }
  agree_on(MPI_COMM_WORLD, [&] {
    if (rank == 0) make_preview(s);
  });
  return kExitOk;
}

}  // namespace h5decon::app
