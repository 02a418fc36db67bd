// SPDX-License-Identifier: MIT
#include "gaincell/core/error.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "gaincell/core/json_location.h"

namespace gaincell {

std::string format_diagnostic(const SourceLocation& where, const std::string& id,
                              const std::string& message, const std::string& hint) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    // Appended piece by piece: gcc 12's -Wrestrict misreads ":" + std::to_string(n) (gcc PR 105329).
    if (where.line > 0) {
      out += ':';
      out += std::to_string(where.line);
      if (where.column > 0) {
        out += ':';
        out += std::to_string(where.column);
      }
    }
    out += ": ";
  }
  out += "error " + id + ": ";
  if (!where.pointer.empty()) out += where.pointer + ": ";
  out += message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

InputError::InputError(std::string id, std::string message, std::string hint, SourceLocation where)
    : Error(format_diagnostic(where, id, message, hint)),
      id_(std::move(id)),
      message_(std::move(message)),
      hint_(std::move(hint)),
      where_(std::move(where)) {}

InputError InputError::at(const SourceLocation& where) const {
  SourceLocation merged = where_;
  if (merged.file.empty()) merged.file = where.file;
  if (merged.line == 0) {
    merged.line = where.line;
    if (merged.column == 0) merged.column = where.column;
  }
  if (merged.pointer.empty()) merged.pointer = where.pointer;
  return InputError(id_, message_, hint_, std::move(merged));
}

InputError InputError::in_file(const std::string& file, std::string_view text) const {
  SourceLocation place{file, 0, 0, ""};
  if (!text.empty() && !where_.pointer.empty() && where_.line == 0) {
    const auto [line, column] = locate_json_pointer(text, where_.pointer);
    place.line = line;
    place.column = column;
  }
  return at(place);
}

namespace detail {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  stream_ << file << ":" << line << ": internal error: check failed: " << condition << " ";
}

CheckFailure::~CheckFailure() {
  std::fprintf(stderr, "%s\n", stream_.str().c_str());
  std::abort();
}

}  // namespace detail
}  // namespace gaincell
