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
#include <vector>

#include "gaincell/spice/job.h"

namespace gaincell::spice {

class NgspiceLibrary;

// Serves jobs from `socket_fd` until "quit" or EOF. Returns the process exit
// code. The current directory must be the worker's private directory.
int run_worker(int socket_fd, const std::string& library_path);

// Runs one job on a loaded library (exposed for the worker loop and tests).
// Seeds ngspice's random generator with job.id + 1 first, so agauss() and the
// like in a model section draw the same values for a point in any worker.
SimResult simulate(NgspiceLibrary& ngspice, const SimJob& job);

// What a worker keeps of the circuit ngspice holds between points (defined in
// worker.cc). With a cache, a point whose netlist differs from the last one
// only in top-level `.param NAME=NUMBER` values is not parsed again: `alter`
// of the independent sources those values feed (SimResult::altered), or else
// `alterparam` + `reset` from ngspice's stored deck, with bit-identical
// results (SimResult::reused). Anything else that differs is parsed in full.
// The worker loop uses one unless GAINCELL_CIRCUIT_REUSE=0; =reset allows no
// `alter` (docs/architecture.md).
struct CircuitCache;
SimResult simulate(NgspiceLibrary& ngspice, const SimJob& job, CircuitCache* cache);

// Extra ngspice init lines (a spec's or a cell card's "ngspice_init",
// docs/pdk.md): what a foundry PDK asks of spinit/.spiceinit, e.g.
// "set ngbehavior=hsa". Each line is checked against an allow-list: the
// compatibility modes, a few harmless variables, numerical `option`s and
// `optran`; never a line that runs a program or a script, loads code, reads or
// writes files, or changes what gaincell sets itself (num_threads, the seed).
struct InitLineCheck {
  std::string line;     // normalized (lower case, single spaces): what the worker gets
  std::string id;       // "" if allowed, else the error id (GC-1215 .. GC-1218)
  std::string message;  // why not (no location: the caller adds it)
  std::string hint;     // the allowed forms
  bool ok() const { return id.empty(); }
};
InitLineCheck check_init_line(const std::string& line);
// The allowed forms, for messages: "set ngbehavior=MODE, set ng_nomodcheck, ...".
std::string allowed_init_forms();

// The .spiceinit every worker gets in its private directory: gaincell's own
// lines (one thread, no prompts), then `extra` (normalized, already checked).
std::string worker_spiceinit(const std::vector<std::string>& extra = {});

}  // namespace gaincell::spice
