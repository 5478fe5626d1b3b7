# Toolchain for the Windows cross build of etwbridge and its tests with
# Debian's mingw-w64 (g++-mingw-w64-x86-64-posix), run under wine64.
#
#   cmake -S etwbridge -B build-mingw -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
#   ctest --test-dir build-mingw        # each test .exe runs under wine64
#
# Executables are linked statically (libstdc++, libgcc, winpthread) so wine
# needs no mingw DLLs on its path.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# ctest runs the test executables through wine (Debian's wine64 package
# installs it as /usr/lib/wine/wine64; the wine package adds wrappers).
find_program(TRACESTORE_WINE NAMES wine64 wine
             PATHS /usr/lib/wine /usr/bin NO_CMAKE_FIND_ROOT_PATH)
if(TRACESTORE_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TRACESTORE_WINE})
endif()
