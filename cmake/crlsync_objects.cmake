# SPDX-License-Identifier: GPL-2.0-or-later
# crlsync_objects(): a module's sources listed once, compiled once per flag set, linked by programs and tests alike.

# crlsync_objects(NAME SOURCES src... [INCLUDE dir...] [LINK lib...] [DEFINE def...])
#   NAME       OBJECT library of the sources as the programs use them (position-independent: the plugin is a .so);
#   NAME_asan  the same under ASan+UBSan, with CRLSYNC_UNIT_SANITIZE (the sanitize.* unit tests);
#   NAME_fuzz  the same with libFuzzer's coverage, with CRLSYNC_FUZZ (the fuzz targets).
# LINK adds what every variant needs (OpenSSL, threads); INCLUDE directories and DEFINE compile definitions
# are public: who links NAME sees them (a test sees the same CRLSYNC_CONFIG_FILE as the fetcher's cli.c).
# A target that links NAME gets its objects; a target that links that target does not (CMake's rule for
# OBJECT libraries), so a program links the archive (crlsync_core) or the objects, never both.
function(crlsync_objects NAME)
  cmake_parse_arguments(PARSE_ARGV 1 _o "" "" "SOURCES;INCLUDE;LINK;DEFINE")
  set(_suffixes "")
  list(APPEND _suffixes "-")
  if(CRLSYNC_UNIT_SANITIZE)
    list(APPEND _suffixes "_asan")
  endif()
  if(CRLSYNC_FUZZ)
    list(APPEND _suffixes "_fuzz")
  endif()
  foreach(_s IN LISTS _suffixes)
    if(_s STREQUAL "-")
      set(_s "")
    endif()
    set(_t ${NAME}${_s})
    add_library(${_t} OBJECT ${_o_SOURCES})
    set_target_properties(${_t} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_include_directories(${_t} PUBLIC ${PROJECT_SOURCE_DIR}/include ${_o_INCLUDE})
    target_link_libraries(${_t} PUBLIC ${_o_LINK})
    target_compile_definitions(${_t} PUBLIC ${_o_DEFINE})
    if(_s STREQUAL "_asan")
      target_compile_options(${_t} PUBLIC -fsanitize=address,undefined -fno-omit-frame-pointer
                             -fno-sanitize-recover=undefined)
      target_link_options(${_t} PUBLIC -fsanitize=address,undefined)
    elseif(_s STREQUAL "_fuzz")
      # Coverage without libFuzzer's main: the targets add -fsanitize=fuzzer when they link.
      target_compile_options(${_t} PRIVATE -fsanitize=fuzzer-no-link -fsanitize=address,undefined
                             -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    endif()
  endforeach()
endfunction()
