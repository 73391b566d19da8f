# A LibTorch from PyPI's `torch` wheel ships third-party headers in its include folder (fmt, google/protobuf,
# pybind11, ...) of other versions than Debian's. Used as given, they shadow /usr/include, so spdlog (built
# against Debian's fmt) and the protobuf-generated code would compile against the wrong headers. seer then
# sees a copy of that folder holding only LibTorch's own headers (links), and the imported LibTorch targets
# point there. Debian's LibTorch installs into /usr/include and is left alone.
set(_seer_torch_include "${TORCH_INSTALL_PREFIX}/include")
if(EXISTS "${_seer_torch_include}/fmt" OR EXISTS "${_seer_torch_include}/google")
  set(_seer_clean "${CMAKE_BINARY_DIR}/torch-include")
  file(REMOVE_RECURSE "${_seer_clean}")
  file(MAKE_DIRECTORY "${_seer_clean}")
  # LibTorch's own headers and what they include; every other bundled library stays out.
  foreach(_entry ATen c10 caffe2 torch)
    if(EXISTS "${_seer_torch_include}/${_entry}")
      file(CREATE_LINK "${_seer_torch_include}/${_entry}" "${_seer_clean}/${_entry}" SYMBOLIC)
    endif()
  endforeach()
  foreach(_target torch torch_cpu torch_cuda c10 c10_cuda torch_nvshmem headeronly)
    if(TARGET ${_target})
      get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
      if(_dirs)
        list(TRANSFORM _dirs REPLACE "^${_seer_torch_include}" "${_seer_clean}")
        set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_dirs}")
      endif()
    endif()
  endforeach()
  message(STATUS "LibTorch headers from ${_seer_clean} (without the wheel's bundled fmt, protobuf, pybind11)")
endif()
