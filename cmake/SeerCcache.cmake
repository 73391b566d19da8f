# Use ccache when it is installed. The sloppiness settings let ccache cache translation units that use a
# precompiled header (without them every such call is "uncacheable").
find_program(SEER_CCACHE ccache)
if(SEER_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${SEER_CCACHE})
  message(STATUS "ccache: ${SEER_CCACHE}")
endif()
