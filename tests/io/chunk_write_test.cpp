// Whole-chunk writes outside HDF5: the geometry of a box made of stored chunks,
// and OutputDataset::write_chunks() leaving the same file contents as write_box()
// (whole chunks, chunks at the volume's end, several chunks per box, a shard),
// from every rank.
#include <gtest/gtest.h>

#include "h5decon/io/hdf5_io.hpp"
#include "io/chunk_write.hpp"
#include "io/io_test_util.hpp"

namespace h5decon::io {
namespace {

using detail::chunk_pieces;
using test::on_root;
using test::TempDir;
using test::world_rank;
using test::world_size;

TEST(ChunkPieces, SplitsAnAlignedBoxIntoItsChunksInCOrder) {
  const auto p = chunk_pieces({10, 9, 8}, {4, 3, 8}, {4, 3, 0}, {6, 6, 8});
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->size(), 4u);  // z: [4,8) [8,10); y: [3,6) [6,9)
  EXPECT_EQ((*p)[0].box_offset, (Shape3{0, 0, 0}));
  EXPECT_EQ((*p)[0].count, (Shape3{4, 3, 8}));
  EXPECT_EQ((*p)[1].box_offset, (Shape3{0, 3, 0}));
  EXPECT_EQ((*p)[2].box_offset, (Shape3{4, 0, 0}));
  EXPECT_EQ((*p)[3].count, (Shape3{2, 3, 8}));  // the volume ends inside the chunk
}

TEST(ChunkPieces, RefusesBoxesThatCutAChunk) {
  EXPECT_FALSE(chunk_pieces({10, 9, 8}, {4, 3, 8}, {1, 0, 0}, {4, 3, 8}));  // starts inside
  EXPECT_FALSE(chunk_pieces({10, 9, 8}, {4, 3, 8}, {0, 0, 0}, {3, 3, 8}));  // ends inside
  EXPECT_FALSE(chunk_pieces({10, 9, 8}, {4, 3, 8}, {8, 0, 0}, {2, 3, 4}));  // x ends inside
  EXPECT_FALSE(chunk_pieces({10, 9, 8}, {4, 3, 8}, {8, 0, 0}, {3, 3, 8}));  // past the volume
  EXPECT_TRUE(chunk_pieces({10, 9, 8}, {4, 3, 8}, {8, 0, 0}, {2, 3, 8}));   // ends at the volume
}

float value(std::int64_t c, std::int64_t t, std::int64_t z, std::int64_t y, std::int64_t x) {
  return static_cast<float>(c * 1000 + t * 100 + z * 10 + y) + 0.125f * static_cast<float>(x);
}

std::vector<float> box_values(std::int64_t c, std::int64_t t, const Shape3& o, const Shape3& n) {
  std::vector<float> v;
  for (std::int64_t z = o.z; z < o.z + n.z; ++z)
    for (std::int64_t y = o.y; y < o.y + n.y; ++y)
      for (std::int64_t x = o.x; x < o.x + n.x; ++x) v.push_back(value(c, t, z, y, x));
  return v;
}

class ChunkWrites : public ::testing::Test {
 protected:
  void SetUp() override {
    on_root([&] {
      write_array(input_.file, input_.path, std::vector<float>(8), {1, 1, 2, 2, 2}, DType::uint8,
                  true);
    });
  }
  // Boxes of 2x2 chunks in y and x and one in z (chunks 3x4x4 in a 7x10x9
  // volume: the last chunk on each axis is cut by the volume's end), dealt out
  // to the ranks in turn; each is written through place_chunks/write_chunks.
  void write_all(OutputDataset& out, const std::vector<VolumeIndex>& volumes) {
    int turn = 0;
    for (const auto& [c, t] : volumes)
      for (std::int64_t z = 0; z < kShape.volume.z; z += 3)
        for (std::int64_t y = 0; y < kShape.volume.y; y += 8)
          for (std::int64_t x = 0; x < kShape.volume.x; x += 8) {
            if (turn++ % world_size() != world_rank()) continue;
            const Shape3 o{z, y, x};
            Shape3 n;
            for (int a = 0; a < 3; ++a)
              n[a] = std::min<std::int64_t>(a == 0 ? 3 : 8, kShape.volume[a] - o[a]);
            const auto placed = out.place_chunks(c, t, o, n);
            ASSERT_TRUE(placed.has_value()) << o.str() << " " << n.str();
            out.write_chunks(*placed, box_values(c, t, o, n));
          }
  }
  void expect_values(const std::vector<VolumeIndex>& volumes) {
    const InputDataset back(output_, MPI_COMM_WORLD);
    for (const auto& [c, t] : volumes)
      EXPECT_EQ(back.read_volume(c, t).data, box_values(c, t, {0, 0, 0}, kShape.volume))
          << c << "," << t;
  }
  static constexpr Shape5 kShape{2, 2, {7, 10, 9}};
  TempDir dir_;
  DatasetRef input_{dir_ / "in.h5", "/data"};
  DatasetRef output_{dir_ / "out.h5", "/result"};
};

TEST_F(ChunkWrites, LeaveTheSameFileAsHdf5Writes) {
  OutputDataset out(output_, input_, kShape, {3, 4, 4}, {}, false, MPI_COMM_WORLD);
  EXPECT_FALSE(out.place_chunks(0, 0, {1, 0, 0}, {3, 4, 4}));  // not whole chunks
  const std::vector<VolumeIndex> all{{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  write_all(out, all);
  out.finish();
  expect_values(all);
}

TEST_F(ChunkWrites, GoToAShardsRows) {
  OutputOptions o;
  o.volumes = {{1, 1}, {0, 1}};
  OutputDataset out(output_, input_, kShape, {3, 4, 4}, {}, o, MPI_COMM_WORLD);
  write_all(out, o.volumes);
  out.finish();
  // A shard is stored (v, z, y, x); read back as its (1, v) volumes.
  const InputDataset back(output_, MPI_COMM_WORLD, "tzyx");
  for (std::int64_t row = 0; row < 2; ++row) {
    const auto [c, t] = o.volumes[static_cast<std::size_t>(row)];
    EXPECT_EQ(back.read_volume(0, row).data, box_values(c, t, {0, 0, 0}, kShape.volume));
  }
}

}  // namespace
}  // namespace h5decon::io
