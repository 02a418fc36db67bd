// SPDX-License-Identifier: MIT
// File: gaincell/spice/worker.h
//
// The body of a gaincell-worker process: load libngspice once, then run one
// point at a time as the parent asks, cleaning up after each (`destroy all`,
// `remcirc`). A point's outcome is decided from ngspice's printed output and
// from the plot it left, never from return codes, which are 0 on most
// failures. After a ControlledExit the worker answers and exits, since the
// library is poisoned.
//
//   // in main() of gaincell-worker, with the socket on fd 3:
//   return gaincell::spice::run_worker(3, build_info().ngspice_path);
#pragma once

#include <string>

#include "gaincell/spice/job.h"

namespace gaincell::spice {

class NgspiceLibrary;

// Serves jobs from `socket_fd` until "quit" or EOF. Returns the process exit
// code. The current directory must be the worker's private directory.
int run_worker(int socket_fd, const std::string& library_path);

// Runs one job on a loaded library (exposed for the worker loop and tests).
SimResult simulate(NgspiceLibrary& ngspice, const SimJob& job);

// The .spiceinit every worker gets in its private directory.
std::string worker_spiceinit();

}  // namespace gaincell::spice
