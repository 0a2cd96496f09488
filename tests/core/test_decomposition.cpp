#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "h5decon/decomposition.hpp"
#include "h5decon/error.hpp"
#include "h5decon/fft_shape.hpp"
#include "h5decon/volume.hpp"

using namespace h5decon;

namespace {

DecompositionOptions with_block(Shape3 block, std::optional<Shape3> halo = {}) {
  DecompositionOptions o;
  o.block = block;
  o.halo = halo;
  return o;
}

DecompositionOptions with_budget(std::int64_t bytes, std::optional<Shape3> halo = {}) {
  DecompositionOptions o;
  o.memory_budget_bytes = bytes;
  o.halo = halo;
  // The budgets and sizes in these tests were worked out for an automatic halo of
  // 2 PSF extents; pinned so that they do not follow the measured default.
  o.halo_psf_factor = 2.0;
  return o;
}

/// FFT work of a plan: blocks per volume × voxels of the largest FFT.
double work(const DecompositionPlan& p) { return double(p.grid.size()) * double(p.max_fft.size()); }

/// Checks one block against the plan's geometry: ids, interior, chunk alignment, region.
void check_block(const DecompositionPlan& p, const Block& b, Shape3& seen_region) {
  ASSERT_EQ(block_id(p, b.c, b.t, b.index.z, b.index.y, b.index.x), b.id);
  const Shape3 v = p.dataset.volume;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t lo = b.interior_offset[a], n = b.interior_count[a], end = lo + n;
    ASSERT_GE(n, 1);
    ASSERT_EQ(lo, b.index[a] * p.interior[a]);
    ASSERT_LE(end, v[a]);
    // The last interior along an axis ends at the far edge; the others have the nominal extent.
    ASSERT_EQ(end == v[a], b.index[a] == p.grid[a] - 1);
    if (end < v[a]) {
      ASSERT_EQ(n, p.interior[a]);
    }
    // Chunk alignment: interiors start on a chunk boundary and are whole chunks
    // except at the far edge, so no two blocks write one chunk.
    ASSERT_EQ(lo % p.chunk[a], 0);
    if (end < v[a]) {
      ASSERT_EQ(n % p.chunk[a], 0);
    }
    // Region = interior grown by the halo, clipped to the volume.
    ASSERT_EQ(b.region_offset[a], std::max<std::int64_t>(0, lo - p.halo[a]));
    ASSERT_EQ(b.region_offset[a] + b.region_count[a], std::min(v[a], end + p.halo[a]));
    ASSERT_LE(b.region_offset[a], lo);
    ASSERT_GE(b.region_offset[a] + b.region_count[a], end);
    ASSERT_GE(b.region_offset[a], 0);
    ASSERT_LE(b.region_offset[a] + b.region_count[a], v[a]);
    ASSERT_LE(b.region_count[a], p.max_region[a]);
    ASSERT_LE(b.fft[a], p.max_fft[a]);
    seen_region[a] = std::max(seen_region[a], b.region_count[a]);
    if (p.grid[a] == 1) {
      ASSERT_EQ(p.halo[a], 0);
      ASSERT_EQ(b.region_count[a], v[a]);
    }
  }
  ASSERT_EQ(b.fft, padded_shape(b.region_count, p.psf));
  ASSERT_LE(block_bytes(b.region_count, p.psf), p.max_block_bytes);
}

