#include <sys/stat.h>
// OutputDataset: boxes written by every rank read back exactly, provenance is
// recorded, the partial file becomes the output only at finish(), and the
// input and existing outputs are protected.
#include <gtest/gtest.h>

#include <filesystem>

#include "h5decon/config.hpp"
#include "h5decon/io/hdf5_io.hpp"
#include "io/io_test_util.hpp"

namespace h5decon::io {
namespace {

namespace fs = std::filesystem;
using test::expect_input_error_everywhere;
using test::on_root;
using test::TempDir;
using test::world_rank;
using test::world_size;

const Shape5 kShape{2, 2, {6, 5, 4}};

Provenance sample_provenance() {
  Provenance p;
  p.command_line = "h5decon run --input in.h5:/data --iterations 7";
  p.options = {{"boundary", "zero"}, {"init", "observed"}};
  p.iterations = 7;
  p.psf_source = "psf.h5:/psf";
  p.halo = "4,2,2";
  p.decomposition = "1 block per volume";
  p.backend = "rank 0: cpu (fftw3f, 1 thread)";
  p.element_size_um = std::array<double, 3>{2.0, 0.5, 0.5};
  return p;
}

float value(std::int64_t c, std::int64_t t, std::int64_t z, std::int64_t y, std::int64_t x) {
  return static_cast<float>(c * 1000 + t * 100 + z * 10 + y) + 0.125f * static_cast<float>(x);
}

// Every rank writes the z planes z = rank, rank + size, ... of every volume,
// each plane split into two boxes, so ranks interleave within chunks.
void write_interleaved(OutputDataset& out) {
  const std::pair<std::int64_t, std::int64_t> rows[] = {{0, 2}, {2, 3}};  // (first y, count)
  for (std::int64_t c = 0; c < kShape.c; ++c)
    for (std::int64_t t = 0; t < kShape.t; ++t)
      for (std::int64_t z = world_rank(); z < kShape.volume.z; z += world_size())
        for (const auto& [y0, ny] : rows) {
          std::vector<float> box;
          for (std::int64_t y = y0; y < y0 + ny; ++y)
            for (std::int64_t x = 0; x < kShape.volume.x; ++x) box.push_back(value(c, t, z, y, x));
          out.write_box(c, t, {z, y0, 0}, {1, ny, kShape.volume.x}, box);
        }
}

class Output : public ::testing::Test {
 protected:
  void SetUp() override {
    on_root([&] {
      write_array(input_.file, input_.path, std::vector<float>(8), {1, 1, 2, 2, 2}, DType::uint8,
                  true);
    });
  }
  OutputDataset create(bool overwrite = false) {
    return OutputDataset(output_, input_, kShape, {4, 4, 4}, sample_provenance(), overwrite,
                         MPI_COMM_WORLD);
  }
  TempDir dir_;
  DatasetRef input_{dir_ / "in.h5", "/data"};
  DatasetRef output_{dir_ / "out.h5", "/result/deconvolved"};
};

TEST_F(Output, WritesBoxesFromEveryRankThatReadBackExactly) {
  OutputDataset out = create();
  write_interleaved(out);
  out.finish();
  const InputDataset back(output_, MPI_COMM_WORLD);
  EXPECT_EQ(back.shape(), kShape);
  EXPECT_EQ(back.dtype(), DType::float32);
  for (std::int64_t c = 0; c < kShape.c; ++c)
    for (std::int64_t t = 0; t < kShape.t; ++t) {
      const Volume v = back.read_volume(c, t);
      for (std::int64_t z = 0; z < kShape.volume.z; ++z)
        for (std::int64_t y = 0; y < kShape.volume.y; ++y)
          for (std::int64_t x = 0; x < kShape.volume.x; ++x)
            ASSERT_EQ(v.at(z, y, x), value(c, t, z, y, x)) << c << t << z << y << x;
    }
}

TEST_F(Output, ReadsZeroWhereNothingWasWritten) {
  OutputDataset out = create();
  if (world_rank() == 0) out.write_box(1, 0, {2, 1, 1}, {1, 1, 1}, std::vector<float>{5.0f});
  out.finish();
  const Volume v = InputDataset(output_, MPI_COMM_WORLD).read_volume(1, 0);
  EXPECT_EQ(v.at(2, 1, 1), 5.0f);
  EXPECT_EQ(v.at(2, 1, 2), 0.0f);
  EXPECT_EQ(InputDataset(output_, MPI_COMM_WORLD).read_volume(0, 1).at(5, 4, 3), 0.0f);
}

TEST_F(Output, RecordsProvenanceAndCarriesTheVoxelSize) {
  OutputDataset out = create();
  out.finish();
  on_root([&] {
    const auto attr = [&](const std::string& name) {
      return test::read_string_attribute(output_.file, output_.path, name);
    };
    EXPECT_EQ(attr("h5decon_version"), H5DECON_VERSION);
    EXPECT_EQ(attr("h5decon_git_hash"), H5DECON_GIT_HASH);
    EXPECT_EQ(attr("command_line"), sample_provenance().command_line);
    EXPECT_EQ(attr("algorithm"), "richardson-lucy");
    EXPECT_EQ(attr("psf_source"), "psf.h5:/psf");
    EXPECT_EQ(attr("halo"), "4,2,2");
    EXPECT_EQ(attr("decomposition"), "1 block per volume");
    EXPECT_EQ(attr("backend"), "rank 0: cpu (fftw3f, 1 thread)");
    EXPECT_EQ(attr("opt_boundary"), "zero");
    EXPECT_EQ(attr("opt_init"), "observed");
    EXPECT_EQ(attr("axes"), "ctzyx");
  });
  const InputDataset back(output_, MPI_COMM_WORLD);
  EXPECT_EQ(back.element_size_um(), (std::array<double, 3>{2.0, 0.5, 0.5}));
  on_root([&] {
    const hid_t f = H5Fopen(output_.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t d = H5Dopen2(f, output_.path.c_str(), H5P_DEFAULT);
    const hid_t a = H5Aopen(d, "iterations", H5P_DEFAULT);
    int iterations = -1;
    H5Aread(a, H5T_NATIVE_INT, &iterations);
    EXPECT_EQ(iterations, 7);
    H5Aclose(a);
    H5Dclose(d);
    H5Fclose(f);
  });
}

TEST_F(Output, BecomesTheOutputFileOnlyAtFinish) {
  const std::string partial = output_.file + ".partial";
  {
    OutputDataset out = create();
    write_interleaved(out);
    MPI_Barrier(MPI_COMM_WORLD);
    EXPECT_TRUE(fs::exists(partial));
    EXPECT_FALSE(fs::exists(output_.file));
    out.finish();
    EXPECT_FALSE(fs::exists(partial));
    EXPECT_TRUE(fs::exists(output_.file));
  }
  // An unfinished run leaves its partial file and does not touch the output.
  { OutputDataset out = create(true); }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_TRUE(fs::exists(partial));
  EXPECT_EQ(InputDataset(output_, MPI_COMM_WORLD).read_volume(1, 1).at(5, 4, 3),
            value(1, 1, 5, 4, 3));
}

TEST_F(Output, RefusesToWriteIntoTheInputFile) {
  const std::string message = " is the input file ('" + input_.file + "')";
  output_.file = input_.file;
  expect_input_error_everywhere([&] { create(); }, "output '" + input_.file + "'" + message);
  expect_input_error_everywhere([&] { create(true); }, message);
  output_.file = dir_.path() + "/./sub/../in.h5";
  on_root([&] { fs::create_directory(dir_ / "sub"); });
  expect_input_error_everywhere([&] { create(true); }, message);
  output_.file = dir_ / "hardlink.h5";
  on_root([&] { fs::create_hard_link(input_.file, output_.file); });
  expect_input_error_everywhere([&] { create(true); }, message);
}

TEST_F(Output, RefusesAnExistingOutputUnlessOverwriting) {
  on_root([&] {
    write_array(output_.file, "/old", std::vector<float>{1.0f}, {1}, DType::float32, true);
  });
  expect_input_error_everywhere(
      [&] { create(); },
      "output '" + output_.file + "' exists; pass --overwrite to replace it");
  OutputDataset out = create(true);
  write_interleaved(out);
  out.finish();
  EXPECT_EQ(InputDataset(output_, MPI_COMM_WORLD).read_volume(0, 1).at(2, 3, 1),
            value(0, 1, 2, 3, 1));
  expect_input_error_everywhere(
      [&] {
        InputDataset({output_.file, "/old"}, MPI_COMM_WORLD);
      },
      "no dataset '/old'");
}

TEST_F(Output, RefusesAnOutputInAMissingDirectory) {
  output_.file = dir_ / "no/such/dir/out.h5";
  expect_input_error_everywhere([&] { create(); },
                                "folder '" + dir_.path() + "/no/such/dir' does not exist");
}

TEST_F(Output, RefusesADeviceAFifoAndADirectoryEvenWhenOverwriting) {
  output_.file = "/dev/null";
  expect_input_error_everywhere([&] { create(true); },
                                "output '/dev/null' is a character device");
  output_.file = dir_ / "fifo.h5";
  on_root([&] { ::mkfifo(output_.file.c_str(), 0600); });
  expect_input_error_everywhere([&] { create(true); }, "is a FIFO (named pipe)");
  output_.file = dir_.path();
  expect_input_error_everywhere([&] { create(true); }, "is a directory");
}

}  // namespace
}  // namespace h5decon::io
