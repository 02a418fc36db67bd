// SPDX-License-Identifier: MIT
// File: gaincell/core/error.h
//
// The error model of gaincell. Three kinds of failure exist:
//  * bad user input (spec, template, CLI value): `InputError`, with a message
//    in gcc style "file:line:col: error GC-NNNN: what; expected ...";
//  * I/O failure (HDF5, files, pipes): `IoError`;
//  * programmer error: `GC_CHECK(cond) << "context"` aborts with file:line.
// A failing simulation point is *data* (see spice/outcome.h), never an exception.
//
//   try { auto spec = gaincell::sweep::load_spec("characterization/x.json"); }
//   catch (const gaincell::InputError& e) { std::cerr << e.what() << "\n"; }
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace gaincell {

// Process exit codes used by the CLI (STYLE §2.2).
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,
  kInput = 3,
  kPointsFailed = 4,
  kIo = 5,
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Bad user input. `id` is a unique "GC-NNNN" listed in docs/errors.md.
class InputError : public Error {
 public:
  InputError(std::string id, const std::string& message)
      : Error(message), id_(std::move(id)) {}
  const std::string& id() const { return id_; }

 private:
  std::string id_;
};

// Failure of the file system, HDF5, a pipe or a child process.
class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(message) {}
};

// Where in a file a problem sits; any field may be empty/zero.
struct SourceLocation {
  std::string file;
  int line = 0;         // 1-based, 0 = unknown
  int column = 0;       // 1-based, 0 = unknown
  std::string pointer;  // JSON Pointer, "" = none
};

// Formats "file:line:col: error GC-NNNN: [pointer: ]message[\n  hint: hint]".
std::string format_diagnostic(const SourceLocation& where, const std::string& id,
                              const std::string& message, const std::string& hint = "");

// Throws InputError with a formatted diagnostic.
[[noreturn]] void throw_input_error(const SourceLocation& where, const std::string& id,
                                    const std::string& message, const std::string& hint = "");

namespace detail {
// Collects a message and aborts in its destructor; see GC_CHECK.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  std::ostringstream stream_;
};
}  // namespace detail

}  // namespace gaincell

// Aborts with file:line and the streamed context when `cond` is false.
// For invariants only: never for user input.
#define GC_CHECK(cond) \
  if (cond) {          \
  } else               \
    ::gaincell::detail::CheckFailure(__FILE__, __LINE__, #cond)
