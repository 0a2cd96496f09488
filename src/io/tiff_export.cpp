// `h5decon export --layout tiff|ome-tiff`: a (c, t, z, y, x) dataset as an ImageJ
// hyperstack or an OME-TIFF, page by page (one z plane in memory), in float32 or
// in uint16 with a stated scale, one file or one per (c, t) volume.
#include <tiffio.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <sstream>
#include <vector>

#include "h5decon/config.hpp"
#include "h5decon/error.hpp"
#include "h5decon/io/output_path.hpp"
#include "h5decon/io/tiff_export.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;

std::string number(double v) {
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  return std::string(buffer, end);
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '&') out += "&amp;";
    else if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '"') out += "&quot;";
    else out += ch;
  }
  return out;
}

// ImageJ's hyperstack description: pages in czt order, its calibration.
std::string imagej_description(const Shape5& s, const std::optional<std::array<double, 3>>& voxel,
                               const TiffExportPlan& plan) {
  std::ostringstream d;
  d << "ImageJ=1.11a\nimages=" << s.c * s.t * s.volume.z << "\n";
  if (s.c > 1) d << "channels=" << s.c << "\n";
  if (s.volume.z > 1) d << "slices=" << s.volume.z << "\n";
  if (s.t > 1) d << "frames=" << s.t << "\n";
  if (s.c > 1 || s.t > 1) d << "hyperstack=true\nmode=grayscale\n";
  if (voxel) d << "unit=micron\nspacing=" << number((*voxel)[0]) << "\n";
  if (plan.uint16) d << "min=0\nmax=65535\n";
  d << "loop=false\n";
  if (plan.uint16)
    d << "h5decon_value_scale=" << number(plan.scale) << "\nh5decon_max_value="
      << number(plan.max_value) << "\n";
  return d.str();
}

// OME-XML for one file: DimensionOrder XYZCT (pages z fastest, then c, then t).
std::string ome_xml(const Shape5& s, const std::optional<std::array<double, 3>>& voxel,
                    const std::vector<std::string>& names, const TiffExportPlan& plan,
                    const std::string& image_name) {
  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\" "
       "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
       "xsi:schemaLocation=\"http://www.openmicroscopy.org/Schemas/OME/2016-06 "
       "http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd\" Creator=\"h5decon "
    << H5DECON_VERSION << "\">\n"
    << "  <Image ID=\"Image:0\" Name=\"" << xml_escape(image_name) << "\">\n"
    << "    <Pixels ID=\"Pixels:0\" DimensionOrder=\"XYZCT\" Type=\""
    << (plan.uint16 ? "uint16" : "float") << "\" SizeX=\"" << s.volume.x << "\" SizeY=\""
    << s.volume.y << "\" SizeZ=\"" << s.volume.z << "\" SizeC=\"" << s.c << "\" SizeT=\"" << s.t
    << "\"";
  if (voxel)
    x << " PhysicalSizeX=\"" << number((*voxel)[2]) << "\" PhysicalSizeXUnit=\"\xC2\xB5m\""
      << " PhysicalSizeY=\"" << number((*voxel)[1]) << "\" PhysicalSizeYUnit=\"\xC2\xB5m\""
      << " PhysicalSizeZ=\"" << number((*voxel)[0]) << "\" PhysicalSizeZUnit=\"\xC2\xB5m\"";
  x << ">\n";
  for (std::int64_t c = 0; c < s.c; ++c) {
    const std::string name = std::size_t(c) < names.size() ? names[std::size_t(c)] : "channel " + std::to_string(c);
    x << "      <Channel ID=\"Channel:0:" << c << "\" Name=\"" << xml_escape(name)
      << "\" SamplesPerPixel=\"1\"/>\n";
  }
  x << "      <TiffData IFD=\"0\" PlaneCount=\"" << s.c * s.t * s.volume.z << "\"/>\n"
    << "    </Pixels>\n  </Image>\n";
  if (plan.uint16)
    x << "  <StructuredAnnotations><MapAnnotation ID=\"Annotation:0\"><Value>"
      << "<M K=\"h5decon_value_scale\">" << number(plan.scale) << "</M>"
      << "<M K=\"h5decon_max_value\">" << number(plan.max_value) << "</M>"
      << "</Value></MapAnnotation></StructuredAnnotations>\n";
  x << "</OME>\n";
  return x.str();
}

struct TiffCloser {
  void operator()(TIFF* t) const noexcept { TIFFClose(t); }
};

