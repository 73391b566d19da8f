// Owner of the shared LibTorch precompiled header (see cmake/SeerTorch.cmake); intentionally empty.
