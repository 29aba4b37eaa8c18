# Cross-build for arm64 (Graviton) with Debian's multiarch toolchain: crossbuild-essential-arm64 and the
# -dev:arm64 libraries (packaging/install-package-deps.sh installs both).
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=packaging/toolchain-arm64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "")
set(PKG_CONFIG_EXECUTABLE aarch64-linux-gnu-pkg-config CACHE FILEPATH "")

# Headers and libraries come from the multiarch dirs (/usr/include/aarch64-linux-gnu,
# /usr/lib/aarch64-linux-gnu) of the one root; never pick up a build-machine program as a library.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Extra arm64 -dev trees unpacked outside the system (libyaml-cpp-dev:arm64, which cannot be
# co-installed with its amd64 copy): TRAILWATCH_CROSS_EXTRA_ROOT=DIR (packaging/build-packages.sh).
if(DEFINED ENV{TRAILWATCH_CROSS_EXTRA_ROOT})
  list(APPEND CMAKE_FIND_ROOT_PATH "$ENV{TRAILWATCH_CROSS_EXTRA_ROOT}" /)
endif()
