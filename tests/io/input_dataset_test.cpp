// InputDataset: round trips through write_array, rank 3/4 axes, voxel size,
// and every user mistake it must explain (identically on every rank).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "h5decon/io/hdf5_io.hpp"
#include "io/io_test_util.hpp"

namespace h5decon::io {
namespace {

using test::expect_input_error_everywhere;
using test::on_root;
using test::TempDir;

// Values that survive every stored type exactly (integers up to 255), except
// for float32, which also gets a fraction to catch a silent integer path.
std::vector<float> pattern(std::int64_t n, DType t) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[i] = static_cast<float>((i * 37) % 251) + (t == DType::float32 ? 0.25f : 0.0f);
  return v;
}

// The value of element (c, t, z, y, x) of a C-order (C, T, Z, Y, X) array.
float at(const std::vector<float>& v, const Shape5& s, std::int64_t c, std::int64_t t,
         std::int64_t z, std::int64_t y, std::int64_t x) {
  return v[static_cast<std::size_t>(
      (((c * s.t + t) * s.volume.z + z) * s.volume.y + y) * s.volume.x + x)];
}

void expect_box_matches(const InputDataset& in, const std::vector<float>& ref, std::int64_t c,
                        std::int64_t t, Shape3 off, Shape3 n) {
  std::vector<float> box(static_cast<std::size_t>(n.size()));
  in.read_box(c, t, off, n, box);
  std::size_t i = 0;
  for (std::int64_t z = 0; z < n.z; ++z)
    for (std::int64_t y = 0; y < n.y; ++y)
      for (std::int64_t x = 0; x < n.x; ++x, ++i)
        ASSERT_EQ(box[i], at(ref, in.shape(), c, t, off.z + z, off.y + y, off.x + x))
            << "c=" << c << " t=" << t << " at " << z << "," << y << "," << x;
}

TEST(InputDataset, RoundTripsUint8Uint16AndFloat32Through5dDatasets) {
  TempDir dir;
  const Shape5 shape{2, 3, {4, 5, 6}};
  for (const DType t : {DType::uint8, DType::uint16, DType::float32}) {
    const std::string file = dir / ("in_" + to_string(t) + ".h5");
    const std::vector<float> data = pattern(shape.size(), t);
    on_root([&] {
      const auto d = shape.dims();
      write_array(file, "/raw/data", data, {d.begin(), d.end()}, t, true);
    });
    const InputDataset in({file, "/raw/data"}, MPI_COMM_WORLD);
    EXPECT_EQ(in.shape(), shape);
    EXPECT_EQ(in.dtype(), t);
    EXPECT_FALSE(in.element_size_um().has_value());
    expect_box_matches(in, data, 1, 2, {1, 1, 2}, {2, 3, 3});
    for (std::int64_t c = 0; c < shape.c; ++c)
      for (std::int64_t tt = 0; tt < shape.t; ++tt) {
        const Volume v = in.read_volume(c, tt);
        ASSERT_EQ(v.shape, shape.volume);
        EXPECT_EQ(v.at(3, 4, 5), at(data, shape, c, tt, 3, 4, 5));
        expect_box_matches(in, data, c, tt, {0, 0, 0}, shape.volume);
      }
  }
}

TEST(InputDataset, ReadsRank3DataWithZyxAxesAsOneVolume) {
  TempDir dir;
  const std::string file = dir / "zyx.h5";
  const std::vector<float> data = pattern(4 * 5 * 6, DType::uint16);
  on_root([&] { write_array(file, "/data", data, {4, 5, 6}, DType::uint16, true); });
  const InputDataset in({file, "/data"}, MPI_COMM_WORLD, "zyx");
  EXPECT_EQ(in.shape(), (Shape5{1, 1, {4, 5, 6}}));
  expect_box_matches(in, data, 0, 0, {1, 2, 3}, {3, 3, 3});
}

TEST(InputDataset, ReadsRank4DataWithCzyxOrTzyxAxes) {
  TempDir dir;
  const std::string file = dir / "4d.h5";
  const std::vector<float> data = pattern(3 * 4 * 5 * 6, DType::float32);
  on_root([&] { write_array(file, "/data", data, {3, 4, 5, 6}, DType::float32, true); });
  const InputDataset czyx({file, "/data"}, MPI_COMM_WORLD, "czyx");
  EXPECT_EQ(czyx.shape(), (Shape5{3, 1, {4, 5, 6}}));
  expect_box_matches(czyx, data, 2, 0, {0, 1, 2}, {4, 4, 4});
  const InputDataset tzyx({file, "/data"}, MPI_COMM_WORLD, "tzyx");
  EXPECT_EQ(tzyx.shape(), (Shape5{1, 3, {4, 5, 6}}));
  std::vector<float> box(4 * 5 * 6);
  tzyx.read_box(0, 2, {0, 0, 0}, {4, 5, 6}, box);
  EXPECT_EQ(box[7], data[2 * 120 + 7]);
}

TEST(InputDataset, CarriesTheElementSizeAttribute) {
  TempDir dir;
  const std::string file = dir / "voxel.h5";
  on_root([&] {
    write_array(file, "/data", std::vector<float>(8, 1.0f), {1, 1, 2, 2, 2}, DType::uint8, true);
    test::add_double_attribute(file, "/data", "element_size_um", {2.0, 0.5, 0.25});
  });
  const InputDataset in({file, "/data"}, MPI_COMM_WORLD);
  ASSERT_TRUE(in.element_size_um().has_value());
  EXPECT_EQ(*in.element_size_um(), (std::array<double, 3>{2.0, 0.5, 0.25}));
}

TEST(InputDataset, IgnoresAMalformedElementSizeAttribute) {
  TempDir dir;
  const std::string file = dir / "voxel.h5";
  on_root([&] {
    write_array(file, "/data", std::vector<float>(8, 1.0f), {1, 1, 2, 2, 2}, DType::uint8, true);
    test::add_double_attribute(file, "/data", "element_size_um", {2.0, 0.5});  // not (z, y, x)
  });
  const InputDataset in({file, "/data"}, MPI_COMM_WORLD);
  EXPECT_FALSE(in.element_size_um().has_value());
}

TEST(InputDataset, RejectsAMissingFile) {
  TempDir dir;
  const DatasetRef ref{dir / "absent.h5", "/data"};
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "input '" + ref.str() + "': file not found");
}

