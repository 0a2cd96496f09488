// ChunkCache: regions assembled from held chunks equal the input's own reads,
// whatever the capacity, with each chunk read from the file once while held.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "dist/chunk_cache.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::dist {
namespace {

constexpr Shape3 kVolume{37, 41, 43};
constexpr Shape3 kChunk{8, 16, 16};  // partial chunks at the far edges

enum class Stored { contiguous, chunked, deflated, big_endian };

// A (1, 2, 37, 41, 43) uint16 file of distinct values, contiguous or chunked
// (plain, deflated, or big-endian); one per rank (each rank opens it alone).
std::string make_file(bool chunked, Stored stored = Stored::chunked) {
  if (!chunked) stored = Stored::contiguous;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("h5decon_chunk_cache_" + std::to_string(rank) +
                             "_" + std::to_string(int(stored)) + ".h5"))
                               .string();
  const hsize_t dims[5] = {1, 2, hsize_t(kVolume.z), hsize_t(kVolume.y), hsize_t(kVolume.x)};
  std::vector<std::uint16_t> v(2 * static_cast<std::size_t>(kVolume.size()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint16_t>(i * 7 + 3);
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Screate_simple(5, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t chunk[5] = {1, 1, hsize_t(kChunk.z), hsize_t(kChunk.y), hsize_t(kChunk.x)};
  if (chunked) H5Pset_chunk(dcpl, 5, chunk);
  if (stored == Stored::deflated) H5Pset_deflate(dcpl, 1);
  const hid_t d = H5Dcreate2(file, "/data",
                             stored == Stored::big_endian ? H5T_STD_U16BE : H5T_STD_U16LE, space,
                             H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Fclose(file);
  return path;
}

struct Box {
  std::int64_t t;
  Shape3 offset, count;
};

std::vector<Box> random_boxes(int n) {
  std::mt19937 rng(7);
  std::vector<Box> boxes;
  for (int i = 0; i < n; ++i) {
    Box b{std::int64_t(rng() % 2), {}, {}};
    for (int a = 0; a < 3; ++a) {
      b.count[a] = 1 + std::int64_t(rng() % std::uint32_t(kVolume[a]));
      b.offset[a] = std::int64_t(rng() % std::uint32_t(kVolume[a] - b.count[a] + 1));
    }
    boxes.push_back(b);
  }
  boxes.push_back({1, {0, 0, 0}, kVolume});  // a whole volume
  return boxes;
}

std::vector<std::byte> direct(const io::InputDataset& in, const Box& b) {
  std::vector<std::byte> out(static_cast<std::size_t>(b.count.size()) * 2);
  in.read_samples(0, b.t, b.offset, b.count, out);
  return out;
}

void expect_same_boxes(const io::InputDataset& in, std::int64_t capacity, int passes) {
  ChunkCache cache(in, capacity);
  std::mutex lock;
  for (int pass = 0; pass < passes; ++pass)
    for (const Box& b : random_boxes(40)) {
      std::vector<std::byte> out(static_cast<std::size_t>(b.count.size()) * 2);
      cache.read(0, b.t, b.offset, b.count, out, lock);
      ASSERT_EQ(out, direct(in, b)) << "capacity " << capacity << ", box " << b.count.str()
                                    << " at " << b.offset.str() << " of t=" << b.t;
    }
}

TEST(ChunkCache, AssemblesBoxesEqualToDirectReadsAtAnyCapacity) {
  const std::string path = make_file(true);
  {
    const io::InputDataset in(io::DatasetRef{path, "/data"}, MPI_COMM_SELF);
    ASSERT_EQ(in.chunk_shape(0, 1), kChunk);
    const std::int64_t chunk_bytes = kChunk.size() * 2;
    expect_same_boxes(in, 0, 1);  // direct
    // Room for 20 chunks: small boxes evict each other's, large ones are read directly.
    expect_same_boxes(in, 20 * chunk_bytes, 2);
    expect_same_boxes(in, std::int64_t{1} << 30, 2);
  }
  std::remove(path.c_str());
}

// Whole chunks are read by pread at their offsets only where their bytes are the
// samples; deflated or big-endian chunks go through HDF5, with the same result.
TEST(ChunkCache, ReadsChunksOutsideHdf5OnlyWhereTheirBytesAreTheSamples) {
  for (const Stored stored : {Stored::chunked, Stored::deflated, Stored::big_endian}) {
    const std::string path = make_file(true, stored);
    {
      const io::InputDataset in(io::DatasetRef{path, "/data"}, MPI_COMM_SELF);
      const auto offset = in.chunk_offset(0, 1, {8, 16, 32});
      EXPECT_EQ(offset.has_value(), stored == Stored::chunked) << int(stored);
      expect_same_boxes(in, std::int64_t{1} << 30, 1);
    }
    std::remove(path.c_str());
  }
}

TEST(ChunkCache, ReadsEachChunkFromTheFileOnceWhileItIsHeld) {
  const std::string path = make_file(true);
  {
    const io::InputDataset in(io::DatasetRef{path, "/data"}, MPI_COMM_SELF);
    ChunkCache cache(in, std::int64_t{1} << 30);
    std::mutex lock;
    for (int pass = 0; pass < 3; ++pass)
      for (const Box& b : random_boxes(40)) {
        std::vector<std::byte> out(static_cast<std::size_t>(b.count.size()) * 2);
        cache.read(0, b.t, b.offset, b.count, out, lock);
      }
    // Every chunk of both volumes was read (the last box is a whole volume), each
    // once, as stored: 5 x 3 x 3 chunks per volume, the far ones partly outside it.
    EXPECT_EQ(cache.bytes_read(), 2 * 45 * kChunk.size() * 2);
  }
  std::remove(path.c_str());
}

TEST(ChunkCache, ReadsAContiguousDatasetInBandsOfWholeRowsOnce) {
  const std::string path = make_file(false);
  {
    const io::InputDataset in(io::DatasetRef{path, "/data"}, MPI_COMM_SELF);
    EXPECT_FALSE(in.chunk_shape(0, 0).has_value());
    // 4 MiB bands: whole 41x43 planes here, 20 rows of a 100000-wide volume.
    EXPECT_EQ(read_unit(std::nullopt, kVolume, 2), (Shape3{1, 41, 43}));
    EXPECT_EQ(read_unit(std::nullopt, {5, 100, 100000}, 2), (Shape3{1, 20, 100000}));
    expect_same_boxes(in, 0, 1);
    expect_same_boxes(in, 5 * 41 * 43 * 2, 1);  // 5 planes: small boxes only
    ChunkCache cache(in, std::int64_t{1} << 30);
    std::mutex lock;
    for (const Box& b : random_boxes(40)) {
      std::vector<std::byte> out(static_cast<std::size_t>(b.count.size()) * 2);
      cache.read(0, b.t, b.offset, b.count, out, lock);
      ASSERT_EQ(out, direct(in, b));
    }
    EXPECT_LE(cache.bytes_read(), 2 * kVolume.size() * 2);  // each plane at most once
  }
  std::remove(path.c_str());
}

TEST(ChunkCache, SizedForARowOfRegionsWithinAQuarterOfTheBudget) {
  DecompositionPlan plan;
  plan.dataset = Shape5{1, 1, {128, 1024, 1024}};
  plan.max_region = {128, 342, 342};
  const Shape3 chunk{32, 256, 256};
  const std::int64_t chunk_bytes = chunk.size() * 2;
  // A row: 4 x 3 x 4 chunks (no more than the volume has along z and x), and one
  // region's 4 x 3 x 3.
  EXPECT_EQ(chunk_cache_bytes(plan, chunk, 2), (48 + 36) * chunk_bytes);
  plan.memory_budget_bytes = 4 * 50 * chunk_bytes;
  EXPECT_EQ(chunk_cache_bytes(plan, chunk, 2), 50 * chunk_bytes);
  plan.memory_budget_bytes = 4 * 35 * chunk_bytes;  // not even one region's chunks
  EXPECT_EQ(chunk_cache_bytes(plan, chunk, 2), 0);
}

}  // namespace
}  // namespace h5decon::dist
