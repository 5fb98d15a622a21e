# Warnings every target of ours compiles with (not applied to dependencies).
set(GTIDPROXY_WARNINGS
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wundef -Wvla)
if(GTIDPROXY_WERROR)
  list(APPEND GTIDPROXY_WARNINGS -Werror)
endif()

# gtidproxy_target(<name>): our compile options on one target.
function(gtidproxy_target name)
  target_compile_options(${name} PRIVATE ${GTIDPROXY_WARNINGS})
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE)
endfunction()
