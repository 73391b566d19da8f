// GPU choice from the launcher's local rank and CUDA_VISIBLE_DEVICES (pure; no GPU needed): OpenMPI, Slurm
// and one-device-per-process launches, a local rank without a GPU of its own, and two ranks on one GPU.
#include <gtest/gtest.h>

#include "core/check.h"
#include "core/gpu_choice.h"

namespace seer {
namespace {

TEST(GpuChoice, LocalRankPicksTheDeviceOnEachLauncher) {
  EXPECT_EQ(choose_gpu({{"OMPI_COMM_WORLD_LOCAL_RANK", "3"}}, 8).ordinal, 3);
  EXPECT_EQ(choose_gpu({{"SLURM_LOCALID", "5"}}, 8).ordinal, 5);
  EXPECT_EQ(choose_gpu({{"LOCAL_RANK", "1"}}, 2).ordinal, 1);
  // OpenMPI's variable wins over Slurm's when mpirun runs inside an allocation.
  const GpuChoice both = choose_gpu({{"OMPI_COMM_WORLD_LOCAL_RANK", "2"}, {"SLURM_LOCALID", "0"}}, 4);
  EXPECT_EQ(both.ordinal, 2);
  EXPECT_NE(both.reason.find("OMPI_COMM_WORLD_LOCAL_RANK=2 of 4 visible"), std::string::npos) << both.reason;
  // No launcher: device 0.
  EXPECT_EQ(choose_gpu({}, 4).ordinal, 0);
}

TEST(GpuChoice, VisibleDevicesNameThePhysicalGpu) {
  // Slurm binding one GPU per task: every rank sees device 0, its own physical GPU.
  const GpuChoice one = choose_gpu({{"SLURM_LOCALID", "3"}, {"CUDA_VISIBLE_DEVICES", "3"}}, 1);
  EXPECT_EQ(one.ordinal, 0);
  EXPECT_EQ(one.physical, "3");
  // A node's visible list: the local rank indexes it.
  const GpuChoice listed = choose_gpu({{"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"CUDA_VISIBLE_DEVICES", "4,6"}}, 2);
  EXPECT_EQ(listed.ordinal, 1);
  EXPECT_EQ(listed.physical, "6");
  EXPECT_EQ(choose_gpu({{"CUDA_VISIBLE_DEVICES", "GPU-8c1f,GPU-77aa"}}, 2).physical, "GPU-8c1f");
  EXPECT_EQ(choose_gpu({{"LOCAL_RANK", "1"}}, 2).physical, "1");
}

TEST(GpuChoice, ARankWithoutAGpuOfItsOwnIsRefusedClearly) {
  try {
    choose_gpu({{"OMPI_COMM_WORLD_LOCAL_RANK", "4"}, {"CUDA_VISIBLE_DEVICES", "0,1,2,3"}}, 4);
    FAIL() << "a fifth rank on a four-GPU machine was given a device";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("OMPI_COMM_WORLD_LOCAL_RANK=4 needs GPU 4 but only 4 are visible"), std::string::npos) << what;
    EXPECT_NE(what.find("CUDA_VISIBLE_DEVICES=0,1,2,3"), std::string::npos) << what;
  }
  EXPECT_THROW(choose_gpu({{"SLURM_LOCALID", "0"}}, 0), Error);             // no device at all
  EXPECT_THROW(choose_gpu({{"SLURM_LOCALID", "one"}}, 2), Error);           // not a number
}

TEST(GpuChoice, TwoRanksOnOneGpuAreFound) {
  EXPECT_EQ(shared_gpu_problem({"n1", "n1", "n2", "n2"}, {"0", "1", "0", "1"}), "");
  // Each rank sees one device, but the binding gave two ranks of n1 the same one.
  const std::string p = shared_gpu_problem({"n1", "n1", "n2"}, {"2", "2", "2"});
  EXPECT_NE(p.find("ranks 0 and 1 would share GPU 2 on n1"), std::string::npos) << p;
  EXPECT_EQ(shared_gpu_problem({"n1"}, {"0"}), "");
}

}  // namespace
}  // namespace seer
