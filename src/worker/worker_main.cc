// SPDX-License-Identifier: MIT
// gaincell-worker: one libngspice per process, driven by the parent over a
// socket (fd given by --socket-fd). Started by spice::WorkerPool, not by users.
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gaincell/core/build_info.h"
#include "gaincell/spice/worker.h"

int main(int argc, char** argv) {
  int socket_fd = -1;
  std::string library = gaincell::build_info().ngspice_path;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--socket-fd") socket_fd = std::atoi(argv[i + 1]);
    else if (key == "--ngspice") library = argv[i + 1];
    else if (key == "--dir") dir = argv[i + 1];
  }
  if (socket_fd < 0 || dir.empty()) {
    std::fprintf(stderr, "gaincell-worker: internal program, started by gaincell (needs --socket-fd and --dir)\n");
    return 2;
  }
  // ngspice parses numbers with the C locale; OpenMP must see one thread
  // before libgomp is loaded with libngspice.
  std::setlocale(LC_ALL, "C");
  ::setenv("OMP_NUM_THREADS", "1", 1);
  // The private directory holds our .spiceinit, which shadows ~/.spiceinit.
  if (::chdir(dir.c_str()) != 0) {
    std::fprintf(stderr, "gaincell-worker: cannot enter %s: %s\n", dir.c_str(), std::strerror(errno));
    return 2;
  }
  const int code = gaincell::spice::run_worker(socket_fd, library);
  std::fflush(nullptr);
  // _exit: skip static destructors and atexit handlers of a library that may
  // be in any state after a failed simulation.
  ::_exit(code);
}
