# -Wall -Wextra -Werror on norreg's own targets only (never on third-party headers).
# -Wno-mismatched-new-delete: GCC 12 at -O2 reports a false positive inside Boost.Asio's
# coroutine frame allocator (awaitable_frame_base::operator delete), see GCC bug 109224.
function(norreg_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
    -Wno-missing-field-initializers -Wno-mismatched-new-delete)
endfunction()
