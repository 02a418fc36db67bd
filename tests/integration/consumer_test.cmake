# SPDX-License-Identifier: MIT
# Installs gaincell into a temporary prefix and builds a small outside
# project against it with find_package(gaincell), then runs it.
set(work ${BINARY_DIR}/consumer_test)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work}/project)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
file(WRITE ${work}/project/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(gaincell REQUIRED)
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE gaincell::gaincell)
]=])
file(WRITE ${work}/project/main.cc [=[
#include <gaincell/core/hash.h>
#include <gaincell/netlist/si_value.h>
#include <cstdio>
int main() {
  const double v = gaincell::netlist::parse_si("15n");
  std::printf("%s %s\n", gaincell::netlist::format_exact(v).c_str(), gaincell::sha256_hex("abc").substr(0, 8).c_str());
  return v == 1.5e-8 ? 0 : 1;
}
]=])
# An instrumented libgaincell.a needs the sanitizer runtime in the consumer too.
set(extra)
if(SANITIZE)
  set(extra -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${work}/project -B ${work}/build -DCMAKE_PREFIX_PATH=${work}/prefix ${extra}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure of the consumer failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${work}/build RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build of the consumer failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${work}/build/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "1.5e-08 ba7816bf")
  message(FATAL_ERROR "consumer printed '${out}' (exit ${rc})")
endif()
message(STATUS "consumer built against the installed gaincell: ${out}")
