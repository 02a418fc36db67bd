// SPDX-License-Identifier: MIT
// Shared by the fuzz targets (libFuzzer entry points, docs/fuzzing.md): what
// counts as a finding. A reader may refuse an input only with gaincell's own
// errors (InputError, IoError: a message naming the file and place); any
// other exception, a crash, a sanitizer report or a hang is a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "gaincell/core/error.h"

namespace gaincell::fuzz {

// The fixtures directory (templates the spec target's seeds name).
inline std::filesystem::path fixtures() { return GAINCELL_FUZZ_FIXTURES; }

// Runs `body`; expected refusals return, anything else aborts (a finding).
template <typename F>
void expect_clean(F body) {
  try {
    body();
  } catch (const InputError&) {
  } catch (const IoError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: unexpected exception: %s\n", e.what());
    std::abort();
  }
}

// A private scratch directory for this process (created once).
std::filesystem::path scratch();

}  // namespace gaincell::fuzz
