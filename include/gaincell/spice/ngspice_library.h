// SPDX-License-Identifier: MIT
// File: gaincell/spice/ngspice_library.h
//
// libngspice, loaded with dlopen, inside one worker process. ngspice keeps
// process-global state, is not re-entrant and may poison itself
// (ControlledExit), so exactly one of these exists per worker process and it
// is never shared between threads. It cannot be copied or moved: ngspice's
// callbacks hold `this`. After `is_poisoned()` the worker must exit and be
// replaced; calling into the library again is undefined.
//
//   NgspiceLibrary ng(build_info().ngspice_path);      // dlopen + ngSpice_Init
//   ng.load_circuit(lines);  ng.command("run");
//   auto t = ng.vector("time");                        // copied out at once
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gaincell::spice {

class NgspiceLibrary {
 public:
  // dlopens `library_path` and initialises it in the current directory (which
  // must hold the toolkit's .spiceinit). Throws IoError on failure.
  explicit NgspiceLibrary(const std::string& library_path);
  ~NgspiceLibrary();
  NgspiceLibrary(const NgspiceLibrary&) = delete;
  NgspiceLibrary& operator=(const NgspiceLibrary&) = delete;
  NgspiceLibrary(NgspiceLibrary&&) = delete;
  NgspiceLibrary& operator=(NgspiceLibrary&&) = delete;

  // ngSpice_Command; returns its status (which is 0 even for most failures).
  int command(const std::string& command);
  // ngSpice_Command(NULL): frees the command history (the manual advises it
  // every ~10k commands).
  void clear_history();
  // ngSpice_Circ on the given lines (title first, .end last); returns its status.
  int load_circuit(const std::vector<std::string>& lines);
  // Name of the current plot ("const" when there is none).
  std::string current_plot();
  // A copy of a real vector of the current plot; also tries ngspice's aliases
  // ("v(x)" -> "x", "i(vx)" -> "vx#branch"). std::nullopt if absent.
  std::optional<std::vector<double>> vector(const std::string& name);
  // Names of the vectors in the current plot.
  std::vector<std::string> vector_names();
  // Every line ngspice printed since the last call, prefixed "stdout "/"stderr ".
  std::vector<std::string> take_log();
  bool is_poisoned() const { return poisoned_; }
  // "ngspice-39" or similar, from the `version` command at start-up.
  const std::string& version() const { return version_; }

  // Called by the C callbacks; not for users.
  void on_output(const char* line);
  void on_controlled_exit(int status);

 private:
  struct Api;
  void* handle_ = nullptr;
  std::unique_ptr<Api> api_;  // the C function table, kept out of this header
  std::vector<std::string> log_;
  bool poisoned_ = false;
  std::string version_;
};

}  // namespace gaincell::spice