TEST(InputDataset, RejectsAFileThatIsNotHdf5) {
  TempDir dir;
  const DatasetRef ref{dir / "notes.h5", "/data"};
  on_root([&] { std::ofstream(ref.file) << "just some text, not HDF5\n"; });
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "input '" + ref.str() + "': not an HDF5 file");
}

TEST(InputDataset, RejectsAnEmptyFileAsNotHdf5) {
  TempDir dir;
  const DatasetRef ref{dir / "empty.h5", "/data"};
  on_root([&] { std::ofstream{ref.file}; });
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "input '" + ref.str() + "': not an HDF5 file");
}

TEST(InputDataset, RejectsADirectory) {
  TempDir dir;
  const DatasetRef ref{dir.path(), "/data"};
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "is a directory, not an HDF5 file");
}

class InputFile : public ::testing::Test {
 protected:
  // One small valid file: /raw/data (5D uint16) and the group /raw.
  void SetUp() override {
    on_root([&] {
      write_array(file_, "/raw/data", std::vector<float>(2 * 3 * 4, 7.0f), {1, 1, 2, 3, 4},
                  DType::uint16, true);
    });
  }
  TempDir dir_;
  std::string file_ = dir_ / "in.h5";
};

TEST_F(InputFile, RejectsAMissingDataset) {
  const DatasetRef ref{file_, "/raw/other"};
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "input '" + ref.str() + "': no dataset '/raw/other' in the file");
}

TEST_F(InputFile, RejectsADatasetBelowAMissingGroup) {
  const DatasetRef ref{file_, "/nope/data"};
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                ": no dataset '/nope/data' in the file");
}

TEST_F(InputFile, RejectsAGroupWhereADatasetWasExpected) {
  const DatasetRef ref{file_, "/raw"};
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "input '" + ref.str() + "': '/raw' is a group, not a dataset");
}

TEST_F(InputFile, RejectsAPathThroughADataset) {
  expect_input_error_everywhere(
      [&] {
        InputDataset in({file_, "/raw/data/x"}, MPI_COMM_WORLD);
      },
      "'/raw/data' is a dataset, not a group");
}

TEST(InputDataset, RejectsRank3DataWithoutAxes) {
  TempDir dir;
  const DatasetRef ref{dir / "zyx.h5", "/data"};
  on_root([&] {
    write_array(ref.file, ref.path, std::vector<float>(8), {2, 2, 2}, DType::uint8, true);
  });
  expect_input_error_everywhere(
      [&] { InputDataset in(ref, MPI_COMM_WORLD); },
      "input '" + ref.str() +
          "': rank 3 but expected 5 (c,t,z,y,x); pass --axes for rank 3 or 4 (e.g. --axes zyx)");
}