// One output file: its pages written in order, renamed into place when complete.
class PageFile {
 public:
  PageFile(const std::string& file, double bytes) : file_(file), partial_(file + ".partial") {
    // Classic TIFF up to 4 GiB, BigTIFF beyond (ImageJ, Fiji's Bio-Formats and tifffile read both).
    tif_.reset(TIFFOpen(partial_.c_str(), bytes > 3.9e9 ? "w8" : "w"));
    H5DECON_REQUIRE(tif_ != nullptr, IoError, "export: cannot create '", partial_, "'");
  }
  ~PageFile() {
    if (tif_) {
      tif_.reset();
      std::error_code ec;
      fs::remove(partial_, ec);  // incomplete: never left to be taken for a result
    }
  }
  void write(const Shape3& v, const void* plane, bool uint16, const std::string& description,
             const std::optional<std::array<double, 3>>& voxel) {
    TIFF* t = tif_.get();
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(v.x));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(v.y));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, uint16 ? 16 : 32);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, uint16 ? SAMPLEFORMAT_UINT : SAMPLEFORMAT_IEEEFP);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<std::uint32_t>(v.y));
    if (!description.empty()) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
    if (voxel) {
      TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
      TIFFSetField(t, TIFFTAG_XRESOLUTION, static_cast<float>(1.0 / (*voxel)[2]));
      TIFFSetField(t, TIFFTAG_YRESOLUTION, static_cast<float>(1.0 / (*voxel)[1]));
    }
    const auto bytes = static_cast<tmsize_t>(v.y * v.x * (uint16 ? 2 : 4));
    H5DECON_REQUIRE(TIFFWriteEncodedStrip(t, 0, const_cast<void*>(plane), bytes) == bytes &&
                        TIFFWriteDirectory(t) == 1,
                    IoError, "export: cannot write page ", pages_ + 1, " of '", partial_,
                    "' (disk full?)");
    ++pages_;
  }
  void finish() {
    tif_.reset();
    std::error_code ec;
    fs::rename(partial_, file_, ec);
    H5DECON_REQUIRE(!ec, IoError, "export: cannot rename '", partial_, "' to '", file_, "': ",
                    ec.message());
  }

 private:
  std::string file_, partial_;
  std::unique_ptr<TIFF, TiffCloser> tif_;
  std::int64_t pages_ = 0;
};

// Planes of the input read a z-slab at a time: a plane is one z of every chunk
// across the volume, so reading planes one by one would read each chunk once per
// plane of it. Holds `held` slabs (one per channel for ImageJ's channel-fastest
// order), at most ~256 MiB in all.
class SlabReader {
 public:
  SlabReader(const InputDataset& input, std::int64_t held) : input_(input), held_(held) {
    const Shape3 v = input.shape().volume;
    const double plane_bytes = 4.0 * double(v.y) * double(v.x);
    depth_ = std::clamp<std::int64_t>(std::int64_t(256.0 * (1 << 20) / (plane_bytes * double(held))),
                                      1, std::min<std::int64_t>(64, v.z));
  }
  /// Plane z of volume (c, t).
  std::span<const float> plane(std::int64_t c, std::int64_t t, std::int64_t z) {
    const Shape3 v = input_.shape().volume;
    const std::int64_t z0 = z / depth_ * depth_;
    auto it = std::find_if(slabs_.begin(), slabs_.end(), [&](const Slab& s) {
      return s.c == c && s.t == t && s.z0 == z0;
    });
    if (it == slabs_.end()) {
      if (std::int64_t(slabs_.size()) >= held_) slabs_.erase(slabs_.begin());  // the oldest
      const std::int64_t n = std::min(depth_, v.z - z0);
      Slab s{c, t, z0, Volume(Shape3{n, v.y, v.x})};
      input_.read_box(c, t, {z0, 0, 0}, s.data.shape, s.data.span());
      it = slabs_.insert(slabs_.end(), std::move(s));
    }
    const std::size_t size = std::size_t(v.y * v.x);
    return std::span<const float>(it->data.data).subspan(std::size_t(z - z0) * size, size);
  }

 private:
  struct Slab {
    std::int64_t c, t, z0;
    Volume data;
  };
  const InputDataset& input_;
  std::int64_t held_, depth_ = 1;
  std::vector<Slab> slabs_;
};

// "NAME_c0_t3.tif" for a per-volume split of "NAME.tif" ("NAME.ome.tif" keeps .ome.tif).
std::string volume_file(const std::string& output, std::int64_t c, std::int64_t t) {
  std::string stem = output, ext;
  for (const char* e : {".ome.tiff", ".ome.tif", ".tiff", ".tif"})
    if (stem.size() > std::strlen(e) && stem.ends_with(e)) {
      ext = e;
      stem.resize(stem.size() - ext.size());
      break;
    }
  return stem + "_c" + std::to_string(c) + "_t" + std::to_string(t) + ext;
}

}  // namespace

