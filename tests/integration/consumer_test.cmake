# SPDX-License-Identifier: MIT
# A user's project, written the usual way (`project(x CXX)`: no C), builds
# against gaincell with find_package(gaincell) twice: from an install into a
# temporary prefix, and from this build tree (gaincell_DIR). The installed
# headers never name HDF5. The Python package installed into the prefix
# imports with /usr/bin/python3 and evaluates a shipped model file.
set(work ${BINARY_DIR}/consumer_test)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work}/project)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed: ${rc}")
endif()

# No HDF5 in the public interface: no installed header includes <hdf5.h> or store/h5.h.
file(GLOB_RECURSE headers ${work}/prefix/include/gaincell/*.h)
list(LENGTH headers n_headers)
if(n_headers LESS 20)
  message(FATAL_ERROR "only ${n_headers} headers installed under ${work}/prefix/include/gaincell")
endif()
foreach(h ${headers})
  file(STRINGS ${h} hits REGEX "#include [<\"](hdf5|H5[A-Za-z]*)\\.h[>\"]|store/h5\\.h")
  if(hits)
    message(FATAL_ERROR "installed header ${h} exposes HDF5: ${hits}")
  endif()
endforeach()

file(WRITE ${work}/project/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(gaincell REQUIRED)
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE gaincell::gaincell)
]=])
file(WRITE ${work}/project/main.cc [=[
#include <gaincell/core/hash.h>
#include <gaincell/core/si_value.h>
#include <gaincell/store/results_file.h>
#include <cstdio>
int main(int argc, char** argv) {
  const double v = gaincell::parse_si("15n");
  std::printf("%s %s", gaincell::format_exact(v).c_str(), gaincell::sha256_hex("abc").substr(0, 8).c_str());
  if (argc > 1) {  // the library's HDF5 reader works through the public interface
    const auto r = gaincell::store::read_results(argv[1]);
    std::printf(" %zu", r.size());
  }
  std::printf("\n");
  return v == 1.5e-8 ? 0 : 1;
}
]=])
# An instrumented libgaincell.a needs the sanitizer runtime in the consumer too.
set(extra)
if(SANITIZE)
  set(extra -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
endif()

# A results file (600 cheap RC points) for the consumer to read.
execute_process(COMMAND ${BINARY_DIR}/bin/gaincell -q sweep ${SOURCE_DIR}/tests/data/rc_sweep.json -j 2 -o ${work}/rc.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sweep for the consumer failed (${rc}):\n${out}\n${err}")
endif()
set(expect_points " 600")

foreach(kind install build)
  if(kind STREQUAL install)
    set(where -DCMAKE_PREFIX_PATH=${work}/prefix)
  else()
    set(where -Dgaincell_DIR=${BINARY_DIR})
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${work}/project -B ${work}/build-${kind} ${where} ${extra}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configure of the consumer against the ${kind} tree failed:\n${out}\n${err}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${work}/build-${kind} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "build of the consumer against the ${kind} tree failed:\n${out}\n${err}")
  endif()
  execute_process(COMMAND ${work}/build-${kind}/consumer ${work}/rc.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "^1.5e-08 ba7816bf${expect_points}\n$")
    message(FATAL_ERROR "consumer (${kind} tree) printed '${out}' (exit ${rc})")
  endif()
  message(STATUS "consumer built against the ${kind} tree of gaincell: ${out}")
endforeach()

# The Python package, as installed (not in sanitizer builds: PYTHON_DIR is empty).
if(PYTHON_DIR)
  execute_process(COMMAND /usr/bin/python3 -c [=[
import os, sys
prefix, rel = sys.argv[1], sys.argv[2]
# The directory this install used for a non-/usr prefix is the one Debian's python3 imports from
# under /usr/local, so `cmake --install` with the default prefix needs no PYTHONPATH.
assert os.path.join("/usr/local", rel) in sys.path, (rel, sys.path)
sys.path.insert(0, os.path.join(prefix, rel))
import gaincell
assert gaincell.__file__.startswith(prefix), gaincell.__file__
m = gaincell.Model(os.path.join(prefix, "share", "gaincell", "fits", "c2p.hardsigmoid.json"))
y = m([-1e-12, 0.0, 2e-12])
assert m.kind == "hard_sigmoid" and y[0] <= y[1] <= y[2] and y[2] > 0, y
print("python", gaincell.__version__, m.kind, gaincell.__file__)
]=] ${work}/prefix ${PYTHON_DIR}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the installed Python package did not import:\n${out}\n${err}")
  endif()
  message(STATUS "installed Python package: ${out}")
endif()
