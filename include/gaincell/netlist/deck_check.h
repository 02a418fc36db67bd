// SPDX-License-Identifier: MIT
// File: gaincell/netlist/deck_check.h
//
// What a deck may read before ngspice sees it. A netlist is data: gaincell
// drives ngspice itself, so no file a deck reads (the template, every
// .include/.lib file, recursively) may hold a script entry point, and every
// file must lie under an include root. See docs/templates.md ("Files a deck
// may read").
//
//   const auto roots = gaincell::netlist::include_roots({spec_dir});
//   gaincell::netlist::check_deck(text, "tile.cir", roots);  // throws GC-1103, GC-1108, GC-1111
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gaincell::netlist {

// Throws InputError GC-1103 (file:line) if `text` holds a line ngspice would
// run as a command: a `.control`/`.endc` block, a `*#` command line, a line
// whose first word is `shell`, or a first line starting `*ng_script` (which
// makes the whole file a script).
void check_script_free(std::string_view text, const std::string& file);

// What an `.include FILE`, `.inc FILE` or `.lib ...` line names.
struct IncludeLine {
  std::string word;           // ".include", ".inc" or ".lib" (lower case)
  std::string target;         // the first word after it, quotes removed ("" if none)
  std::string tail;           // the rest of the line, as written (a .lib's section)
  bool unterminated = false;  // the target opens a quote that never closes
  // A `.lib FILE SECTION` line reads FILE; `.lib NAME` opens a section.
  bool reads_file() const { return !unterminated && !target.empty() && (word != ".lib" || !trim_tail().empty()); }
  std::string trim_tail() const;
};
// The include line `raw` is, or nothing for any other line.
std::optional<IncludeLine> parse_include_line(std::string_view raw);

// A path as ngspice reads it from an include line: a leading ~ is $HOME.
std::filesystem::path expand_home(const std::string& target);

// The directories a deck may read files from, canonical and each once:
// `given` (e.g. the template's directory, a spec's include_roots), the
// shipped netlists (source tree and installed data directory) and every
// directory of the GAINCELL_INCLUDE_PATH environment variable (':'-separated).
std::vector<std::filesystem::path> include_roots(const std::vector<std::filesystem::path>& given);

// One file a deck reads and the line that names it.
struct IncludedFile {
  std::filesystem::path file;  // as resolved (lexically normal)
  std::filesystem::path from;  // the file whose line names it
  int line = 0;
  bool exists = false;         // a regular file
};

// Every file `text` reads through .include/.inc/.lib FILE SECTION lines,
// directly or nested, each once, in first-use order. A relative path is
// resolved beside the file that names it, else beside `origin` (ngspice 39
// resolves some relative .lib paths against the top deck).
std::vector<IncludedFile> included_files(std::string_view text, const std::filesystem::path& origin);

// Checks every file `text` (named `origin`) reads: each exists and is a
// regular file (GC-1108), lies under one of `roots` (GC-1111), and is free of
// script entry points (GC-1103). `text` itself is checked for scripts too.
// Errors name the file and line that reads the offending file.
void check_deck(std::string_view text, const std::filesystem::path& origin,
                const std::vector<std::filesystem::path>& roots);

}  // namespace gaincell::netlist
