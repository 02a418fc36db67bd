// SPDX-License-Identifier: MIT
#include "gaincell/core/error.h"

#include <cstdio>
#include <cstdlib>

namespace gaincell {

std::string format_diagnostic(const SourceLocation& where, const std::string& id,
                              const std::string& message, const std::string& hint) {
  std::string out;
  if (!where.file.empty()) {
    out += where.file;
    if (where.line > 0) {
      out += ":" + std::to_string(where.line);
      if (where.column > 0) out += ":" + std::to_string(where.column);
    }
    out += ": ";
  }
  out += "error " + id + ": ";
  if (!where.pointer.empty()) out += where.pointer + ": ";
  out += message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

void throw_input_error(const SourceLocation& where, const std::string& id,
                       const std::string& message, const std::string& hint) {
  throw InputError(id, format_diagnostic(where, id, message, hint));
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
