# Every third-party library seer uses, all from Debian 12 (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
# SEER_LIBTORCH: a LibTorch folder (the `torch` package of scripts/cuda-env.sh) used instead of Debian's. Its
# Torch, Caffe2 and library are named exactly: CMake would otherwise search the system folders first and mix in
# Debian's LibTorch 1.13.
find_package(Protobuf REQUIRED)                   # before LibTorch: a wheel's Caffe2Config otherwise defines a
                                                  # dummy protobuf::libprotobuf, and nothing links libprotobuf
if(SEER_LIBTORCH)
  set(Torch_DIR "${SEER_LIBTORCH}/share/cmake/Torch" CACHE PATH "" FORCE)
  set(Caffe2_DIR "${SEER_LIBTORCH}/share/cmake/Caffe2" CACHE PATH "" FORCE)
  set(TORCH_LIBRARY "${SEER_LIBTORCH}/lib/libtorch.so" CACHE FILEPATH "" FORCE)
  find_package(Torch REQUIRED NO_DEFAULT_PATH PATHS "${Torch_DIR}")
  # The wheel's NVIDIA libraries (cuBLAS, cuDNN, NCCL, ... of the versions LibTorch was built with) come before
  # the CUDA toolkit's when the linker resolves LibTorch's dependencies; at run time LibTorch's own RPATH
  # finds them.
  file(GLOB _seer_nvidia_libs LIST_DIRECTORIES true "${SEER_LIBTORCH}/../nvidia/*/lib")
  if(_seer_nvidia_libs)
    list(JOIN _seer_nvidia_libs ":" _seer_rpath_link)
    add_link_options("LINKER:-rpath-link,${_seer_rpath_link}")
  endif()
  set(_seer_nccl_hint "${SEER_LIBTORCH}/../nvidia/nccl")
else()
  find_package(Torch REQUIRED)                    # imported target `torch`
endif()
include(SeerTorchIncludes)                        # a PyPI LibTorch's bundled fmt/protobuf headers kept out
find_package(gRPC CONFIG REQUIRED)                # gRPC::grpc++, gRPC::grpc_cpp_plugin
find_package(yaml-cpp REQUIRED)                   # plain target `yaml-cpp` (0.7 has no namespace)
find_package(prometheus-cpp CONFIG REQUIRED)      # prometheus-cpp::core / ::pull
find_package(MPI REQUIRED COMPONENTS C)           # MPI::MPI_C
find_package(CLI11 CONFIG REQUIRED)               # CLI11::CLI11
find_package(spdlog CONFIG REQUIRED)              # spdlog::spdlog
find_package(fmt CONFIG REQUIRED)                 # fmt::fmt
find_package(nlohmann_json 3.10 CONFIG REQUIRED)  # nlohmann_json::nlohmann_json
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(EXIF REQUIRED IMPORTED_TARGET libexif)
find_package(JPEG REQUIRED)                       # JPEG::JPEG: libjpeg-turbo, the decoder Pillow uses
find_path(SEER_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb REQUIRED)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)   # libstb.so: the stb implementations, built by Debian

# CUDA: on when LibTorch was built with CUDA (TorchConfig then defines TORCH_CUDA_LIBRARIES / torch_cuda).
set(_seer_torch_has_cuda OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(_seer_torch_has_cuda ON)
endif()
if(SEER_CUDA STREQUAL "AUTO")
  set(SEER_WITH_CUDA ${_seer_torch_has_cuda})
elseif(SEER_CUDA)
  if(NOT _seer_torch_has_cuda)
    message(FATAL_ERROR "SEER_CUDA=ON but LibTorch at ${Torch_DIR} has no CUDA (no torch_cuda target). "
                        "Point Torch_DIR at a CUDA LibTorch or use SEER_CUDA=AUTO.")
  endif()
  set(SEER_WITH_CUDA ON)
else()
  set(SEER_WITH_CUDA OFF)
endif()

# NCCL: only with CUDA. Searched in the usual places and next to the CUDA toolkit.
set(SEER_WITH_NCCL OFF)
if(SEER_WITH_CUDA AND NOT SEER_NCCL STREQUAL "OFF")
  # The NCCL LibTorch links (a wheel's nvidia/nccl) first: two NCCLs in one process would not mix.
  if(_seer_nccl_hint)
    find_path(SEER_NCCL_INCLUDE_DIR nccl.h PATHS "${_seer_nccl_hint}" PATH_SUFFIXES include NO_DEFAULT_PATH)
    find_library(SEER_NCCL_LIBRARY NAMES nccl libnccl.so.2 PATHS "${_seer_nccl_hint}" PATH_SUFFIXES lib NO_DEFAULT_PATH)
  endif()
  find_path(SEER_NCCL_INCLUDE_DIR nccl.h HINTS ENV NCCL_HOME ENV CUDA_HOME PATH_SUFFIXES include)
  find_library(SEER_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ENV NCCL_HOME ENV CUDA_HOME PATH_SUFFIXES lib lib64)
  if(SEER_NCCL_INCLUDE_DIR AND SEER_NCCL_LIBRARY)
    set(SEER_WITH_NCCL ON)
    add_library(seer_nccl INTERFACE)
    target_include_directories(seer_nccl SYSTEM INTERFACE ${SEER_NCCL_INCLUDE_DIR})
    target_link_libraries(seer_nccl INTERFACE ${SEER_NCCL_LIBRARY})
  endif()
endif()
if(SEER_NCCL STREQUAL "ON" AND NOT SEER_WITH_NCCL)
  message(FATAL_ERROR "SEER_NCCL=ON but NCCL was not found (needs CUDA LibTorch and nccl.h/libnccl; "
                      "set NCCL_HOME) — use SEER_NCCL=AUTO to build without it.")
endif()
find_package(ZLIB REQUIRED)           # gzip sources (datasets) and CRC-32 (checkpoint manifests)
