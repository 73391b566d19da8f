# seer_link_torch(target): link LibTorch and, when SEER_PCH is on, reuse one shared precompiled header
# (<torch/torch.h>, built once by the OBJECT library seer_torch_pch). Every target that reuses it must
# be compiled with the same flags, which holds because flags are set project-wide only.
if(SEER_PCH)
  add_library(seer_torch_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cpp)
  target_link_libraries(seer_torch_pch PUBLIC torch)
  target_precompile_headers(seer_torch_pch PRIVATE <torch/torch.h>)
endif()

function(seer_link_torch target)
  target_link_libraries(${target} PUBLIC torch)
  if(SEER_PCH)
    target_precompile_headers(${target} REUSE_FROM seer_torch_pch)
  endif()
endfunction()
