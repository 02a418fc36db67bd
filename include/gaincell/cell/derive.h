// SPDX-License-Identifier: MIT
// File: gaincell/cell/derive.h
//
// Everything a flow sweeps, derived from one cell card: a single-cell
// testbench template (the card's subcircuit with a source per role, the read
// line held or precharged as the card says), a converter testbench template,
// and a sweep spec per characterization role. The files run as they are under
// `gaincell sweep` and `ngspice -b`; they name the card they came from.
//
//   const CellCard card = load_card("my.cell.json");
//   const DerivedSet set = write_derived(card, "out/derived");
//   // set.specs.at(Role::kMultiply) is out/derived/multiply.json
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/cell/card.h"

namespace gaincell::cell {

// The characterization sweeps of a flow.
enum class Role { kMultiply, kReadCurrent, kRetention, kEnergy, kConverter };
const std::vector<Role>& all_roles();
std::string role_name(Role role);  // "multiply", "read_current", "retention", "energy", "c2p"

// What a role's sweep must provide to the flow's fits: axes and measures.
struct RoleNeeds {
  std::vector<std::string> axes;
  std::vector<std::string> measures;
};
RoleNeeds role_needs(Role role);

// The single-cell testbench (a gaincell template; runs with ngspice -b).
std::string render_cell_template(const CellCard& card);
// The converter testbench: a charge q_in drawn from its line over t_max, then
// the ramp compare, with the tile's timing.
std::string render_converter_template(const CellCard& card);

// The sweep spec of a role (gaincell-spec/1); `template_ref` is written as
// the spec's "template" (relative to the spec file). Throws InputError
// GC-2010 when the card cannot give the role (retention without a storage node).
nlohmann::ordered_json derive_spec(const CellCard& card, Role role, const std::string& template_ref);

struct DerivedSet {
  std::filesystem::path cell_template;
  std::filesystem::path converter_template;
  std::map<Role, std::filesystem::path> specs;
  std::map<Role, std::string> unavailable;  // role -> why it cannot be derived
};
// Writes the templates and every derivable spec into `dir`.
DerivedSet write_derived(const CellCard& card, const std::filesystem::path& dir);
// What was derived, one file a line, and why a role was not.
std::string describe(const DerivedSet& set);

// The DAC levels of the stored value and of the query pulse width.
std::vector<double> store_levels(const CellCard& card);
std::vector<double> pulse_levels(const CellCard& card);

}  // namespace gaincell::cell