/// Checks every block of a plan; with count_voxels, also counts how often each
/// voxel of each volume lies in an interior (it must be exactly once).
void check_plan(const DecompositionPlan& p, bool count_voxels = true) {
  const Shape3 v = p.dataset.volume;
  const std::int64_t per_volume = p.grid.size();
  ASSERT_EQ(p.block_count, p.dataset.c * p.dataset.t * per_volume);
  ASSERT_EQ(p.max_fft, padded_shape(p.max_region, p.psf));
  ASSERT_EQ(p.max_block_bytes, block_bytes(p.max_region, p.psf));
  if (p.memory_budget_bytes > 0) {
    ASSERT_LE(p.max_block_bytes, p.memory_budget_bytes);
  }
  Shape3 seen_region{0, 0, 0};
  std::vector<unsigned char> count;
  for (std::int64_t id = 0; id < p.block_count; ++id) {
    const Block b = block_at(p, id);
    ASSERT_EQ(b.id, id);
    ASSERT_EQ(b.c * p.dataset.t + b.t, id / per_volume);
    check_block(p, b, seen_region);
    if (!count_voxels) continue;
    if (id % per_volume == 0) count.assign(std::size_t(v.size()), 0);
    const Shape3 o = b.interior_offset, n = b.interior_count;
    for (std::int64_t z = o.z; z < o.z + n.z; ++z)
      for (std::int64_t y = o.y; y < o.y + n.y; ++y)
        for (std::int64_t x = o.x; x < o.x + n.x; ++x)
          ++count[std::size_t((z * v.y + y) * v.x + x)];
    if (id % per_volume == per_volume - 1) {
      ASSERT_TRUE(std::all_of(count.begin(), count.end(), [](unsigned char c) { return c == 1; }))
          << "volume " << id / per_volume << " is not covered exactly once";
    }
  }
  ASSERT_EQ(seen_region, p.max_region);  // the plan's maximum is attained by a block
}

