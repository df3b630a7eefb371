# Cross-compiles foldrt for aarch64 (arm64) Linux on an x86-64 Debian 12 host,
# against Debian's arm64 packages installed side by side with the amd64 ones
# (multiarch: `dpkg --add-architecture arm64`). tools/cross_aarch64.sh installs
# everything and uses this file; by hand:
#
#   cmake -S . -B build-aarch64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.toolchain.cmake \
#     -Ddnnl_DIR=<extracted libdnnl-dev:arm64>/usr/lib/aarch64-linux-gnu/cmake/dnnl \
#     -DONNX_DIR=<extracted libonnx-dev:arm64>/usr/lib/aarch64-linux-gnu/cmake/ONNX
#
# (libdnnl-dev:arm64 and libonnx-dev:arm64 cannot be co-installed with their
# amd64 twins; the script explains and extracts them.)

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Multiarch layout: arm64 libraries and their CMake configs live in
# /usr/lib/aarch64-linux-gnu, headers in /usr/include (shared by all
# architectures) and /usr/include/aarch64-linux-gnu. There is no separate
# sysroot, so instead of re-rooting the search we name the library
# architecture (find_library / find_package then look in lib/aarch64-linux-gnu)
# and keep the host's own architecture directories out of every search.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_IGNORE_PATH
  /lib/x86_64-linux-gnu
  /usr/lib/x86_64-linux-gnu
  /usr/lib/x86_64-linux-gnu/cmake
  /usr/include/x86_64-linux-gnu
)
# CMake >= 3.23: also ignore the prefixes find_package would derive from them.
set(CMAKE_IGNORE_PREFIX_PATH /usr/lib/x86_64-linux-gnu)
# The cross toolchain's own target files (crt, libc, libstdc++ for aarch64).
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
# Programs (protoc, ...) run on the build machine: host binaries.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Libraries, headers and packages: the cross root first, then the multiarch
# system directories above.
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# Run target binaries (tests, GoogleTest discovery, try_run) under user-mode
# QEMU. No -L / QEMU_LD_PREFIX: the arm64 packages pull in libc6:arm64, whose
# loader is /lib/ld-linux-aarch64.so.1, and that loader finds libc, libdnnl,
# libhwy, ... in /lib/aarch64-linux-gnu and /usr/lib/aarch64-linux-gnu.
# (`-L /usr/aarch64-linux-gnu` would take the cross toolchain's loader, a
# different glibc build than the libc.so.6 it then loads from the multiarch
# directory; that pair hangs in pthread_create as soon as oneDNN starts its
# OpenMP threads.) The CPU model is QEMU's default, "max" (NEON, SVE, SVE2,
# 512-bit vectors); QEMU_CPU in the environment overrides it, which
# tests/CMakeLists.txt uses to run the kernel tests on other CPUs.
find_program(FOLDRT_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${FOLDRT_QEMU_AARCH64}")
