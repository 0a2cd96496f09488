// Tests of the block runtime's building blocks: message pieces, progress text,
// per-rank descriptions. Runs on 1 and 3 ranks.
#include "dist/protocol.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "dist/progress.hpp"
#include "h5decon/dist/block_runtime.hpp"
#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

int rank_of(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

TEST(PieceLayout, CutsTheLargestRegionIntoPiecesOfAtMostTheLimit) {
  const PieceLayout layout(1000, 100);
  EXPECT_EQ(layout.piece_bytes(), 100);
  EXPECT_EQ(layout.pieces(), 10);
  int total = 0;
  for (std::int64_t i = 0; i < layout.pieces(); ++i) total += layout.count(i, 1000);
  EXPECT_EQ(total, 1000);
}

TEST(PieceLayout, GivesEmptyTrailingPiecesToSmallerRegions) {
  const PieceLayout layout(1000, 100);
  EXPECT_EQ(layout.count(0, 150), 100);
  EXPECT_EQ(layout.count(1, 150), 50);
  EXPECT_EQ(layout.count(2, 150), 0);
  EXPECT_EQ(layout.count(9, 150), 0);
}

TEST(PieceLayout, KeepsEveryPieceWithinAnMpiCount) {
  const PieceLayout layout(std::int64_t{6} << 30,
                           std::int64_t{16} << 30);  // 6 GiB in 16 GiB messages
  EXPECT_LE(layout.piece_bytes(), std::int64_t{2147483647});
  EXPECT_EQ(layout.pieces(), 4);
  EXPECT_THROW(PieceLayout(10, 2), Error);
}

// uint16 samples cut at odd byte counts: a sample may straddle two pieces.
TEST(Pieces, ArriveWholeOnEveryRankWhateverTheirNumber) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  int size = 1;
  MPI_Comm_size(comm, &size);
  const PieceLayout layout(2000, 7);  // 286 pieces
  std::vector<std::uint16_t> data(777);
  std::iota(data.begin(), data.end(), std::uint16_t{1});
  if (rank_of(comm) == 0) {
    std::vector<Requests> sends(static_cast<std::size_t>(size));
    for (int r = 1; r < size; ++r)
      send_pieces(comm, layout, std::as_bytes(std::span(data)), r,
                  sends[static_cast<std::size_t>(r)]);
    for (auto& s : sends) s.wait();
  } else {
    std::vector<std::uint16_t> received(1000, 0xFFFF);
    Requests receives;
    post_piece_receives(comm, layout, std::as_writable_bytes(std::span(received)), receives);
    receives.wait();
    EXPECT_TRUE(std::equal(data.begin(), data.end(), received.begin()));
    EXPECT_EQ(received[777], 0xFFFF);
  }
}

TEST(Requests, CancelsReceivesThatNeverMatch) {
  float buffer[4];
  Requests r;
  MPI_Request request;
  MPI_Irecv(buffer, 4, MPI_FLOAT, 0, kTagData, MPI_COMM_SELF, &request);
  r.add(request);
  EXPECT_FALSE(r.test());
  r.cancel();
  EXPECT_TRUE(r.test());
}

TEST(Progress, LineShowsBlocksRateAndEta) {
  const std::string line = Progress::line(12, 48, 25'000'000, 100'000'000, 10.0);
  EXPECT_EQ(line, "12/48 blocks (25%), 2.50 Mvoxel/s, ETA 30 s");
  EXPECT_EQ(Progress::line(48, 48, 100, 100, 2.0), "48/48 blocks (100%), 0.00 Mvoxel/s, 2.0 s");
  EXPECT_NE(Progress::line(0, 48, 0, 100, 0.0).find("ETA unknown"), std::string::npos);
}

TEST(DescribePerRank, SaysOnceWhatEveryRankShares) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  int size = 1;
  MPI_Comm_size(comm, &size);
  const std::string same = describe_per_rank(comm, "cpu");
  const std::string own = describe_per_rank(comm, "cpu " + std::to_string(rank_of(comm)));
  if (rank_of(comm) != 0) {
    EXPECT_EQ(same, "");
    return;
  }
  if (size == 1) {
    EXPECT_EQ(same, "rank 0: cpu");
  } else {
    EXPECT_EQ(same, "all " + std::to_string(size) + " ranks: cpu");
    EXPECT_NE(own.find("rank 1: cpu 1"), std::string::npos);
  }
}

TEST(Failure, KeepsItsErrorTypeAndNamesTheRank) {
  const Failure f{2, 7, classify(std::make_exception_ptr(IoError("x"))),
                  "block 7 (...): disk full"};
  try {
    throw_failure(f);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_STREQ(e.what(), "rank 2: block 7 (...): disk full");
  }
}

}  // namespace
}  // namespace h5decon::dist
