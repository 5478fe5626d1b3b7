# Finds every supported CPython to build the extension for. The supported
# range is read from pyhook/python/tracestore/_supported.py, its one
# statement (TRACESTORE_PY_OLDEST_MINOR, TRACESTORE_PY_NEWEST_MINOR).
#
#   tracestore_find_pythons(OUT_VAR)
#
# Sets OUT_VAR to a list of "TAG|EXECUTABLE|INCLUDE_DIR|EXT_SUFFIX" entries
# (TAG like "py312"). Sources, in order: -DTRACESTORE_PYTHONS=/path/python;...
# if given; else every version pyenv lists (`pyenv root`, $PYENV_ROOT or
# ~/.pyenv); else python3 on PATH.

file(STRINGS ${PROJECT_SOURCE_DIR}/pyhook/python/tracestore/_supported.py
     _ts_supported REGEX "^(OLDEST|NEWEST) = \\(3, [0-9]+\\)")
foreach(line IN LISTS _ts_supported)
  if(line MATCHES "^(OLDEST|NEWEST) = \\(3, ([0-9]+)\\)")
    set(TRACESTORE_PY_${CMAKE_MATCH_1}_MINOR ${CMAKE_MATCH_2})
  endif()
endforeach()
if(NOT TRACESTORE_PY_OLDEST_MINOR OR NOT TRACESTORE_PY_NEWEST_MINOR)
  message(FATAL_ERROR "cannot read the supported range from _supported.py")
endif()

# supported_pythons.h for the extension's own check (compat.h).
function(tracestore_write_supported_header dir)
  math(EXPR lo "0x03000000 + ${TRACESTORE_PY_OLDEST_MINOR} * 65536" OUTPUT_FORMAT HEXADECIMAL)
  math(EXPR hi "0x03000000 + ${TRACESTORE_PY_NEWEST_MINOR} * 65536" OUTPUT_FORMAT HEXADECIMAL)
  file(WRITE ${dir}/supported_pythons.h.tmp
       "// Generated from pyhook/python/tracestore/_supported.py by cmake/pythons.cmake.\n"
       "#define TS_PY_MIN_HEX ${lo}  // 3.${TRACESTORE_PY_OLDEST_MINOR}\n"
       "#define TS_PY_MAX_HEX ${hi}  // 3.${TRACESTORE_PY_NEWEST_MINOR}, any patch release\n")
  file(COPY_FILE ${dir}/supported_pythons.h.tmp ${dir}/supported_pythons.h ONLY_IF_DIFFERENT)
endfunction()

function(tracestore_find_pythons out_var)
  set(candidates ${TRACESTORE_PYTHONS})
  if(NOT candidates)
    set(root "")
    find_program(PYENV_EXE pyenv PATHS "$ENV{PYENV_ROOT}/bin" "$ENV{HOME}/.pyenv/bin")
    if(PYENV_EXE)
      execute_process(COMMAND ${PYENV_EXE} root OUTPUT_VARIABLE root
                      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    endif()
    if(NOT root AND DEFINED ENV{PYENV_ROOT})
      set(root "$ENV{PYENV_ROOT}")
    endif()
    if(NOT root AND EXISTS "$ENV{HOME}/.pyenv")
      set(root "$ENV{HOME}/.pyenv")
    endif()
    if(root)
      file(GLOB dirs LIST_DIRECTORIES true "${root}/versions/3.*")
      foreach(dir IN LISTS dirs)
        get_filename_component(v "${dir}" NAME)
        if(v MATCHES "^3\\.([0-9]+)\\.[0-9]+$" AND EXISTS "${dir}/bin/python3"
           AND NOT CMAKE_MATCH_1 LESS TRACESTORE_PY_OLDEST_MINOR
           AND NOT CMAKE_MATCH_1 GREATER TRACESTORE_PY_NEWEST_MINOR)
          list(APPEND candidates "${dir}/bin/python3")
        endif()
      endforeach()
    endif()
    if(NOT candidates)
      find_program(SYSTEM_PYTHON3 python3)
      if(SYSTEM_PYTHON3)
        list(APPEND candidates "${SYSTEM_PYTHON3}")
      endif()
    endif()
  endif()
  set(found "")
  set(seen_tags "")
  foreach(py IN LISTS candidates)
    execute_process(
      COMMAND "${py}" -c "import sys, sysconfig; v = sys.version_info; print('py%d%d|%s|%s' % (v[0], v[1], sysconfig.get_paths()['include'], sysconfig.get_config_var('EXT_SUFFIX'))) if (3, ${TRACESTORE_PY_OLDEST_MINOR}) <= v[:2] <= (3, ${TRACESTORE_PY_NEWEST_MINOR}) and not sysconfig.get_config_var('Py_GIL_DISABLED') else None"
      OUTPUT_VARIABLE info OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    if(NOT rc EQUAL 0 OR info STREQUAL "None" OR info STREQUAL "")
      continue()
    endif()
    string(REPLACE "|" ";" parts "${info}")
    list(GET parts 0 tag)
    list(GET parts 1 include)
    if(tag IN_LIST seen_tags OR NOT EXISTS "${include}/Python.h")
      continue()
    endif()
    list(APPEND seen_tags ${tag})
    list(GET parts 2 suffix)
    list(APPEND found "${tag}|${py}|${include}|${suffix}")
  endforeach()
  set(${out_var} "${found}" PARENT_SCOPE)
endfunction()