std::string error_of(const Shape5& dataset, const Shape3& psf, const DecompositionOptions& o) {
  try {
    plan_decomposition(dataset, psf, o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Decomposition, CoversEveryVoxelOfEveryVolumeExactlyOnce) {
  const DecompositionPlan p =
      plan_decomposition({2, 3, {64, 64, 64}}, {5, 5, 5}, with_block({4, 4, 4}));
  EXPECT_EQ(p.grid, (Shape3{16, 16, 16}));
  EXPECT_EQ(p.block_count, 2 * 3 * 4096);
  check_plan(p);
}

TEST(Decomposition, CoversPrimeExtentsWithUnevenLastBlocks) {
  const Shape5 d{1, 1, {97, 89, 83}};
  for (Shape3 block : {Shape3{10, 20, 30}, Shape3{7, 11, 13}, Shape3{96, 88, 82}, Shape3{1, 89, 2}})
    check_plan(plan_decomposition(d, {7, 5, 3}, with_block(block)));
  check_plan(
      plan_decomposition({2, 1, {13, 1, 7}}, {3, 1, 3}, with_block({2, 1, 3}, Shape3{1, 1, 1})));
}

TEST(Decomposition, GivesOneBlockPerVolumeWithoutABudget) {
  const DecompositionPlan p = plan_decomposition({3, 2, {97, 89, 83}}, {25, 9, 9});
  EXPECT_EQ(p.grid, (Shape3{1, 1, 1}));
  EXPECT_EQ(p.halo, (Shape3{0, 0, 0}));
  EXPECT_EQ(p.interior, (Shape3{97, 89, 83}));
  EXPECT_EQ(p.max_region, (Shape3{97, 89, 83}));
  EXPECT_EQ(p.max_fft, padded_shape({97, 89, 83}, {25, 9, 9}));
  EXPECT_EQ(p.block_count, 6);
  check_plan(p);
}

TEST(Decomposition, HandlesVolumesSmallerThanThePsf) {
  const Shape5 d{1, 2, {5, 4, 3}};
  const Shape3 psf{25, 9, 9};
  check_plan(plan_decomposition(d, psf));
  check_plan(plan_decomposition(d, psf, with_block({2, 2, 2})));
  const DecompositionPlan p = plan_decomposition(d, psf, with_budget(1 << 30));
  EXPECT_EQ(p.grid, (Shape3{1, 1, 1}));
  check_plan(p);
}

TEST(Decomposition, GrowsTheRegionByTheHaloAndClipsItToTheVolume) {
  const DecompositionPlan p = plan_decomposition({1, 1, {30, 30, 30}}, {3, 3, 3},
                                                 with_block({10, 10, 10}, Shape3{3, 0, 15}));
  EXPECT_EQ(p.halo, (Shape3{3, 0, 15}));
  const Block first = block_at(p, block_id(p, 0, 0, 0, 0, 0));
  EXPECT_EQ(first.region_offset, (Shape3{0, 0, 0}));
  EXPECT_EQ(first.region_count, (Shape3{13, 10, 25}));
  const Block middle = block_at(p, block_id(p, 0, 0, 1, 1, 1));
  EXPECT_EQ(middle.interior_offset, (Shape3{10, 10, 10}));
  EXPECT_EQ(middle.interior_count, (Shape3{10, 10, 10}));
  EXPECT_EQ(middle.region_offset, (Shape3{7, 10, 0}));
  EXPECT_EQ(middle.region_count, (Shape3{16, 10, 30}));
  const Block last = block_at(p, block_id(p, 0, 0, 2, 2, 2));
  EXPECT_EQ(last.region_offset, (Shape3{17, 20, 5}));
  EXPECT_EQ(last.region_count, (Shape3{13, 10, 25}));
  EXPECT_EQ(p.max_region, (Shape3{16, 10, 30}));
  check_plan(p);
}

TEST(Decomposition, NumbersBlocksByChannelTimeThenZYX) {
  const DecompositionPlan p =
      plan_decomposition({2, 3, {8, 9, 10}}, {1, 1, 1}, with_block({4, 3, 5}));
  ASSERT_EQ(p.grid, (Shape3{2, 3, 2}));
  EXPECT_EQ(block_id(p, 0, 0, 0, 0, 1), 1);
  EXPECT_EQ(block_id(p, 0, 0, 0, 1, 0), 2);
  EXPECT_EQ(block_id(p, 0, 0, 1, 0, 0), 6);
  EXPECT_EQ(block_id(p, 0, 1, 0, 0, 0), 12);
  EXPECT_EQ(block_id(p, 1, 0, 0, 0, 0), 36);
  const Block b = block_at(p, 71);
  EXPECT_EQ(b.c, 1);
  EXPECT_EQ(b.t, 2);
  EXPECT_EQ(b.index, (Shape3{1, 2, 1}));
  for (std::int64_t id = 0; id < p.block_count; ++id) {
    const Block x = block_at(p, id);
    EXPECT_EQ(block_id(p, x.c, x.t, x.index.z, x.index.y, x.index.x), id);
  }
}

TEST(Decomposition, RejectsOutOfRangeBlockIdsAndIndices) {
  const DecompositionPlan p =
      plan_decomposition({1, 2, {8, 8, 8}}, {1, 1, 1}, with_block({4, 4, 4}));
  EXPECT_THROW(block_at(p, -1), Error);
  EXPECT_THROW(block_at(p, p.block_count), Error);
  EXPECT_THROW(block_id(p, 1, 0, 0, 0, 0), Error);
  EXPECT_THROW(block_id(p, 0, 2, 0, 0, 0), Error);
  EXPECT_THROW(block_id(p, 0, 0, 2, 0, 0), Error);
  EXPECT_THROW(block_id(p, 0, 0, 0, 0, -1), Error);
}

TEST(Decomposition, RoundsAnExplicitBlockUpToWholeChunks) {
  DecompositionOptions o = with_block({97, 100, 300});
  o.chunk_limit = {64, 64, 256};
  const DecompositionPlan p = plan_decomposition({1, 1, {1000, 1000, 1000}}, {1, 1, 1}, o);
  EXPECT_EQ(p.interior, (Shape3{98, 100, 300}));  // 97 = 2 x 48.5 -> 2 x 49
  EXPECT_EQ(p.chunk, (Shape3{49, 50, 150}));
  check_plan(p, false);
}

TEST(Decomposition, KeepsInteriorsOnSeparateChunksForEveryBlockSize) {
  DecompositionOptions o;
  o.chunk_limit = {4, 5, 3};
  for (std::int64_t n = 1; n <= 23; ++n) {
    o.block = Shape3{n, n, n};
    const DecompositionPlan p = plan_decomposition({1, 1, {23, 19, 17}}, {3, 3, 3}, o);
    for (int a = 0; a < 3; ++a) {
      EXPECT_LE(p.chunk[a], o.chunk_limit[a]);
      if (p.grid[a] > 1) {
        EXPECT_EQ(p.interior[a] % p.chunk[a], 0);
      }
    }
    check_plan(p);
  }
}

TEST(Decomposition, FitsEveryBlockInTheBudget) {
  const Shape5 d{1, 2, {97, 89, 83}};
  const Shape3 psf{9, 5, 5};
  const std::int64_t whole = block_bytes(d.volume, psf);
  for (double fraction : {0.9, 0.5, 0.25, 0.1, 0.04}) {
    const auto budget = std::int64_t(fraction * double(whole));
    const DecompositionPlan p = plan_decomposition(d, psf, with_budget(budget));
    EXPECT_GT(p.grid.size(), 1) << "budget " << budget;
    EXPECT_LE(p.max_block_bytes, budget);
    for (std::int64_t id = 0; id < p.block_count; ++id)
      ASSERT_LE(block_bytes(block_at(p, id).region_count, psf), budget);
    check_plan(p);
  }
}

TEST(Decomposition, DoesNoMoreFftWorkWhenTheBudgetGrows) {
  const Shape5 d{1, 1, {120, 200, 180}};
  const Shape3 psf{15, 7, 7};
  double previous = 0;
  for (std::int64_t mib = 2; mib <= 512; mib *= 2) {
    const DecompositionPlan p = plan_decomposition(d, psf, with_budget(mib << 20));
    if (previous > 0) {
      EXPECT_LE(work(p), previous) << mib << " MiB";
    }
    previous = work(p);
  }
}

TEST(Decomposition, FindsTheCheapestGridThatFitsTheBudget) {
  // Exhaustive: no explicit block that fits the budget does less FFT work.
  const Shape5 d{1, 1, {24, 20, 30}};
  const Shape3 psf{3, 3, 5}, halo{2, 3, 4};
  for (const Shape3& region : {Shape3{24, 20, 24}, Shape3{16, 16, 20}, Shape3{9, 12, 14}}) {
    const std::int64_t budget = block_bytes(region, psf);
    const DecompositionPlan best = plan_decomposition(d, psf, with_budget(budget, halo));
    check_plan(best);
    int fitting = 0;
    for (std::int64_t z = 1; z <= 24; ++z)
      for (std::int64_t y = 1; y <= 20; ++y)
        for (std::int64_t x = 1; x <= 30; ++x) {
          const DecompositionPlan p = plan_decomposition(d, psf, with_block({z, y, x}, halo));
          if (p.max_block_bytes > budget) continue;
          ++fitting;
          ASSERT_GE(work(p), work(best)) << "block " << Shape3{z, y, x}.str();
          if (work(p) == work(best)) {
            ASSERT_GE(p.grid.size(), best.grid.size());
          }
        }
    EXPECT_GT(fitting, 10) << "budget " << budget;
  }
}

TEST(Decomposition, PrefersSplittingZThenYWhenCostsTie) {
  const Shape5 d{1, 1, {64, 64, 64}};
  const Shape3 psf{3, 3, 3};
  const std::int64_t whole = block_bytes(d.volume, psf);
  for (double fraction : {0.9, 0.6, 0.3}) {
    const DecompositionPlan p =
        plan_decomposition(d, psf, with_budget(std::int64_t(fraction * double(whole))));
    EXPECT_GE(p.grid.z, p.grid.y) << p.grid.str();
    EXPECT_GE(p.grid.y, p.grid.x) << p.grid.str();
  }
  const DecompositionPlan p =
      plan_decomposition(d, psf, with_budget(std::int64_t(0.9 * double(whole))));
  EXPECT_EQ(p.grid, (Shape3{2, 1, 1}));
}

TEST(Decomposition, SetsTheHaloToZeroOnUnsplitAxes) {
  const Shape3 psf{9, 5, 5};
  const DecompositionPlan p =
      plan_decomposition({1, 1, {16, 300, 40}}, psf, with_block({16, 100, 50}));
  EXPECT_EQ(p.grid, (Shape3{1, 3, 1}));
  EXPECT_EQ(p.halo, (Shape3{0, auto_halo(psf, DecompositionOptions{}.halo_psf_factor).y, 0}));
  check_plan(p);
  const DecompositionPlan q =
      plan_decomposition({1, 1, {16, 300, 40}}, psf, with_block({16, 100, 50}, Shape3{4, 4, 4}));
  EXPECT_EQ(q.halo, (Shape3{0, 4, 0}));
  check_plan(q);
}

TEST(Decomposition, ChoosesTheAutomaticHaloFromThePsf) {
  EXPECT_EQ(auto_halo({25, 9, 9}, 2.0), (Shape3{50, 18, 18}));
  EXPECT_EQ(auto_halo({10, 10, 3}, 1.1), (Shape3{11, 11, 4}));
  EXPECT_EQ(auto_halo({25, 9, 9}, 0.0), (Shape3{0, 0, 0}));
  const DecompositionPlan p =
      plan_decomposition({1, 1, {200, 200, 200}}, {25, 9, 9}, with_block({100, 100, 100}));
  EXPECT_EQ(p.halo, auto_halo({25, 9, 9}, DecompositionOptions{}.halo_psf_factor));
  EXPECT_TRUE(p.auto_halo);
  const DecompositionPlan q = plan_decomposition({1, 1, {200, 200, 200}}, {25, 9, 9},
                                                 with_block({100, 100, 100}, Shape3{1, 2, 3}));
  EXPECT_EQ(q.halo, (Shape3{1, 2, 3}));
  EXPECT_FALSE(q.auto_halo);
}

TEST(Decomposition, TakesTheAutomaticHaloFromThePsfsSupportNotItsBox) {
  // A 9x5x5 Gaussian-like PSF stored in the middle of a 65x65x65 box of zeros: the
  // support is the 9x5x5 (it holds all the light), so the halo is as for the tight box.
  Volume tight({9, 5, 5}, 0.0f), boxed({65, 65, 65}, 0.0f);
  for (std::int64_t z = 0; z < 9; ++z)
    for (std::int64_t y = 0; y < 5; ++y)
      for (std::int64_t x = 0; x < 5; ++x) {
        const float v = 1.0f / float(1 + (z - 4) * (z - 4) + 4 * (y - 2) * (y - 2) + 4 * (x - 2) * (x - 2));
        tight.at(z, y, x) = v;
        boxed.at(z + 28, y + 30, x + 30) = v;
      }
  EXPECT_EQ(halo_support({boxed}), (Shape3{9, 5, 5}));
  EXPECT_EQ(halo_support({tight}), (Shape3{9, 5, 5}));
  EXPECT_EQ(halo_support({tight, Volume({3, 7, 1}, 1.0f)}), (Shape3{9, 7, 5}));  // per axis, the widest
  DecompositionOptions o = with_block({100, 100, 100});
  o.psf_support = halo_support({boxed});
  const DecompositionPlan p = plan_decomposition({1, 1, {200, 200, 200}}, {65, 65, 65}, o);
  EXPECT_EQ(p.halo, auto_halo({9, 5, 5}, o.halo_psf_factor));
  EXPECT_EQ(p.halo_basis, (Shape3{9, 5, 5}));
  EXPECT_EQ(p.psf, (Shape3{65, 65, 65}));  // the FFT still pads by the stored box
  EXPECT_NE(describe(p).find("support 9x5x5"), std::string::npos) << describe(p);
}

TEST(Decomposition, MeasuresReadAndFftAmplification) {
  // One block per volume: regions are the volume, nothing amplified on reading.
  const DecompositionPlan one = plan_decomposition({1, 1, {64, 64, 64}}, {9, 5, 5}, {});
  EXPECT_DOUBLE_EQ(one.read_amplification(), 1.0);
  EXPECT_DOUBLE_EQ(one.fft_amplification(), double(one.max_fft.size()) / (64.0 * 64 * 64));
  // Two blocks along z of 32 with a halo of 8: each region is 40 planes.
  const DecompositionPlan two =
      plan_decomposition({1, 1, {64, 64, 64}}, {9, 5, 5}, with_block({32, 64, 64}, Shape3{8, 0, 0}));
  EXPECT_DOUBLE_EQ(two.read_amplification(), 80.0 / 64.0);
  EXPECT_GT(two.fft_amplification(), one.fft_amplification());
}

TEST(Decomposition, CountsFftAndRegionBuffersInBlockBytes) {
  const Shape3 region{128, 256, 256}, psf{33, 17, 17};  // FFT 160x280x280
  const std::int64_t fft = 160LL * 280 * 280, half = 160LL * 280 * 141;
  EXPECT_EQ(block_bytes(region, psf), 8 * fft + 16 * half + 8 * region.size());
  EXPECT_GE(block_bytes(region, psf), 16 * fft + 8 * region.size());
}

TEST(Decomposition, ExplainsABudgetTooSmallForAnyBlock) {
  const std::string message = error_of({1, 1, {97, 89, 83}}, {25, 9, 9}, with_budget(100000));
  EXPECT_NE(message.find("100000 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("smallest block"), std::string::npos) << message;
  EXPECT_NE(message.find("Raise the budget"), std::string::npos) << message;
  const std::string smallest = std::to_string(block_bytes({97, 37, 37}, {25, 9, 9}));
  EXPECT_NE(message.find(smallest + " bytes"), std::string::npos) << message;
}

TEST(Decomposition, RejectsAnExplicitBlockOverTheBudget) {
  DecompositionOptions o = with_block({50, 50, 50});
  o.memory_budget_bytes = 1 << 20;
  const std::string message = error_of({1, 1, {97, 89, 83}}, {5, 5, 5}, o);
  EXPECT_NE(message.find("more than the memory budget"), std::string::npos) << message;
}

TEST(Decomposition, RejectsInvalidShapesAndOptions) {
  const Shape3 psf{3, 3, 3};
  EXPECT_NE(error_of({0, 1, {4, 4, 4}}, psf, {}).find("no volumes"), std::string::npos);
  EXPECT_NE(error_of({1, 0, {4, 4, 4}}, psf, {}).find("no volumes"), std::string::npos);
  EXPECT_NE(error_of({1, 1, {4, 0, 4}}, psf, {}).find("y = 0"), std::string::npos);
  EXPECT_NE(error_of({1, 1, {4, 4, 4}}, {3, 3, 0}, {}).find("PSF"), std::string::npos);
  EXPECT_NE(
      error_of({1, 1, {4, 4, 4}}, psf, with_block({2, 2, 2}, Shape3{1, -1, 1})).find("halo 1,-1,1"),
      std::string::npos);
  EXPECT_NE(error_of({1, 1, {4, 4, 4}}, psf, with_block({2, 0, 2})).find("block 2,0,2"),
            std::string::npos);
  EXPECT_NE(error_of({1, 1, {4, 4, 4}}, psf, with_block({-2, 2, 2})).find("z = -2"),
            std::string::npos);
  EXPECT_NE(error_of({1, 1, {4, 4, 4}}, psf, with_budget(-1)).find("negative"), std::string::npos);
  DecompositionOptions o;
  o.chunk_limit = {0, 1, 1};
  EXPECT_NE(error_of({1, 1, {4, 4, 4}}, psf, o).find("chunk limit"), std::string::npos);
}

TEST(Decomposition, DescribesBlocksGridHaloFftAndBytes) {
  DecompositionOptions o = with_budget(64LL << 20);
  const DecompositionPlan p = plan_decomposition({2, 3, {128, 256, 256}}, {33, 17, 17}, o);
  const std::string text = describe(p);
  for (const std::string& s :
       {std::to_string(p.block_count) + " blocks", p.grid.str(), p.halo.str(), p.interior.str(),
        p.max_region.str(), p.max_fft.str(), p.chunk.str(), std::to_string(p.max_block_bytes),
        std::to_string(o.memory_budget_bytes)})
    EXPECT_NE(text.find(s), std::string::npos) << "'" << s << "' missing in\n" << text;
  EXPECT_NE(describe(plan_decomposition({1, 1, {8, 8, 8}}, {1, 1, 1})).find("unlimited"),
            std::string::npos);
}

TEST(Decomposition, PlansALargeDatasetQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const DecompositionPlan p =
      plan_decomposition({2, 100, {2048, 2048, 2048}}, {65, 33, 33}, with_budget(4LL << 30));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
  EXPECT_LE(p.max_block_bytes, 4LL << 30);
  check_plan(p, false);
}
