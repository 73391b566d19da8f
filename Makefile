# The commands a new user runs. Everything else is plain CMake in build/.
#   make test        install missing Debian packages, configure, build, run every test
#   make build       configure and build only
#   make quickstart  the main job: SFT then GRPO on handwritten digits, before/after table and plot
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_ARGS ?=
CTEST_ARGS ?=

.PHONY: all deps configure build test quickstart clean

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

clean:
	rm -rf $(BUILD_DIR)
