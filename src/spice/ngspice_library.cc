// SPDX-License-Identifier: MIT
#include "gaincell/spice/ngspice_library.h"

#include <dlfcn.h>
#include <ngspice/sharedspice.h>

#include <cstring>
#include <memory>

#include "gaincell/core/error.h"

namespace gaincell::spice {

struct NgspiceLibrary::Api {
  int (*init)(SendChar*, SendStat*, ControlledExit*, SendData*, SendInitData*, BGThreadRunning*,
              void*) = nullptr;
  int (*command)(char*) = nullptr;
  int (*circ)(char**) = nullptr;
  char* (*cur_plot)() = nullptr;
  char** (*all_vecs)(char*) = nullptr;
  pvector_info (*get_vec_info)(char*) = nullptr;
};

namespace {

int on_send_char(char* line, int /*id*/, void* self) {
  static_cast<NgspiceLibrary*>(self)->on_output(line);
  return 0;
}
int on_exit(int status, NG_BOOL /*immediate*/, NG_BOOL /*quit*/, int /*id*/, void* self) {
  static_cast<NgspiceLibrary*>(self)->on_controlled_exit(status);
  return 0;
}
// Must be non-NULL: shared_exit() calls it unconditionally after a fatal
// error in the background thread (ngspice-and-ecosystem.md §1.1).
int on_bg_thread(NG_BOOL /*exited*/, int /*id*/, void* /*self*/) { return 0; }

template <typename F>
F load_symbol(void* handle, const char* name, const std::string& path) {
  void* sym = ::dlsym(handle, name);
  if (sym == nullptr) throw IoError("libngspice " + path + " lacks symbol " + name);
  return reinterpret_cast<F>(sym);
}

}  // namespace

NgspiceLibrary::NgspiceLibrary(const std::string& library_path) {
  handle_ = ::dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = ::dlerror();
    throw IoError("cannot load libngspice from " + library_path + ": " + (why ? why : "unknown error"));
  }
  auto api = std::make_unique<Api>();
  api->init = load_symbol<decltype(api->init)>(handle_, "ngSpice_Init", library_path);
  api->command = load_symbol<decltype(api->command)>(handle_, "ngSpice_Command", library_path);
  api->circ = load_symbol<decltype(api->circ)>(handle_, "ngSpice_Circ", library_path);
  api->cur_plot = load_symbol<decltype(api->cur_plot)>(handle_, "ngSpice_CurPlot", library_path);
  api->all_vecs = load_symbol<decltype(api->all_vecs)>(handle_, "ngSpice_AllVecs", library_path);
  api->get_vec_info = load_symbol<decltype(api->get_vec_info)>(handle_, "ngGet_Vec_Info", library_path);
  api_ = std::move(api);
  // No SendStat: with a null one ngspice skips its progress reports, which
  // otherwise cost every time step an ftime() call and string formatting
  // (2-3 % of a transient; bench/engine_bench.sh). Nothing here reads them.
  api_->init(on_send_char, nullptr, on_exit, nullptr, nullptr, on_bg_thread, this);
  if (poisoned_) throw IoError("libngspice failed to initialise: " + (log_.empty() ? "" : log_.back()));

  // remcirc fails when no circuit was ever loaded (KiCad does the same), so
  // start with an empty one.
  std::vector<std::string> dummy = {"gaincell start-up", ".end"};
  load_circuit(dummy);
  log_.clear();
  command("version");
  for (const auto& l : log_) {
    const auto pos = l.find("ngspice-");
    if (pos != std::string::npos) {
      version_ = l.substr(pos);
      while (!version_.empty() && (version_.back() == ' ' || version_.back() == ':')) version_.pop_back();
      const auto space = version_.find(' ');
      if (space != std::string::npos) version_ = version_.substr(0, space);
      break;
    }
  }
  if (version_.empty()) version_ = "ngspice-unknown";
  log_.clear();
}

NgspiceLibrary::~NgspiceLibrary() {
  // No dlclose: ngspice registers atexit handlers and threads; unloading it
  // in a process that is about to exit only invites crashes.
}

int NgspiceLibrary::command(const std::string& cmd) {
  // ngSpice_Command copies at most 1024 chars and takes a non-const char*.
  std::vector<char> buffer(cmd.begin(), cmd.end());
  buffer.push_back('\0');
  return api_->command(buffer.data());
}

void NgspiceLibrary::clear_history() { api_->command(nullptr); }

int NgspiceLibrary::load_circuit(const std::vector<std::string>& lines) {
  std::vector<std::vector<char>> storage;
  storage.reserve(lines.size());
  std::vector<char*> pointers;
  pointers.reserve(lines.size() + 1);
  for (const auto& l : lines) {
    storage.emplace_back(l.begin(), l.end());
    storage.back().push_back('\0');
    pointers.push_back(storage.back().data());
  }
  pointers.push_back(nullptr);
  return api_->circ(pointers.data());
}

std::string NgspiceLibrary::current_plot() {
  const char* p = api_->cur_plot();
  return p == nullptr ? std::string() : std::string(p);
}

std::optional<std::vector<double>> NgspiceLibrary::vector(const std::string& name) {
  std::vector<std::string> candidates = {name};
  if (name.size() > 3 && name.back() == ')') {
    const std::string inner = name.substr(2, name.size() - 3);
    if ((name[0] == 'v' || name[0] == 'V') && name[1] == '(') candidates.push_back(inner);
    if ((name[0] == 'i' || name[0] == 'I') && name[1] == '(') candidates.push_back(inner + "#branch");
  }
  for (const auto& c : candidates) {
    std::vector<char> buffer(c.begin(), c.end());
    buffer.push_back('\0');
    // The returned struct is static and points into ngspice's memory: copy now.
    pvector_info info = api_->get_vec_info(buffer.data());
    if (info == nullptr) continue;
    if (info->v_realdata == nullptr || info->v_length < 0) continue;
    return std::vector<double>(info->v_realdata, info->v_realdata + info->v_length);
  }
  return std::nullopt;
}

std::vector<std::string> NgspiceLibrary::vector_names() {
  std::vector<std::string> names;
  std::string plot = current_plot();
  std::vector<char> buffer(plot.begin(), plot.end());
  buffer.push_back('\0');
  char** vecs = api_->all_vecs(buffer.data());
  for (int i = 0; vecs != nullptr && vecs[i] != nullptr; ++i) names.emplace_back(vecs[i]);
  return names;
}

std::vector<std::string> NgspiceLibrary::take_log() {
  std::vector<std::string> out;
  out.swap(log_);
  return out;
}

void NgspiceLibrary::on_output(const char* line) { log_.emplace_back(line == nullptr ? "" : line); }

void NgspiceLibrary::on_controlled_exit(int status) {
  poisoned_ = true;
  log_.push_back("stderr gaincell: libngspice requested ControlledExit with status " +
                 std::to_string(status));
}

}  // namespace gaincell::spice
