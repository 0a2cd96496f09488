// GPU binding: the device arithmetic (pure), and the collective binding on a
// machine where no GPU is visible. Runs on 1 and 3 ranks, with or without CUDA.
#include "h5decon/dist/gpu_binding.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <sstream>
#include <string>

#include "h5decon/detail/cuda_backend.hpp"
#include "h5decon/error.hpp"

namespace h5decon::dist {
namespace {

TEST(GpuBinding, GivesEachNodeLocalRankItsOwnDeviceWhileThereAreEnough) {
  for (int r = 0; r < 4; ++r) {
    const DeviceChoice c = choose_device(r, 4, 4);
    EXPECT_EQ(c.device, r);
    EXPECT_FALSE(c.shared);
    EXPECT_EQ(c.sharers, 1);
  }
  EXPECT_EQ(choose_device(1, 2, 8).device, 1);  // fewer ranks than devices: no sharing
  EXPECT_FALSE(choose_device(1, 2, 8).shared);
}

TEST(GpuBinding, WrapsAroundTheDevicesAndSaysWhoShares) {
  // 5 ranks on 2 devices: 0,2,4 on device 0 and 1,3 on device 1.
  const int expected_device[5] = {0, 1, 0, 1, 0};
  const int expected_sharers[5] = {3, 2, 3, 2, 3};
  for (int r = 0; r < 5; ++r) {
    const DeviceChoice c = choose_device(r, 5, 2);
    EXPECT_EQ(c.device, expected_device[r]) << "local rank " << r;
    EXPECT_TRUE(c.shared);
    EXPECT_EQ(c.sharers, expected_sharers[r]) << "local rank " << r;
  }
  const DeviceChoice one = choose_device(3, 4, 1);
  EXPECT_EQ(one.device, 0);
  EXPECT_EQ(one.sharers, 4);
}

TEST(GpuBinding, HasNoDeviceWhenNoneIsVisible) {
  const DeviceChoice c = choose_device(0, 1, 0);
  EXPECT_EQ(c.device, -1);
  EXPECT_FALSE(c.shared);
}

TEST(GpuBinding, NamesRankHostAndVisibleDevicesWhenAGpuIsMissing) {
  const std::string m = no_device_message(2, "node17", "cudaGetDeviceCount found no device");
  EXPECT_EQ(m.rfind("rank 2 on node17: --backend cuda but no CUDA device is visible "
                    "(CUDA_VISIBLE_DEVICES=",
                    0),
            0u)
      << m;
  EXPECT_NE(m.find("cudaGetDeviceCount found no device"), std::string::npos) << m;
}

TEST(GpuBinding, LeavesTheCpuBackendAlone) {
  std::ostringstream log;
  const GpuBinding b = bind_gpus(MPI_COMM_WORLD, "cpu", log);
  EXPECT_EQ(b.backend, "cpu");
  EXPECT_EQ(b.device, -1);
  EXPECT_TRUE(log.str().empty());
}

TEST(GpuBinding, RefusesCudaOnEveryRankWithoutADeviceAndAutoFallsBackToCpu) {
  if (detail::cuda_device_count() > 0) GTEST_SKIP() << "a GPU is visible here";
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::ostringstream log;
  try {
    bind_gpus(MPI_COMM_WORLD, "cuda", log);
    ADD_FAILURE() << "bind_gpus(cuda) returned without a device";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("rank " + std::to_string(rank) + " on ", 0), 0u) << m;
    EXPECT_NE(m.find("--backend cuda but no CUDA device is visible"), std::string::npos) << m;
  }
  const GpuBinding b = bind_gpus(MPI_COMM_WORLD, "auto", log);
  EXPECT_EQ(b.backend, "cpu");
  EXPECT_EQ(b.device, -1);
}

// Ranks sharing a GPU are found by its UUID, not by their count per device: under
// per-rank CUDA_VISIBLE_DEVICES every rank sees its own GPU as device 0.
TEST(GpuBinding, CountsTheRanksOfANodeWithTheSameKey) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // Every rank of this test is on one node: keys "GPU-a" (even ranks), "GPU-b" (odd).
  const std::string key = rank % 2 == 0 ? "GPU-a" : "GPU-b";
  const int even = (size + 1) / 2, odd = size / 2;
  EXPECT_EQ(count_same_on_node(MPI_COMM_WORLD, key), rank % 2 == 0 ? even : odd);
  // Every rank its own GPU: no sharing, whatever the device numbers say.
  EXPECT_EQ(count_same_on_node(MPI_COMM_WORLD, "GPU-" + std::to_string(rank)), 1);
  // No GPU: no count.
  EXPECT_EQ(count_same_on_node(MPI_COMM_WORLD, ""), 0);
}

}  // namespace
}  // namespace h5decon::dist
