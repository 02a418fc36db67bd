// SPDX-License-Identifier: MIT
// File: gaincell/cell/card.h
//
// The cell card (`gaincell-cell/1`, docs/cells.md): the one file a designer
// writes beside a cell subcircuit. It names the subcircuit and its ports by
// role, the device models, the supplies and drive levels, the stored-voltage
// range, the pulse timing, the read scheme (a held line read by an
// integrator, or a precharged line left floating), the signedness (a signed
// cell around an offset, or an unsigned cell with a reference column or a
// differential pair) and the charge-to-pulse converter. Every sweep spec,
// tile, evaluator configuration and check of a flow derives from it
// (cell/derive.h), so a flow is about one cell and nothing else.
//
//   const CellCard card = load_card("mycell.cell.json");
//   std::cout << card.name << ": " << card.cell.name << " in " << card.cell.file << "\n";
#pragma once

#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gaincell::cell {

constexpr const char* kCardFormat = "gaincell-cell/1";

// How a cell's read line is read.
//  * held:       an integrator holds the line at line_v (its virtual ground) and
//                accumulates the charge the cells draw (the paper's readout).
//  * precharged: the line is precharged to line_v, then left floating on its
//                capacitance c_line_f while the cells read; the charge is
//                c_line (line_v - v_end), sensed after the read.
enum class ReadScheme { kHeld, kPrecharged };

// How the array forms a signed value from the cells.
//  * signed:           the cell itself sources or sinks current around offset_v (push-pull).
//  * reference_column: an unsigned cell; each line's charge minus that of a
//                      reference line whose cells store offset_v, read by the same pulses.
//  * differential:     an unsigned cell pair per value: one stores w, the other
//                      2 offset_v - w, on two lines; the charge is their difference.
enum class SignScheme { kSigned, kReferenceColumn, kDifferential };

// A subcircuit and how its ports are driven: each port is either bound to a
// role or held at a fixed level.
struct SubcktBinding {
  std::filesystem::path file;                 // absolute
  std::string name;                           // as in the .subckt line (lower case)
  std::vector<std::string> ports;             // lower case, in .subckt order
  std::map<std::string, std::string> role_port;  // role -> port
  std::map<std::string, double> fixed_v;      // port -> DC level, V
  std::vector<std::pair<std::string, std::string>> params;  // instance parameters, rendered as given (SI numbers)
  int line = 0;                               // of the .subckt line in file
  // The role a port takes ("" if fixed).
  std::string role_of(const std::string& port) const;
  bool has_role(const std::string& role) const { return role_port.count(role) != 0; }
  // The element line of an instance `instance_name` ("X1"): each port on the node
  // `role_node` gives its role, a fixed port on fixed_prefix + port; then the
  // subcircuit's name and the instance parameters.
  std::string instance(const std::string& instance_name, const std::map<std::string, std::string>& role_node,
                       const std::string& fixed_prefix) const;
};

struct CellCard {
  std::filesystem::path path;   // the card file (absolute)
  std::string text;             // its bytes
  std::string name;
  std::string description;

  SubcktBinding cell;           // roles: wbl wwl rd (required), wlr and/or wlrb, vdd
  std::string storage_node;     // internal node of the subcircuit ("" = not named)

  std::vector<std::filesystem::path> includes;  // model files, in order (absolute)
  std::filesystem::path lib_file;               // corner library ("" = none)
  std::string lib_section;
  // Extra ngspice init lines the models need (a foundry PDK's "set
  // ngbehavior=hsa", ...), checked by spice::check_init_line; every derived
  // spec carries them (docs/pdk.md).
  std::vector<std::string> ngspice_init;

