# The commands a new user runs. Everything else is plain CMake in build/.
#   make test        install missing Debian packages, configure, build, run every test
#   make build       configure and build only
#   make quickstart  the main job: SFT then GRPO on handwritten digits, before/after table and plot
#   make build-cuda  the GPU build in build-cuda/: CUDA LibTorch 2.x from PyPI (scripts/cuda-env.sh), CUDA + NCCL
#   make test-cuda-unit  its unit and golden tests, on the CPU (SDPA attention against transformers)
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_ARGS ?=
CTEST_ARGS ?=

CUDA_BUILD_DIR ?= build-cuda

.PHONY: all deps configure build test quickstart build-cuda test-cuda-unit clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Only the seer executable (no tests or benchmarks): the quickstart's build is part of its time budget.
quickstart: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target seer
	@bash scripts/quickstart.sh $(BUILD_DIR)/bin/seer

# The GPU configuration. It compiles and links on a machine without a GPU; its `unit` tests run on the CPU.
build-cuda: deps
	cmake -S . -B $(CUDA_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEER_CUDA=ON -DSEER_NCCL=ON \
	  -DSEER_LIBTORCH=$$(bash scripts/cuda-env.sh) $(CMAKE_ARGS)
	cmake --build $(CUDA_BUILD_DIR) -j $(JOBS)

test-cuda-unit: build-cuda
	cd $(CUDA_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L "unit|golden" $(CTEST_ARGS)

clean:
	rm -rf $(BUILD_DIR) $(CUDA_BUILD_DIR)