std::vector<std::string> tiff_export_files(const std::string& output, const Shape5& shape,
                                           bool split) {
  if (!split) return {output};
  std::vector<std::string> files;
  for (std::int64_t c = 0; c < shape.c; ++c)
    for (std::int64_t t = 0; t < shape.t; ++t) files.push_back(volume_file(output, c, t));
  return files;
}

TiffExportReport export_tiff(const InputDataset& input, const std::string& output,
                             const TiffExportOptions& o) {
  const Shape5 s = input.shape();
  const Shape3 v = s.volume;
  TiffExportReport r;
  r.files = tiff_export_files(output, s, o.split_volumes);
  for (const std::string& f : r.files) {
    check_output_path(f, o.overwrite, {{input.data_file(), "the input file"}}, "export");
    check_output_path(f + ".partial", true, {{input.data_file(), "the input file"}}, "export");
  }
  TiffExportPlan plan;
  plan.uint16 = o.uint16;
  const std::size_t plane = std::size_t(v.y * v.x);
  if (plan.uint16) {
    if (o.max_value) {
      plan.max_value = *o.max_value;
    } else {  // one pass for the maximum
      plan.max_value = 0;
      SlabReader slabs(input, 1);
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t t = 0; t < s.t; ++t)
          for (std::int64_t z = 0; z < v.z; ++z) {
            const std::span<const float> values = slabs.plane(c, t, z);
            plan.max_value = std::max<double>(plan.max_value, *std::max_element(values.begin(), values.end()));
          }
      if (plan.max_value <= 0) plan.max_value = 65535;  // all zero: any scale is exact
    }
    H5DECON_REQUIRE(plan.max_value > 0 && std::isfinite(plan.max_value), InputError,
                    "export: --max-value must be a positive number");
    plan.scale = 65535.0 / plan.max_value;
  }
  const auto voxel = input.element_size_um();
  const Shape5 per_file = o.split_volumes ? Shape5{1, 1, v} : s;
  std::vector<std::uint16_t> stored(plan.uint16 ? plane : 0);
  const double file_bytes = double(per_file.size()) * (plan.uint16 ? 2 : 4);
  auto description = [&](const std::string& file, std::int64_t c) {
    if (!o.ome) return imagej_description(per_file, voxel, plan);
    std::vector<std::string> names = o.channel_names;
    if (o.split_volumes) names = {std::size_t(c) < names.size() ? names[std::size_t(c)] : ""};
    if (o.split_volumes && names[0].empty()) names.clear();
    return ome_xml(per_file, voxel, names, plan, fs::path(file).filename().string());
  };
  // ImageJ's single file takes every channel of a z before the next z.
  SlabReader slabs(input, !o.ome && !o.split_volumes ? s.c : 1);
  auto write_plane = [&](PageFile& out, std::int64_t c, std::int64_t t, std::int64_t z,
                         const std::string& text) {
    const std::span<const float> values = slabs.plane(c, t, z);
    const void* data = values.data();
    if (plan.uint16) {
      for (std::size_t i = 0; i < plane; ++i)
        stored[i] = static_cast<std::uint16_t>(
            std::lround(std::clamp(double(values[i]), 0.0, plan.max_value) * plan.scale));
      data = stored.data();
    }
    out.write(v, data, plan.uint16, text, voxel);
    ++r.pages;
  };
  if (o.split_volumes) {
    std::size_t k = 0;
    for (std::int64_t c = 0; c < s.c; ++c)
      for (std::int64_t t = 0; t < s.t; ++t) {
        PageFile out(r.files[k], file_bytes);
        const std::string text = description(r.files[k++], c);
        for (std::int64_t z = 0; z < v.z; ++z) write_plane(out, c, t, z, z == 0 ? text : "");
        out.finish();
      }
  } else {
    PageFile out(output, file_bytes);
    const std::string text = description(output, 0);
    bool first = true;
    // ImageJ: channel fastest, then z, then t. OME (XYZCT): z fastest, then c, then t.
    for (std::int64_t t = 0; t < s.t; ++t)
      for (std::int64_t outer = 0; outer < (o.ome ? s.c : v.z); ++outer)
        for (std::int64_t inner = 0; inner < (o.ome ? v.z : s.c); ++inner) {
          const std::int64_t c = o.ome ? outer : inner, z = o.ome ? inner : outer;
          write_plane(out, c, t, z, first ? text : "");
          first = false;
        }
    out.finish();
  }
  r.plan = plan;
  r.bigtiff = file_bytes > 3.9e9;
  return r;
}

}  // namespace h5decon::io
