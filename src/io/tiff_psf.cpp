// A PSF z stack from a multi-page TIFF (tiff_reader.hpp does the reading): one
// z stack, not an ImageJ hyperstack, as float32 with ImageJ's voxel size.
#include "io/tiff_psf.hpp"

#include <cmath>
#include <map>
#include <string>

#include "h5decon/error.hpp"
#include "io/tiff_reader.hpp"

namespace h5decon::io::detail {
namespace {

// A PSF is one z stack: an ImageJ hyperstack with channels or frames is not.
void require_single_stack(const std::map<std::string, std::string>& f, std::int64_t pages,
                          const std::string& what) {
  for (const char* axis : {"channels", "frames"}) {
    const double n = imagej_number(f, axis);
    H5DECON_REQUIRE(n <= 1, InputError, what, ": an ImageJ hyperstack with ", n, " ", axis,
                    "; a TIFF PSF must be one z stack (one PSF for every channel; give one PSF "
                    "per channel as an HDF5 (c,z,y,x) dataset)");
  }
  const double images = imagej_number(f, "images");
  H5DECON_REQUIRE(images == 0 || images == double(pages), InputError, what, ": ImageJ says ",
                  images, " images but the file has ", pages,
                  " pages (ImageJ's layout for stacks over 4 GiB); save it as a plain TIFF stack");
}

}  // namespace

TiffStack read_tiff_stack(const std::string& file, const std::string& what) {
  TiffReader reader(file, what, "a PSF");
  require_single_stack(reader.imagej(), reader.pages(), what);
  TiffStack out;
  out.element_size_um = reader.imagej_voxel_size();
  out.volume = Volume(Shape3{reader.pages(), reader.height(), reader.width()});
  const std::size_t plane = std::size_t(reader.height()) * std::size_t(reader.width());
  for (std::int64_t z = 0; z < reader.pages(); ++z)
    reader.read_page(z, out.volume.span().subspan(std::size_t(z) * plane, plane));
  return out;
}

}  // namespace h5decon::io::detail
