# -Wall -Wextra -Werror on norreg's own targets only (never on third-party headers).
function(norreg_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
    -Wno-missing-field-initializers)
endfunction()
