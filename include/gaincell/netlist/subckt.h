// SPDX-License-Identifier: MIT
// File: gaincell/netlist/subckt.h
//
// The interface of the subcircuits a SPICE file defines: each `.subckt NAME
// PORT ... [params: k=v ...]` line (with `+` continuation lines), names lower
// case as ngspice sees them.
//
//   for (const auto& s : netlist::read_subckts("netlists/cells/gc3t.sub"))
//     std::cout << s.name << ": " << s.ports.size() << " ports\n";
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gaincell::netlist {

struct SubcktHeader {
  std::string name;                 // lower case
  std::vector<std::string> ports;   // lower case, in order
  std::vector<std::string> params;  // names of its parameters (after params: or name=value)
  // Nodes its element lines connect that are not ports (lower case, sorted):
  // what `x1.<node>` can name from outside.
  std::vector<std::string> internal_nodes;
  // Its elements with a branch current (V, E, H, L): what `i(x1.<name>)` reads.
  std::vector<std::string> branch_elements;
  int line = 0;                     // 1-based line of the .subckt card
};

// Every top-level subcircuit defined in `file` (not in files it includes).
// Throws IoError if the file cannot be read.
std::vector<SubcktHeader> read_subckts(const std::filesystem::path& file);
// The same from text (`origin` names it in nothing; for templates in memory).
std::vector<SubcktHeader> parse_subckts(const std::string& text);

// Vector names a netlist's circuit offers, as a measure writes them: v(node)
// and i(source) at the top level, v(x1.node) and i(x1.source) one subcircuit
// deep (definitions from the text and the given files). Read from the text,
// not simulated: for suggestions, not as proof that a vector is absent.
std::vector<std::string> circuit_vector_names(const std::string& text, const std::vector<std::filesystem::path>& files);

}  // namespace gaincell::netlist
