# embed_resources(target NAMESPACE ns FILES name=path ...)
# Generates a static library exposing `std::string_view ns::name()` for each file, so reference
# data ships inside the binary and no install-time paths are needed.
function(embed_resources target)
  cmake_parse_arguments(ARG "" "NAMESPACE" "FILES" ${ARGN})
  set(out_dir ${CMAKE_BINARY_DIR}/generated/resources)
  set(header ${out_dir}/resources/embedded.hpp)
  set(decls "")
  set(sources "")
  foreach(entry ${ARG_FILES})
    string(REPLACE "=" ";" parts ${entry})
    list(GET parts 0 name)
    list(GET parts 1 path)
    set(cpp ${out_dir}/${name}.cpp)
    add_custom_command(OUTPUT ${cpp}
      COMMAND ${CMAKE_COMMAND} -DIN=${path} -DOUT=${cpp} -DNAME=${name} -DNS=${ARG_NAMESPACE}
              -P ${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake
      DEPENDS ${path} ${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake)
    list(APPEND sources ${cpp})
    string(APPEND decls "std::string_view ${name}();\n")
  endforeach()
  file(WRITE ${header}.in "#pragma once\n#include <string_view>\nnamespace ${ARG_NAMESPACE} {\n${decls}}\n")
  configure_file(${header}.in ${header} COPYONLY)
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${out_dir})
endfunction()
