# SPDX-License-Identifier: MIT
# Warning flags for gaincell's own targets (not for dependencies).
function(gaincell_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wconversion -Wno-sign-conversion)
endfunction()