  double vdd_v = 0.9;
  // Write: the write word line pulses to wwl_high_v from t_write_on_s to
  // t_write_off_s (edge starts) and otherwise holds wwl_hold_v; the write bit
  // line carries the stored value.
  double wwl_high_v = 1.6;
  double wwl_hold_v = 0.0;
  double t_write_on_s = 1e-9;
  double t_write_off_s = 5e-9;
  // Read: word lines idle/active; the PWM pulse starts at t_read_s; a query of
  // 1 is a pulse of t_max_s; pulse_levels query levels (the PWM DAC).
  double wlr_idle_v = 0.0;
  double wlr_active_v = 0.9;
  double wlrb_idle_v = 0.9;
  double wlrb_active_v = 0.0;
  double t_read_s = 8e-9;
  double t_max_s = 15e-9;
  double t_edge_s = 20e-12;
  int pulse_levels = 16;
  ReadScheme scheme = ReadScheme::kHeld;
  double line_v = 0.45;         // held level, or precharge level
  double c_line_f = 0.0;        // precharged: the line's capacitance (required then)
  // The line voltages the read-current sweep covers, V, and how many.
  double line_sweep_lo_v = 0.0, line_sweep_hi_v = 0.0;
  int line_sweep_points = 5;
  // Stored values: the write DAC's range and levels.
  double store_lo_v = 0.0;
  double store_hi_v = 0.9;
  int store_levels = 8;
  // Signedness.
  SignScheme sign = SignScheme::kSigned;
  double offset_v = 0.45;       // the stored value that means 0
  // Retention: hold time, what the write bit line does after the write, and
  // the ngspice options the leak needs (gmin, abstol <= 1e-18).
  double t_hold_s = 10e-3;
  double wbl_hold_v = 0.0;
  // The level the stored value decays toward, if known (e.g. 0 V for a leak to
  // ground): the retention fit then fixes it, and resolves time constants far
  // longer than the hold (OSFET cells). NaN: fitted with the time constant.
  double decay_toward_v = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<std::string, double>> retention_options{{"gmin", 1e-18}, {"abstol", 1e-18}};
  // Transient settings of the characterization sweeps.
  double t_step_s = 0.2e-9;
  std::vector<std::pair<std::string, double>> options{{"gmin", 1e-18}};

  // The charge-to-pulse converter (roles line ramp out vref rst, optional vdd):
  // it holds its line at vref, integrates the charge drawn from it and, after
  // the read, outputs a pulse while its swing exceeds a ramp rising from 0 to
  // ramp_top_v over t_max. q_sat_c is its design saturation charge (the
  // transfer sweep covers -q_sat .. 2 q_sat); the fit measures the real one.
  SubcktBinding converter;
  double ramp_top_v = 0.5;
  double q_sat_c = 1e-12;
  std::string pulse_node;       // internal node whose time above pulse_threshold_v is the pulse ("" = out port)
  double pulse_threshold_v = 0.45;

  // Derived.
  double t_stop_s() const { return t_read_s + t_max_s + 7e-9; }
  bool is_signed() const { return sign == SignScheme::kSigned; }
};

// Loads and validates a card and the subcircuits it names. Relative paths
// resolve beside the card, then in the source tree or the installed data
// directory. Throws InputError (GC-20xx, file:line:column and the JSON
// Pointer) or IoError.
CellCard load_card(const std::filesystem::path& path);
CellCard parse_card(std::string text, const std::filesystem::path& origin);

// Whether a JSON file declares itself a cell card ("format": "gaincell-cell/1").
bool is_card_file(const std::filesystem::path& path);

// The shipped default cell's card (netlists/cells/pushpull.cell.json).
std::filesystem::path default_card_path();

// Every file the card makes a circuit read: the card, the cell and converter
// subcircuits, the model files and whatever they include, each once.
std::vector<std::filesystem::path> card_files(const CellCard& card);
// The directories of the files the card names (itself, its models, corner
// library, cell and converter), each once: the include roots of every deck
// built from it (docs/templates.md, "Files a deck may read").
std::vector<std::filesystem::path> card_directories(const CellCard& card);

std::string to_string(ReadScheme scheme);
std::string to_string(SignScheme sign);

// A card's interface, readably (what `gaincell cell CARD` prints): the
// subcircuit, each port's role or level, the storage node, the read, the
// stored range and sign, the converter. Lines end in '\n'.
std::string describe(const CellCard& card);

}  // namespace gaincell::cell
