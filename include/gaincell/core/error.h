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
#include <string_view>

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

// Where in a file a problem sits; any field may be empty/zero.
struct SourceLocation {
  std::string file;
  int line = 0;         // 1-based, 0 = unknown
  int column = 0;       // 1-based, 0 = unknown (a CSV field's number for CSV files)
  std::string pointer;  // JSON Pointer, "" = none
};

// Bad user input: the one way to raise it. `id` is a unique "GC-NNNN" listed
// in docs/errors.md, written once; `message` says what is wrong and what was
// expected, without the id; `hint` (optional) how to fix it. The place is
// added where the file is read, once:
//
//   throw InputError("GC-1608", "expected a number, found string").at_pointer("/inputs/0/min");
//   ...
//   catch (const InputError& e) { throw e.in_file(path, text); }   // adds file:line:col
//
// what() is the diagnostic "file:line:col: error GC-NNNN: /pointer: message\n  hint: hint".
class InputError : public Error {
 public:
  InputError(std::string id, std::string message, std::string hint = {}, SourceLocation where = {});

  const std::string& id() const { return id_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  const SourceLocation& where() const { return where_; }

  // This error placed at `where`: each field of `where` fills the same field
  // of this error's location where that is still empty/zero.
  InputError at(const SourceLocation& where) const;
  // This error placed at a JSON Pointer (or a named entry: "ngspice_init[2]").
  InputError at_pointer(const std::string& pointer) const { return at({"", 0, 0, pointer}); }
  // This error placed in `file`; with the file's `text`, a JSON Pointer the
  // error carries becomes the line and column it designates.
  InputError in_file(const std::string& file, std::string_view text = {}) const;

 private:
  std::string id_;
  std::string message_;
  std::string hint_;
  SourceLocation where_;
};

// Failure of the file system, HDF5, a pipe or a child process.
class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(message) {}
};

// Formats "file:line:col: error GC-NNNN: [pointer: ]message[\n  hint: hint]".
std::string format_diagnostic(const SourceLocation& where, const std::string& id,
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
