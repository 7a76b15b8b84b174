# Cross-compiles edgenas for aarch64 (Raspberry Pi OS bookworm = Debian 12
# arm64) against the sysroot made by deploy/aarch64/make-sysroot.sh.
#
#   cmake -S . -B build-aarch64 \
#     -DCMAKE_TOOLCHAIN_FILE=deploy/aarch64/toolchain.cmake \
#     [-DEDGENAS_SYSROOT=/opt/edgenas-sysroot-arm64]    # or env EDGENAS_SYSROOT
#
# Libraries, headers and CMake package configs come from the sysroot;
# programs run during the build (protoc, grpc_cpp_plugin, pkg-config) are
# the host's, and must be the same upstream versions as the sysroot's
# libraries (make-sysroot.sh checks that).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# --- the sysroot: -DEDGENAS_SYSROOT, else $EDGENAS_SYSROOT, else the default.
if(NOT EDGENAS_SYSROOT)
  if(DEFINED ENV{EDGENAS_SYSROOT} AND NOT "$ENV{EDGENAS_SYSROOT}" STREQUAL "")
    set(EDGENAS_SYSROOT "$ENV{EDGENAS_SYSROOT}")
  else()
    set(EDGENAS_SYSROOT /opt/edgenas-sysroot-arm64)
  endif()
endif()
set(EDGENAS_SYSROOT "${EDGENAS_SYSROOT}" CACHE PATH
    "arm64 sysroot made by deploy/aarch64/make-sysroot.sh")
if(NOT EXISTS "${EDGENAS_SYSROOT}/usr/include/grpcpp/grpcpp.h")
  message(FATAL_ERROR "No arm64 sysroot at ${EDGENAS_SYSROOT}: "
          "run deploy/aarch64/make-sysroot.sh ${EDGENAS_SYSROOT} (as root)")
endif()
# try_compile projects re-read this file and see only these variables.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGENAS_SYSROOT)

set(CMAKE_SYSROOT "${EDGENAS_SYSROOT}")
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# find_library/find_path/find_package look only inside the sysroot;
# find_program only on the host.
set(CMAKE_FIND_ROOT_PATH "${EDGENAS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (gRPC's config finds re2 with it; FindOpenSSL tries it): the
# host's pkg-config reading the sysroot's .pc files.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGENAS_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${EDGENAS_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${EDGENAS_SYSROOT}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# Code generators: the host's. proto/CMakeLists.txt runs
# ${Protobuf_PROTOC_EXECUTABLE} and find_program(GRPC_CPP_PLUGIN ...).
set(Protobuf_PROTOC_EXECUTABLE /usr/bin/protoc CACHE FILEPATH "host protoc")
set(GRPC_CPP_PLUGIN /usr/bin/grpc_cpp_plugin CACHE FILEPATH "host grpc_cpp_plugin")
# gRPC's CMake config defines gRPC::grpc_cpp_plugin & co. as the sysroot's
# arm64 executables; host-tools.cmake repoints them at the host's.
set(CMAKE_PROJECT_edgenas_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/host-tools.cmake")

# add_test and gtest_discover_tests run target programs through QEMU.
set(CMAKE_CROSSCOMPILING_EMULATOR
    /usr/bin/qemu-aarch64-static -L "${EDGENAS_SYSROOT}" -cpu cortex-a72)
