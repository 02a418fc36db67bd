// SPDX-License-Identifier: MIT
// File: src/spice/raw_file.h (private: the tests' check against `ngspice -b -r`;
// not installed)
//
// Reader for ngspice rawfiles: the files written by `ngspice -b x.cir -r x.raw`
// (binary by default, ASCII after `set filetype=ascii` in a .control block)
// and by the interactive `write` command. A file holds one or more plots
// (e.g. "Operating Point" followed by "Transient Analysis"); each plot is a
// text header (Title, Date, Plotname, Flags, No. Variables, No. Points,
// optional Dimensions/Command/Option lines, Variables) followed by either
// `Binary:` and little-endian doubles, point-major (for each point, each
// variable; two doubles re,im per value if Flags says complex), or `Values:`
// and text ("<point index> <value>..." with "re,im" pairs when complex).
//
// Checked against ngspice 39.3 (Debian 12) for: `-b -r` binary and ASCII,
// `write` binary and ASCII, real (op, tran) and complex (ac) plots, with and
// without `.save`, with and without `set keep#branch`. Vector names as
// written by 39.3: node voltages "v(out)" (never the bare "out"), branch
// currents "i(v1)" by default and "v1#branch" after `set keep#branch`,
// `let` vectors by their own name with type "notype". Not supported:
// "Flags: unpadded" (vectors of unequal length, `set nopadding`).
//
//   auto plots = gaincell::spice::read_raw_file("run/x.raw");
//   const auto& tran = plots.back();                    // "Transient Analysis"
//   const auto& t = tran.vector("time");
//   const auto& v = tran.vector("v(rbl)");              // also finds "rbl"
//   const auto& i = tran.vector("i(vdd)");              // also finds "vdd#branch"
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace gaincell::spice {

struct RawPlot {
  std::string title, date, plot_name;  // e.g. plot_name "Transient Analysis"
  bool is_complex = false;
  std::vector<std::string> names;   // as written, e.g. "time", "v(rbl)", "i(vdd)" or "vdd#branch"
  std::vector<std::string> types;   // "time", "voltage", "current", "frequency", "notype", ...
  std::vector<std::vector<double>> columns;  // real part, one per variable, each of length point count
  std::vector<std::vector<double>> imag_columns;  // imaginary part if is_complex, else empty

  // Number of points (the length of every column).
  std::size_t point_count() const { return columns.empty() ? 0 : columns.front().size(); }

  // Finds a vector (its real part) by name, case-insensitively, also
  // accepting ngspice's aliases: "v(x)" and "x" match each other, "i(vx)" and
  // "vx#branch" match each other. An exact (case-insensitive) match wins over
  // an alias; among equals the first in file order wins.
  // Throws InputError GC-1402 naming the missing vector and the plot, and
  // listing the available ones:
  //   error GC-1402: vector "v(foo)" not found in plot "Transient Analysis";
  //   available: time, v(out), i(v1)
  const std::vector<double>& vector(std::string_view name) const;
  bool has_vector(std::string_view name) const;
  // Index of the vector in names/columns, or -1; same matching as vector().
  int find_vector(std::string_view name) const;
};

// Reads every plot in the file, in file order.
// Throws IoError if the file cannot be opened or read, InputError GC-1401 for
// malformed content, located by file and line for header and ASCII-value
// errors, e.g.
//   out.raw:6: error GC-1401: expected "No. Points: <count>", found "No. Pointz: 3"
// and by byte offset for binary data, e.g.
//   out.raw: error GC-1401: truncated binary data in plot "Transient Analysis":
//   expected 72 bytes (3 points x 3 variables x 8 bytes) at byte offset 193, found 50
// Header lines after binary data are reported by byte offset too, since line
// numbers mean nothing inside binary data.
std::vector<RawPlot> read_raw_file(const std::filesystem::path& path);

// Parses rawfile content already in memory; `origin` names it in diagnostics.
std::vector<RawPlot> parse_raw(std::string_view content, const std::string& origin);

}  // namespace gaincell::spice
