// read_psfs: one PSF for all channels or one per channel, float64 conversion,
// and the errors that name the PSF.
#include <gtest/gtest.h>

#include <filesystem>

#include "h5decon/io/hdf5_io.hpp"
#include "io/io_test_util.hpp"

namespace h5decon::io {
namespace {

using test::expect_input_error_everywhere;
using test::on_root;
using test::TempDir;

std::vector<double> ramp(std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = 0.125 * static_cast<double>(i);
  return v;
}

TEST(ReadPsfs, ReturnsOneZyxPsfForEveryChannelConvertedFromFloat64) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psf"};
  const std::vector<double> values = ramp(3 * 5 * 4);
  on_root([&] {
    test::write_raw(ref.file, ref.path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {3, 5, 4},
                    values.data());
  });
  const std::vector<Volume> psfs = read_psfs(ref, MPI_COMM_WORLD, 2);
  ASSERT_EQ(psfs.size(), 2u);
  for (const Volume& psf : psfs) {
    EXPECT_EQ(psf.shape, (Shape3{3, 5, 4}));
    for (std::size_t i = 0; i < values.size(); ++i)
      ASSERT_EQ(psf.data[i], static_cast<float>(values[i]));
  }
}

TEST(ReadPsfs, ReturnsOnePsfPerChannelFromACzyxStack) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psfs/all"};
  const std::vector<float> values(3 * 2 * 3 * 3, 0.0f);
  std::vector<float> v = values;
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i / 18);  // channel index
  on_root([&] { write_array(ref.file, ref.path, v, {3, 2, 3, 3}, DType::float32, true); });
  const std::vector<Volume> psfs = read_psfs(ref, MPI_COMM_WORLD, 3);
  ASSERT_EQ(psfs.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(psfs[c].shape, (Shape3{2, 3, 3}));
    EXPECT_EQ(psfs[c].at(1, 2, 2), static_cast<float>(c));
  }
}

TEST(ReadPsfs, RejectsAChannelCountThatDiffersFromTheData) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psf"};
  on_root([&] {
    write_array(ref.file, ref.path, std::vector<float>(16), {2, 2, 2, 2}, DType::uint16, true);
  });
  expect_input_error_everywhere([&] { read_psfs(ref, MPI_COMM_WORLD, 3); },
                                "PSF '" + ref.str() + "': PSF has 2 channels but the data has 3");
}

TEST(ReadPsfs, RejectsAWrongRankNamingThePsf) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psf"};
  on_root([&] {
    write_array(ref.file, ref.path, std::vector<float>(4), {2, 2}, DType::float32, true);
  });
  expect_input_error_everywhere(
      [&] { read_psfs(ref, MPI_COMM_WORLD, 1); },
      "PSF '" + ref.str() + "': rank 2 but expected 3 (z,y,x) or 4 (c,z,y,x)");
}

TEST(ReadPsfs, RejectsMissingFilesDatasetsAndGroupsNamingThePsf) {
  TempDir dir;
  const std::string file = dir / "psf.h5";
  expect_input_error_everywhere(
      [&] {
        read_psfs({file, "/psf"}, MPI_COMM_WORLD, 1);
      },
      "PSF '" + file + ":/psf': file not found");
  on_root([&] {
    write_array(file, "/g/psf", std::vector<float>(8), {2, 2, 2}, DType::float32, true);
  });
  expect_input_error_everywhere(
      [&] {
        read_psfs({file, "/psf"}, MPI_COMM_WORLD, 1);
      },
      "PSF '" + file + ":/psf': no dataset '/psf' in the file");
  expect_input_error_everywhere(
      [&] {
        read_psfs({file, "/g"}, MPI_COMM_WORLD, 1);
      },
      "PSF '" + file + ":/g': '/g' is a group, not a dataset");
}

TEST(ReadPsfs, ReadsEveryIntegerAndFloatTypeInEitherByteOrder) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psf"};
  const std::pair<hid_t, hid_t> types[] = {{H5T_STD_I64LE, H5T_NATIVE_LLONG},
                                           {H5T_STD_I16BE, H5T_NATIVE_LLONG},
                                           {H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE}};
  for (const auto& [file_type, memory_type] : types) {
    on_root([&] {
      std::filesystem::remove(ref.file);
      if (memory_type == H5T_NATIVE_DOUBLE) {
        const std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8};
        test::write_raw(ref.file, ref.path, file_type, memory_type, {2, 2, 2}, v.data());
      } else {
        const std::vector<long long> v{1, 2, 3, 4, 5, 6, 7, 8};
        test::write_raw(ref.file, ref.path, file_type, memory_type, {2, 2, 2}, v.data());
      }
    });
    MPI_Barrier(MPI_COMM_WORLD);
    const std::vector<Volume> psfs = read_psfs(ref, MPI_COMM_WORLD, 1);
    ASSERT_EQ(psfs.size(), 1u);
    EXPECT_EQ(psfs[0].at(1, 1, 1), 8.0f);
    EXPECT_EQ(psfs[0].at(0, 0, 1), 2.0f);
  }
}

TEST(ReadPsfs, RejectsAnAxisOfSizeZero) {
  TempDir dir;
  const DatasetRef ref{dir / "psf.h5", "/psf"};
  on_root([&] { write_array(ref.file, ref.path, {}, {2, 0, 2}, DType::float32, true); });
  expect_input_error_everywhere([&] { read_psfs(ref, MPI_COMM_WORLD, 1); }, "axis y has size 0");
}

}  // namespace
}  // namespace h5decon::io
