// `seer version`: what this binary was built with, and what it finds at run time.
#include <mpi.h>

#include <cstdio>

#include <grpcpp/grpcpp.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "app/commands.h"
#include "seer/build_info.h"

namespace seer::app {

void add_version_command(CLI::App& app, Invocation& inv) {
  CLI::App* cmd = app.add_subcommand("version", "Print versions of seer and the libraries it was built with");
  cmd->callback([&inv] {
    char mpi_version[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
    int len = 0;
    MPI_Get_library_version(mpi_version, &len);  // allowed before MPI_Init
    std::string mpi(mpi_version, static_cast<size_t>(len));
    if (auto nl = mpi.find_first_of("\n,"); nl != std::string::npos) mpi.resize(nl);
    std::printf("seer %s (%s, %s)\n", build::kVersion, build::kBuildType, build::kCompiler);
    std::printf("LibTorch %s, CUDA build: %s, CUDA devices: %d\n", TORCH_VERSION, build::kWithCuda ? "yes" : "no",
                build::kWithCuda ? static_cast<int>(torch::cuda::device_count()) : 0);
    std::printf("NCCL: %s\n", build::kWithNccl ? "yes" : "no");
    std::printf("gRPC %s\n", grpc::Version().c_str());
    std::printf("MPI: %s\n", mpi.c_str());
    inv.exit_code = 0;
  });
}

}  // namespace seer::app
