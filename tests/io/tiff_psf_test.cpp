// TIFF PSFs: pages as z planes in every supported sample type, compression and
// layout; ImageJ's voxel size; the refusals, each naming the file and the problem;
// and read_psf_file() across ranks (TIFF broadcast from rank 0, HDF5 attribute).
#include "io/tiff_psf.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "h5decon/io/hdf5_io.hpp"
#include "io/io_test_util.hpp"
#include "io/tiff_writer.hpp"

namespace h5decon::io {
namespace {

using detail::read_tiff_stack;
using test::expect_input_error_everywhere;
using test::on_root;
using test::TempDir;
using test::TiffSpec;
using test::write_tiff;

// Page z holds z*100 + y*10 + x: every voxel says where it belongs.
std::vector<std::vector<std::uint16_t>> coded_pages(const TiffSpec& s, int pages) {
  std::vector<std::vector<std::uint16_t>> out(static_cast<std::size_t>(pages));
  for (int z = 0; z < pages; ++z)
    for (std::uint32_t y = 0; y < s.height; ++y)
      for (std::uint32_t x = 0; x < s.width; ++x)
        out[std::size_t(z)].push_back(static_cast<std::uint16_t>(z * 100 + y * 10 + x));
  return out;
}

std::vector<std::vector<float>> random_pages(const TiffSpec& s, int pages) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<std::vector<float>> out(static_cast<std::size_t>(pages));
  for (auto& page : out)
    for (std::uint32_t i = 0; i < s.width * s.height; ++i) page.push_back(value(rng));
  return out;
}

// The error read_tiff_stack() throws for `path`, or "<no error>".
std::string tiff_error(const std::string& path) {
  try {
    read_tiff_stack(path, "PSF '" + path + "'");
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(TiffStack, ReadsEachPageOfAUint16StackAsOneZPlane) {
  TempDir dir;
  const TiffSpec spec;
  on_root([&] { write_tiff(dir / "psf.tif", spec, coded_pages(spec, 3)); });
  const detail::TiffStack stack = read_tiff_stack(dir / "psf.tif", "PSF");
  ASSERT_EQ(stack.volume.shape, (Shape3{3, 4, 5}));
  for (int z = 0; z < 3; ++z)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 5; ++x) ASSERT_EQ(stack.volume.at(z, y, x), float(z * 100 + y * 10 + x));
  EXPECT_FALSE(stack.element_size_um.has_value());
}

TEST(TiffStack, ReadsUint8Pages) {
  TempDir dir;
  TiffSpec spec;
  spec.bits = 8;
  std::vector<std::vector<std::uint8_t>> pages{std::vector<std::uint8_t>(20, 7),
                                               std::vector<std::uint8_t>(20, 255)};
  on_root([&] { write_tiff(dir / "psf.tif", spec, pages); });
  const detail::TiffStack stack = read_tiff_stack(dir / "psf.tif", "PSF");
  ASSERT_EQ(stack.volume.shape, (Shape3{2, 4, 5}));
  EXPECT_EQ(stack.volume.at(0, 3, 4), 7.0f);
  EXPECT_EQ(stack.volume.at(1, 0, 0), 255.0f);
}

// libtiff decodes LZW and deflate, strips of a few rows and tiles that overhang the page.
TEST(TiffStack, ReadsFloat32PagesCompressedInStripsAndTiles) {
  TempDir dir;
  TiffSpec lzw_strips;
  lzw_strips.width = 20, lzw_strips.height = 18, lzw_strips.bits = 32;
  lzw_strips.format = SAMPLEFORMAT_IEEEFP, lzw_strips.compression = COMPRESSION_LZW;
  lzw_strips.rows_per_strip = 4;
  TiffSpec deflate_tiles = lzw_strips;
  deflate_tiles.compression = COMPRESSION_ADOBE_DEFLATE, deflate_tiles.tile = 16;
  const auto pages = random_pages(lzw_strips, 4);
  // Both files are written before any rank reads: no rank reads a file being rewritten.
  on_root([&] {
    write_tiff(dir / "lzw_strips.tif", lzw_strips, pages);
    write_tiff(dir / "deflate_tiles.tif", deflate_tiles, pages);
  });
  for (const char* name : {"lzw_strips.tif", "deflate_tiles.tif"}) {
    const detail::TiffStack stack = read_tiff_stack(dir / name, "PSF");
    ASSERT_EQ(stack.volume.shape, (Shape3{4, 18, 20})) << name;
    for (std::size_t z = 0; z < 4; ++z)
      for (std::size_t i = 0; i < pages[z].size(); ++i)
        ASSERT_EQ(stack.volume.data[z * 360 + i], pages[z][i]) << name;
  }
}

TEST(TiffStack, ReadsTheVoxelSizeImageJRecords) {
  TempDir dir;
  TiffSpec spec;
  spec.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=micron\nspacing=0.3\nloop=false\n";
  spec.x_resolution = 10.0f;  // pixels per micron: 0.1 um wide
  spec.y_resolution = 5.0f;   // 0.2 um high
  on_root([&] { write_tiff(dir / "um.tif", spec, coded_pages(spec, 3)); });
  const auto um = read_tiff_stack(dir / "um.tif", "PSF").element_size_um;
  ASSERT_TRUE(um.has_value());
  EXPECT_DOUBLE_EQ((*um)[0], 0.3);
  EXPECT_NEAR((*um)[1], 0.2, 1e-7);
  EXPECT_NEAR((*um)[2], 0.1, 1e-7);
  // ImageJ's escaped micro sign, and nanometres.
  spec.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=\\u00B5m\nspacing=0.3\n";
  on_root([&] { write_tiff(dir / "mu.tif", spec, coded_pages(spec, 3)); });
  EXPECT_EQ(read_tiff_stack(dir / "mu.tif", "PSF").element_size_um, um);
  spec.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=nm\nspacing=300\n";
  spec.x_resolution = 0.01f, spec.y_resolution = 0.005f;
  on_root([&] { write_tiff(dir / "nm.tif", spec, coded_pages(spec, 3)); });
  const auto nm = read_tiff_stack(dir / "nm.tif", "PSF").element_size_um;
  ASSERT_TRUE(nm.has_value());
  EXPECT_NEAR((*nm)[0], 0.3, 1e-9);
  EXPECT_NEAR((*nm)[1], 0.2, 1e-7);
  EXPECT_NEAR((*nm)[2], 0.1, 1e-7);
}

// Generic writers put 72 dpi in every file; ImageJ's "pixel" unit is no length.
TEST(TiffStack, ClaimsNoVoxelSizeWithoutAnImageJLengthUnit) {
  TempDir dir;
  TiffSpec spec;
  spec.x_resolution = spec.y_resolution = 72.0f, spec.resolution_unit = RESUNIT_INCH;
  on_root([&] { write_tiff(dir / "dpi.tif", spec, coded_pages(spec, 2)); });
  EXPECT_FALSE(read_tiff_stack(dir / "dpi.tif", "PSF").element_size_um.has_value());
  spec.description = "ImageJ=1.54f\nimages=2\nslices=2\nunit=pixel\nspacing=1\n";
  on_root([&] { write_tiff(dir / "pixel.tif", spec, coded_pages(spec, 2)); });
  EXPECT_FALSE(read_tiff_stack(dir / "pixel.tif", "PSF").element_size_um.has_value());
  spec.description = "ImageJ=1.54f\nimages=2\nslices=2\nunit=micron\n";  // no spacing: no z
  on_root([&] { write_tiff(dir / "no_z.tif", spec, coded_pages(spec, 2)); });
  EXPECT_FALSE(read_tiff_stack(dir / "no_z.tif", "PSF").element_size_um.has_value());
}

TEST(TiffStack, RefusesRgbNamingTheFileAndPage) {
  TempDir dir;
  TiffSpec spec;
  spec.bits = 8, spec.samples = 3, spec.photometric = PHOTOMETRIC_RGB;
  on_root([&] {
    write_tiff(dir / "rgb.tif", spec,
               std::vector<std::vector<std::uint8_t>>(2, std::vector<std::uint8_t>(60)));
  });
  EXPECT_EQ(tiff_error(dir / "rgb.tif"),
            "PSF '" + dir / "rgb.tif" +
                "': page 1 has 3 samples per pixel (RGB); a PSF must be greyscale, one sample "
                "per pixel");
}

TEST(TiffStack, RefusesPaletteAndUnsupportedSampleTypes) {
  TempDir dir;
  TiffSpec palette;
  palette.bits = 8, palette.photometric = PHOTOMETRIC_PALETTE;
  on_root([&] {
    write_tiff(dir / "palette.tif", palette,
               std::vector<std::vector<std::uint8_t>>(1, std::vector<std::uint8_t>(20)));
  });
  EXPECT_NE(tiff_error(dir / "palette.tif").find("page 1 is palette colour"), std::string::npos)
      << tiff_error(dir / "palette.tif");
  TiffSpec u32;
  u32.bits = 32;
  on_root([&] {
    write_tiff(dir / "u32.tif", u32,
               std::vector<std::vector<std::uint32_t>>(1, std::vector<std::uint32_t>(20)));
  });
  EXPECT_NE(tiff_error(dir / "u32.tif")
                .find("page 1 has 32-bit unsigned integer samples; supported: 8- or 16-bit "
                      "unsigned integer, 32-bit float"),
            std::string::npos)
      << tiff_error(dir / "u32.tif");
  TiffSpec i16;
  i16.format = SAMPLEFORMAT_INT;
  on_root([&] {
    write_tiff(dir / "i16.tif", i16,
               std::vector<std::vector<std::int16_t>>(1, std::vector<std::int16_t>(20)));
  });
  EXPECT_NE(tiff_error(dir / "i16.tif").find("16-bit signed integer samples"), std::string::npos);
}

TEST(TiffStack, RefusesPagesOfDifferentSizes) {
  TempDir dir;
  const std::string path = dir / "mixed.tif";
  on_root([&] {
    TIFF* tif = TIFFOpen(path.c_str(), "w");
    for (std::uint32_t height : {4u, 3u}) {
      TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 5u);
      TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
      TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
      std::vector<std::uint16_t> row(5, 1);
      for (std::uint32_t y = 0; y < height; ++y) TIFFWriteScanline(tif, row.data(), y, 0);
      TIFFWriteDirectory(tif);
    }
    TIFFClose(tif);
  });
  EXPECT_NE(tiff_error(path).find("page 2 is 5x3 16-bit unsigned integer but page 1 is 5x4 "
                                  "16-bit unsigned integer"),
            std::string::npos)
      << tiff_error(path);
}

TEST(TiffStack, RefusesAnImageJHyperstackWithSeveralChannels) {
  TempDir dir;
  TiffSpec spec;
  spec.description = "ImageJ=1.54f\nimages=4\nchannels=2\nslices=2\nhyperstack=true\n";
  on_root([&] { write_tiff(dir / "hyper.tif", spec, coded_pages(spec, 4)); });
  EXPECT_NE(tiff_error(dir / "hyper.tif").find("an ImageJ hyperstack with 2 channels"),
            std::string::npos)
      << tiff_error(dir / "hyper.tif");
}

TEST(TiffStack, RefusesMissingGarbageAndTruncatedFiles) {
  TempDir dir;
  const std::string garbage = dir / "garbage.tif", cut = dir / "cut.tif";
  on_root([&] {
    std::ofstream(garbage) << "this is a text file, not a TIFF\n";
    TiffSpec spec;
    spec.width = spec.height = 64;
    write_tiff(dir / "whole.tif", spec, coded_pages(spec, 3));
    std::ifstream in(dir / "whole.tif", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, 6000);  // data of page 1 cut short
  });
  EXPECT_EQ(tiff_error(dir / "nope.tif"), "PSF '" + dir / "nope.tif" + "': file not found");
  EXPECT_EQ(tiff_error(garbage),
            "PSF '" + garbage + "': not a TIFF file (it does not start with a TIFF header)");
  EXPECT_EQ(tiff_error(cut).rfind("PSF '" + cut + "'", 0), 0u) << tiff_error(cut);
}

// --- read_psf_file(): every rank, both formats ---------------------------------------

TEST(ReadPsfFile, GivesEveryRankTheTiffStackForEveryChannelWithItsVoxelSize) {
  TempDir dir;
  TiffSpec spec;
  spec.description = "ImageJ=1.54f\nimages=3\nslices=3\nunit=um\nspacing=0.5\n";
  spec.x_resolution = spec.y_resolution = 10.0f;
  on_root([&] { write_tiff(dir / "psf.tiff", spec, coded_pages(spec, 3)); });
  const DatasetRef ref = parse_psf_ref(dir / "psf.tiff", "/psf");
  EXPECT_EQ(ref.str(), dir / "psf.tiff");
  const PsfFile file = read_psf_file(ref, MPI_COMM_WORLD, 2);
  ASSERT_EQ(file.psfs.size(), 2u);
  for (const Volume& v : file.psfs) {
    ASSERT_EQ(v.shape, (Shape3{3, 4, 5}));
    EXPECT_EQ(v.at(2, 3, 4), 234.0f);
  }
  ASSERT_TRUE(file.element_size_um.has_value());
  EXPECT_DOUBLE_EQ((*file.element_size_um)[0], 0.5);
  EXPECT_NEAR((*file.element_size_um)[2], 0.1, 1e-7);
}

TEST(ReadPsfFile, FindsATiffByItsHeaderUnderAnotherName) {
  TempDir dir;
  const TiffSpec spec;
  on_root([&] { write_tiff(dir / "psf.dat", spec, coded_pages(spec, 2)); });
  const PsfFile file = read_psf_file(parse_psf_ref(dir / "psf.dat", "/psf"), MPI_COMM_WORLD, 1);
  ASSERT_EQ(file.psfs.at(0).shape, (Shape3{2, 4, 5}));
}

TEST(ReadPsfFile, ReportsATiffErrorIdenticallyOnEveryRank) {
  TempDir dir;
  const std::string path = dir / "rgb.tif";
  TiffSpec spec;
  spec.bits = 8, spec.samples = 3, spec.photometric = PHOTOMETRIC_RGB;
  on_root([&] {
    write_tiff(path, spec,
               std::vector<std::vector<std::uint8_t>>(1, std::vector<std::uint8_t>(60)));
  });
  expect_input_error_everywhere(
      [&] { read_psf_file(parse_psf_ref(path, "/psf"), MPI_COMM_WORLD, 1); },
      "PSF '" + path + "': page 1 has 3 samples per pixel (RGB)");
  expect_input_error_everywhere(
      [&] { read_psf_file(parse_psf_ref(dir / "missing.tif", "/psf"), MPI_COMM_WORLD, 1); },
      "PSF '" + dir / "missing.tif" + "': file not found");
}

TEST(ReadPsfFile, ReturnsTheElementSizeAttributeOfAnHdf5Psf) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psf"};
  on_root([&] {
    write_array(ref.file, ref.path, std::vector<float>(27, 1.0f), {3, 3, 3}, DType::float32, true);
    test::add_double_attribute(ref.file, ref.path, "element_size_um", {0.3, 0.1, 0.1});
  });
  const PsfFile file = read_psf_file(ref, MPI_COMM_WORLD, 1);
  EXPECT_EQ(file.element_size_um, (std::array<double, 3>{0.3, 0.1, 0.1}));
}

TEST(ParsePsfRef, NamesATiffWithoutADatasetPathAndRefusesOne) {
  const DatasetRef tif = parse_psf_ref("data/PSF.TIF", "/psf");
  EXPECT_EQ(tif.file, "data/PSF.TIF");
  EXPECT_TRUE(tif.path.empty());
  EXPECT_EQ(tif.str(), "data/PSF.TIF");
  EXPECT_EQ(parse_psf_ref("psf.h5", "/psf").str(), "psf.h5:/psf");
  EXPECT_EQ(parse_psf_ref("psf.h5:/a/b", "/psf").str(), "psf.h5:/a/b");
  try {
    parse_psf_ref("psf.tiff:/psf", "/psf");
    ADD_FAILURE() << "a TIFF with a dataset path was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("named without a dataset path: 'psf.tiff'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace h5decon::io