TEST(InputDataset, RejectsAxesThatDoNotMatchTheRank) {
  TempDir dir;
  const DatasetRef ref{dir / "zyx.h5", "/data"};
  on_root([&] {
    write_array(ref.file, ref.path, std::vector<float>(8), {2, 2, 2}, DType::uint8, true);
  });
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD, "czyx"); },
                                "rank 3 but --axes 'czyx' names 4 axes");
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD, "xyz"); },
                                "unsupported --axes 'xyz'");
}

TEST(InputDataset, RejectsAnUnsupportedElementType) {
  TempDir dir;
  const DatasetRef ref{dir / "int32.h5", "/data"};
  on_root([&] {
    const std::vector<int> v(8, 3);
    test::write_raw(ref.file, ref.path, H5T_STD_I32LE, H5T_NATIVE_INT, {1, 1, 2, 2, 2}, v.data());
  });
  expect_input_error_everywhere(
      [&] { InputDataset in(ref, MPI_COMM_WORLD); },
      "input '" + ref.str() +
          "': unsupported element type int32; supported: uint8, uint16, float32");
}

TEST(InputDataset, ConvertsBigEndianInt16AndFloat64ToFloat32) {
  TempDir dir;
  const DatasetRef be{dir / "be.h5", "/data"}, i16{dir / "i16.h5", "/data"},
      f64{dir / "f64.h5", "/data"};
  on_root([&] {
    const std::vector<unsigned short> u(8, 3);
    const std::vector<short> s(8, 3);
    const std::vector<double> d(8, 3.0);
    test::write_raw(be.file, be.path, H5T_STD_U16BE, H5T_NATIVE_USHORT, {1, 1, 2, 2, 2}, u.data());
    test::write_raw(i16.file, i16.path, H5T_STD_I16LE, H5T_NATIVE_SHORT, {1, 1, 2, 2, 2}, s.data());
    test::write_raw(f64.file, f64.path, H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {1, 1, 2, 2, 2},
                    d.data());
  });
  for (const auto& [ref, type] : {std::pair{be, DType::uint16}, std::pair{i16, DType::int16},
                                  std::pair{f64, DType::float64}}) {
    const InputDataset in(ref, MPI_COMM_WORLD);
    EXPECT_EQ(in.dtype(), type);
    EXPECT_EQ(in.read_volume(0, 0).data, std::vector<float>(8, 3.0f)) << ref.str();
  }
}

TEST(InputDataset, RefusesNanNamingTheVolumeAndVoxelAndClampsNegatives) {
  TempDir dir;
  const DatasetRef ref{dir / "values.h5", "/data"}, bad{dir / "nan.h5", "/data"};
  std::vector<float> v(16, 1.0f);
  v[8 + 5] = -2.0f;                                         // (t=1, z=1, y=0, x=1)
  on_root([&] { write_array(ref.file, ref.path, v, {1, 2, 2, 2, 2}, DType::float32, true); });
  const InputDataset in(ref, MPI_COMM_WORLD);
  EXPECT_EQ(in.read_volume(0, 1).data[5], 0.0f);
  v[3] = std::nanf("");                                     // (t=0, z=0, y=1, x=1)
  on_root([&] { write_array(bad.file, bad.path, v, {1, 2, 2, 2, 2}, DType::float32, true); });
  const InputDataset nan(bad, MPI_COMM_WORLD);
  try {
    nan.read_volume(0, 0);
    ADD_FAILURE() << "no error for a NaN";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("volume (c=0, t=0) contains NaN or Inf (nan at z=0, "
                                         "y=1, x=1)"),
              std::string::npos)
        << e.what();
  }
}

TEST(InputDataset, RejectsAnAxisOfSizeZero) {
  TempDir dir;
  const DatasetRef ref{dir / "empty.h5", "/data"};
  on_root([&] { write_array(ref.file, ref.path, {}, {1, 1, 2, 3, 0}, DType::uint16, true); });
  expect_input_error_everywhere([&] { InputDataset in(ref, MPI_COMM_WORLD); },
                                "input '" + ref.str() + "': axis x has size 0");
}

TEST_F(InputFile, RejectsABoxOutsideTheVolume) {
  const InputDataset in({file_, "/raw/data"}, MPI_COMM_WORLD);
  std::vector<float> box(8);
  EXPECT_THROW(in.read_box(0, 0, {1, 2, 2}, {2, 2, 2}, box), Error);
  EXPECT_THROW(in.read_box(1, 0, {0, 0, 0}, {2, 2, 2}, box), Error);
  EXPECT_THROW(in.read_box(0, 0, {0, 0, 0}, {1, 2, 2}, box), Error);  // buffer size mismatch
}

}  // namespace
}  // namespace h5decon::io
