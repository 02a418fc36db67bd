// SPDX-License-Identifier: MIT
#include "gaincell/cell/derive.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <tuple>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/si_value.h"

namespace gaincell::cell {
namespace {

namespace fs = std::filesystem;
using gaincell::format_exact;
using ojson = nlohmann::ordered_json;

std::string n(double x) { return format_exact(x); }

// Times of the protocol (the tile uses the same ones: tile/tile.h).
double t_release(const CellCard& c) { return c.t_read_s - 1e-9; }          // precharge / integrator reset released
double t_read_window(const CellCard& c) { return c.t_read_s - 0.5e-9; }    // charge counted from here
double t_wbl_off(const CellCard& c) { return c.t_write_off_s + c.t_edge_s + 0.5e-9; }
double t_compare(const CellCard& c) { return c.t_read_s + c.t_max_s + 2e-9; }

std::string header(const CellCard& c, const std::string& what) {
  std::ostringstream o;
  o << "* gaincell template: " << what << ", derived from the cell card " << c.path.string() << "\n";
  o << "* card sha256 " << sha256_hex(c.text) << "; gaincell " << build_info().version << "\n";
  o << "* Do not edit: change the card and derive again (gaincell cell CARD -o DIR).\n";
  if (!c.ngspice_init.empty()) {
    o << "* Its models need these lines in .spiceinit (the card's models.ngspice_init; gaincell's workers get them):\n";
    for (const auto& l : c.ngspice_init) o << "*   " << l << "\n";
  }
  return o.str();
}

std::string model_lines(const CellCard& c) {
  std::string out;
  // A corner library first: ngspice keeps the first definition of a model name.
  if (!c.lib_file.empty()) out += ".lib \"" + c.lib_file.string() + "\" " + c.lib_section + "\n";
  for (const auto& inc : c.includes) out += ".include \"" + inc.string() + "\"\n";
  return out;
}

std::string fixed_sources(const SubcktBinding& b, const std::string& prefix) {
  std::string out;
  for (const auto& [port, level] : b.fixed_v) out += "V" + prefix + port + " " + prefix + port + " 0 " + n(level) + "\n";
  return out;
}

// In a testbench each role's node is named like the role.
std::map<std::string, std::string> nodes_by_role(const SubcktBinding& b) {
  std::map<std::string, std::string> nodes;
  for (const auto& [role, port] : b.role_port) nodes[role] = role;
  return nodes;
}

// A testbench template: what both of a card's testbenches are made of.
struct Param {
  const char* name;
  double value;
  const char* unit;
  const char* doc;
};
struct Testbench {
  std::string title;
  std::string what;                   // for the header
  const SubcktBinding* dut = nullptr;
  std::string fixed_prefix;           // of the nodes of its fixed ports
  std::string description{};          // comment lines
  std::vector<Param> params{};        // overridable
  std::vector<std::string> derived{};  // .param lines that are not
  std::string sources{};               // one per role
  std::string read_line{};             // what holds the line, before the instance
  std::string analysis{};              // the default analysis and measures
};

// The supply and timing parameters of both testbenches.
std::vector<Param> supply_and_timing(const CellCard& c, const char* t_read_doc, bool with_t_max) {
  std::vector<Param> p = {{"vdd", c.vdd_v, "V", "supply"}, {"t_read", c.t_read_s, "s", t_read_doc}};
  if (with_t_max) p.push_back({"t_max", c.t_max_s, "s", "length of the read window and of the ramp"});
  p.push_back({"t_edge", c.t_edge_s, "s", "rise and fall time of every edge"});
  return p;
}

std::string render_testbench(const CellCard& c, const Testbench& tb) {
  std::ostringstream o;
  o << tb.title << "\n" << header(c, tb.what) << tb.description << model_lines(c);
  o << ".include \"" << tb.dut->file.string() << "\"\n";
  o << "*\n* ---- overridable parameters ----\n";
  for (const Param& p : tb.params) o << ".param " << p.name << "=" << n(p.value) << " $ [" << p.unit << "] " << p.doc << "\n";
  o << "*\n* ---- derived values (not overridable) ----\n";
  for (const auto& d : tb.derived) o << d << "\n";
  o << tb.sources << fixed_sources(*tb.dut, tb.fixed_prefix) << tb.read_line;
  o << tb.dut->instance("X1", nodes_by_role(*tb.dut), tb.fixed_prefix) << "\n";
  o << "*\n* ---- default analysis (gaincell replaces it) ----\n" << tb.analysis << ".end\n";
  return o.str();
}

ojson measure(const std::string& name, const std::string& kind, const std::string& unit, const std::string& description) {
  return ojson{{"name", name}, {"kind", kind}, {"unit", unit}, {"description", description}};
}

ojson energy(const std::string& name, const std::string& node, const std::string& source, const ojson& from,
             const ojson& to, const std::string& description) {
  ojson m = measure(name, "energy", "J", description);
  m["voltage"] = "v(" + node + ")";
  m["current"] = "i(" + source + ")";
  m["from"] = from;
  m["to"] = to;
  return m;
}

std::string sn_vector(const CellCard& c) { return "v(x1." + c.storage_node + ")"; }

ojson axis(const std::string& param, const std::vector<double>& values) {
  ojson v = ojson::array();
  for (double x : values) v.push_back(x);
  return ojson{{"param", param}, {"values", v}};
}

std::vector<double> linspace(double lo, double hi, int count) {
  std::vector<double> v;
  for (int k = 0; k < count; ++k) v.push_back(k + 1 == count ? hi : lo + (hi - lo) * k / (count - 1));
  return v;
}

// The stored-voltage grid of the read-current sweep: about 50 mV steps.
std::vector<double> current_grid(const CellCard& c) {
  const int count = std::clamp(static_cast<int>(std::lround((c.store_hi_v - c.store_lo_v) / 0.05)) + 1, 9, 61);
  return linspace(c.store_lo_v, c.store_hi_v, count);
}

}  // namespace

const std::vector<Role>& all_roles() {
  static const std::vector<Role> r = {Role::kMultiply, Role::kReadCurrent, Role::kRetention, Role::kEnergy, Role::kConverter};
  return r;
}

std::string role_name(Role role) {
  switch (role) {
    case Role::kMultiply: return "multiply";
    case Role::kReadCurrent: return "read_current";
    case Role::kRetention: return "retention";
    case Role::kEnergy: return "energy";
    case Role::kConverter: return "c2p";
  }
  return "?";
}

RoleNeeds role_needs(Role role) {
  switch (role) {
    case Role::kMultiply: return {{"v_store", "t_pulse"}, {"q_line_c"}};
    case Role::kReadCurrent: return {{"v_store", "v_line"}, {"i_read_a"}};
    case Role::kRetention: return {{"v_store"}, {"v_sn_trace_v"}};
    case Role::kEnergy:
      return {{"t_pulse"}, {"e_read_vdd_j", "e_read_wlr_j", "e_read_wlrb_j", "e_write_wwl_j", "e_write_wbl_j", "e_write_vdd_j"}};
    case Role::kConverter: return {{"q_in"}, {"pw_s"}};
  }
  return {};
}

std::vector<double> store_levels(const CellCard& c) { return linspace(c.store_lo_v, c.store_hi_v, c.store_levels); }
std::vector<double> pulse_levels(const CellCard& c) { return linspace(0.0, c.t_max_s, c.pulse_levels); }

namespace {

std::string cell_description(const CellCard& c) {
  std::ostringstream o;
  o << "* Cell: subcircuit " << c.cell.name << " of " << c.cell.file.string() << " (line " << c.cell.line
    << "), instance X1";
  if (!c.storage_node.empty()) o << ", storage node x1." << c.storage_node;
  o << ".\n* Read scheme: " << to_string(c.scheme) << " at " << n(c.line_v) << " V";
  if (c.scheme == ReadScheme::kHeld) {
    o << " (the sweeps set c_line = 1u: the line stays at v_line, as an integrator holds it)";
  } else {
    o << ": precharged to v_line until " << n(t_release(c)) << " s, then floating on c_line";
  }
  o << ".\n* Sign: " << to_string(c.sign) << " around " << n(c.offset_v) << " V.\n";
  o << "* Measured: i(vsense) is the current from the read line into the cell's read port.\n";
  return o.str();
}

// The sources of the cell's roles.
std::string cell_sources(const CellCard& c) {
  const double e = c.t_edge_s;
  std::ostringstream o;
  o << "*\n* ---- sources: one per role ----\n";
  o << "VDD vdd 0 {vdd}\n";
  o << "VWWL wwl 0 PWL(0 " << n(c.wwl_hold_v) << " " << n(c.t_write_on_s) << " " << n(c.wwl_hold_v) << " "
    << n(c.t_write_on_s + e) << " " << n(c.wwl_high_v) << " " << n(c.t_write_off_s) << " " << n(c.wwl_high_v) << " "
    << n(c.t_write_off_s + e) << " " << n(c.wwl_hold_v) << ")\n";
  o << "VWBL wbl 0 PWL(0 {v_store} " << n(t_wbl_off(c)) << " {v_store} " << n(t_wbl_off(c) + e) << " {wbl_after})\n";
  o << "VWLR wlr 0 PULSE(" << n(c.wlr_idle_v) << " {wlr_on} {t_read} {t_rise} {t_rise} {pw_flat} 1)\n";
  o << "VWLRB wlrb 0 PULSE(" << n(c.wlrb_idle_v) << " {wlrb_on} {t_read} {t_rise} {t_rise} {pw_flat} 1)\n";
  return o.str();
}

// The read line: precharge switch, capacitance, ammeter.
std::string cell_read_line(const CellCard& c) {
  return "*\n* ---- read line: precharge switch, capacitance, ammeter ----\n"
         "VPRE vpre 0 {v_line}\n"
         "VPREEN pre_en 0 PWL(0 {vdd} " + n(t_release(c)) + " {vdd} " + n(t_release(c) + c.t_edge_s) + " 0)\n"
         "SPRE line vpre pre_en 0 swpre\n"
         ".model swpre sw vt=" + n(0.5 * c.vdd_v) + " vh=0 ron=10 roff=1e18\n"
         "CLINE line 0 {c_line}\n"
         "VSENSE line rd 0\n"
         "*\n* ---- the cell ----\n";
}

std::string cell_analysis(const CellCard& c) {
  std::string out = ".options gmin=1e-18\n.tran " + n(c.t_step_s) + " " + n(c.t_stop_s()) + "\n";
  out += ".meas tran q_line integ i(vsense) from=" + n(t_read_window(c)) + " to=" + n(c.t_stop_s()) + "\n";
  if (!c.storage_node.empty()) out += ".meas tran v_sn_read find " + sn_vector(c) + " at=" + n(c.t_read_s - 0.1e-9) + "\n";
  return out;
}

std::string converter_description(const CellCard& c) {
  std::ostringstream o;
  o << "* Converter: subcircuit " << c.converter.name << " of " << c.converter.file.string() << " (line "
    << c.converter.line << "), instance X1. Its line is held at vref = " << n(c.line_v) << " V (the cell's line level);\n";
  o << "* the current source IQ draws q_in from it over t_max from t_read (as a read does); the reset opens at "
    << n(t_release(c)) << " s;\n* the ramp rises from 0 to " << n(c.ramp_top_v) << " V over t_max from " << n(t_compare(c))
    << " s (the tile's timing, docs/tiles.md).\n";
  return o.str();
}

std::string converter_sources(const CellCard& c) {
  const double e = c.t_edge_s, tc = t_compare(c);
  std::ostringstream o;
  o << "*\n* ---- sources ----\n";
  o << "VDD vdd 0 {vdd}\n";
  o << "VREF vref 0 " << n(c.line_v) << "\n";
  o << "VRST rst 0 PWL(0 {vdd} " << n(t_release(c)) << " {vdd} " << n(t_release(c) + e) << " 0)\n";
  o << "VRAMP ramp 0 PWL(0 10 " << n(tc) << " 10 " << n(tc + e) << " 0 " << n(tc + c.t_max_s) << " " << n(c.ramp_top_v)
    << " " << n(tc + c.t_max_s + e) << " 10)\n";
  o << "IQ line 0 PULSE(0 {i_q} {t_read} {t_edge} {t_edge} {q_flat} 1)\n";
  return o.str();
}

std::string converter_analysis(const CellCard& c) {
  const std::string half = n(0.5 * c.vdd_v);
  return ".tran " + n(c.t_step_s) + " " + n(t_compare(c) + c.t_max_s + 2e-9) + " 0 10p\n.meas tran t_up when v(out)=" + half +
         " rise=1\n.meas tran t_down when v(out)=" + half + " fall=1\n";
}

}  // namespace

std::string render_cell_template(const CellCard& c) {
  Testbench tb{"gaincell cell testbench: " + c.name + " (" + c.cell.name + ")", "single-cell testbench of " + c.name, &c.cell,
               "fix_"};
  tb.description = cell_description(c);
  tb.params = {{"v_store", c.offset_v, "V", "value written: the write bit line during the write"},
               {"t_pulse", c.t_max_s, "s", "read pulse width at 50 % (0 = no pulse)"},
               {"v_line", c.line_v, "V", "read line level: precharged to it until t_pre_off"},
               {"c_line", c.scheme == ReadScheme::kHeld ? 1e-6 : c.c_line_f, "F", "read line capacitance (1u holds the line at v_line)"},
               {"wbl_hold_on", 0, "1", "1: the write bit line goes to v_wbl_hold after the write (retention)"},
               {"v_wbl_hold", c.wbl_hold_v, "V", "write bit line after the write, when wbl_hold_on = 1"}};
  for (const Param& p : supply_and_timing(c, "start of the read pulse's rising edge", false)) tb.params.push_back(p);
  tb.derived = {".param wlr_on={t_pulse>0 ? " + n(c.wlr_active_v) + " : " + n(c.wlr_idle_v) + "}",
                ".param wlrb_on={t_pulse>0 ? " + n(c.wlrb_active_v) + " : " + n(c.wlrb_idle_v) + "}",
                // Edges of at most half the pulse, so the flat part (PW) is never 0: ngspice
                // reads PW = 0 as TSTOP and would hold a short pulse on to the end.
                ".param t_rise={t_pulse>0 ? min(t_edge,t_pulse/2) : t_edge}", ".param pw_flat={max(t_pulse-t_rise,0)}",
                ".param wbl_after={wbl_hold_on>0.5 ? v_wbl_hold : v_store}"};
  tb.sources = cell_sources(c);
  tb.read_line = cell_read_line(c);
  tb.analysis = cell_analysis(c);
  return render_testbench(c, tb);
}

std::string render_converter_template(const CellCard& c) {
  Testbench tb{"gaincell converter testbench: " + c.converter.name + " for " + c.name,
               "charge-to-pulse converter testbench of " + c.name, &c.converter, "fixc_"};
  tb.description = converter_description(c);
  tb.params = supply_and_timing(c, "start of the charge (read) window", true);
  tb.params.insert(tb.params.begin(), {"q_in", 0.5 * c.q_sat_c, "C", "charge drawn from the converter's line during the read"});
  tb.derived = {".param i_q={q_in/t_max}", ".param q_flat={max(t_max-t_edge,0)}"};
  tb.sources = converter_sources(c);
  tb.analysis = converter_analysis(c);
  return render_testbench(c, tb);
}

namespace {

constexpr double kHeldLineC = 1e-6;  // a line capacitance that holds the line at v_line

ojson transient(double step, double stop) { return ojson{{"tran", {{"step", step}, {"stop", stop}}}}; }

// The stored value x pulse width surface on the card's read line: the
// params, axes and transient of the multiply and energy sweeps.
void surface(const CellCard& c, ojson& s) {
  s["params"] = ojson{{"c_line", c.scheme == ReadScheme::kHeld ? kHeldLineC : c.c_line_f}};
  s["axes"] = ojson::array({axis("v_store", store_levels(c)), axis("t_pulse", pulse_levels(c))});
  s["analysis"] = transient(c.t_step_s, c.t_stop_s());
}

std::string read_window_text(const CellCard& c) { return " over the read window (" + n(t_read_window(c)) + " s .. end)"; }

// The charge the cell draws from the read line over the read window.
ojson charge_measure(const CellCard& c) {
  ojson m = measure("q_line_c", "integral", "C",
                    "charge the cell draws from the read line (integral of i(vsense), positive = sinks)" + read_window_text(c));
  m["of"] = "i(vsense)";
  m["from"] = t_read_window(c);
  m["to"] = "end";
  return m;
}

void add_sn_read(const CellCard& c, ojson& measures) {
  if (c.storage_node.empty()) return;
  ojson m = measure("v_sn_read_v", "value_at", "V", "storage node voltage just before the read (after write feed-through)");
  m["of"] = sn_vector(c);
  m["at"] = c.t_read_s - 0.1e-9;
  measures.push_back(m);
}

// The multiply surface: charge vs stored value and pulse width.
void multiply_spec(const CellCard& c, ojson& s, ojson& measures) {
  s["description"] = "Multiply surface of " + c.name + ": charge drawn from the " + to_string(c.scheme) +
                     " read line vs stored value (" + std::to_string(c.store_levels) + " DAC levels) and read pulse width (" +
                     std::to_string(c.pulse_levels) + " PWM levels); derived from the cell card";
  surface(c, s);
  measures.push_back(charge_measure(c));
  ojson v = measure("v_line_end_v", "value_at", "V", "read line voltage at the end of the transient");
  v["of"] = "v(line)";
  v["at"] = "end";
  measures.push_back(v);
  add_sn_read(c, measures);
}

// The read current on a held line, over the flat part of a full pulse.
void read_current_spec(const CellCard& c, ojson& s, ojson& measures) {
  const double from = c.t_read_s + 1e-9, to = c.t_read_s + c.t_max_s - 1e-9;
  s["description"] = "Read current of " + c.name + " vs stored value and read line voltage (the line held by c_line = 1 uF), " +
                     "full-length read pulse; derived from the cell card";
  s["params"] = ojson{{"c_line", kHeldLineC}, {"t_pulse", c.t_max_s}};
  s["axes"] = ojson::array({axis("v_store", current_grid(c)),
                            axis("v_line", linspace(c.line_sweep_lo_v, c.line_sweep_hi_v, c.line_sweep_points))});
  s["analysis"] = transient(c.t_step_s, c.t_stop_s());
  const std::string window = " over the flat part of the pulse (" + n(from) + " .. " + n(to) + " s)";
  for (const auto& [name, kind, what] : {std::tuple{"i_read_a", "average", "read current: time average of i(vsense) (line into the cell)"},
                                         std::tuple{"i_read_min_a", "min", "smallest i(vsense)"},
                                         std::tuple{"i_read_max_a", "max", "largest i(vsense)"}}) {
    ojson m = measure(name, kind, "A", std::string(what) + window);
    m["of"] = "i(vsense)";
    m["from"] = from;
    m["to"] = to;
    measures.push_back(m);
  }
  measures.push_back(charge_measure(c));
  add_sn_read(c, measures);
}

// Retention: write, then hold with no read, the storage node traced.
void retention_spec(const CellCard& c, ojson& s, ojson& measures) {
  if (c.storage_node.empty()) {
    throw InputError("GC-2010", c.path.string() + ": cell " + c.name +
                                    ": the retention sweep traces the storage node, and the card names none (/subckt/storage_node)");
  }
  s["description"] = "Retention of " + c.name + ": write, then hold with no read (write bit line at " + n(c.wbl_hold_v) +
                     " V), storage node traced to " + n(c.t_hold_s) + " s; derived from the cell card";
  s["params"] = ojson{{"c_line", kHeldLineC}, {"t_pulse", 0}, {"wbl_hold_on", 1}};
  s["axes"] = ojson::array({axis("v_store", {c.store_lo_v, c.offset_v, c.store_hi_v})});
  s["analysis"] = transient(c.t_hold_s / 1000.0, c.t_hold_s);
  ojson options = ojson::object();
  for (const auto& [k, v] : c.options) options[k] = v;
  for (const auto& [k, v] : c.retention_options) options[k] = v;
  s["options"] = options;
  const double t0 = std::min(10e-6, c.t_hold_s / 100.0);
  ojson t = measure("v_sn_trace_v", "trace", "V", "storage node voltage during the hold (no read), log-spaced times");
  t["of"] = sn_vector(c);
  t["times"] = ojson{{"logspace", {{"start", t0}, {"stop", c.t_hold_s}, {"count", 31}}}};
  t["leakage"] = true;
  measures.push_back(t);
  ojson end = measure("v_sn_end_v", "value_at", "V", "storage node voltage at the end of the hold");
  end["of"] = sn_vector(c);
  end["at"] = "end";
  end["leakage"] = true;
  measures.push_back(end);
}

// A source whose energy the energy sweep splits into windows.
struct EnergySource {
  std::string tag, node, source, what;
};

std::vector<EnergySource> energy_sources(const CellCard& c) {
  std::vector<EnergySource> sources = {{"vdd", "vdd", "vdd", "the supply VDD"},
                                       {"wwl", "wwl", "vwwl", "the write word line driver"},
                                       {"wbl", "wbl", "vwbl", "the write bit line (DAC)"},
                                       {"wlr", "wlr", "vwlr", "the read word line driver (PWM, active high)"},
                                       {"wlrb", "wlrb", "vwlrb", "the active-low read word line driver"}};
  for (const auto& [port, level] : c.cell.fixed_v) {
    sources.push_back({"fix_" + port, "fix_" + port, "vfix_" + port, "the fixed level of port " + port});
  }
  return sources;
}

// Energy per source, in the write and in the read window.
void energy_spec(const CellCard& c, ojson& s, ojson& measures) {
  s["description"] = "Energy of " + c.name + " per source, split into write and read windows, vs stored value and read "
                     "pulse width; derived from the cell card";
  surface(c, s);
  measures.push_back(charge_measure(c));
  add_sn_read(c, measures);
  const std::string read_desc = read_window_text(c);
  const std::string write_desc = " over the write window (start .. " + n(t_release(c)) + " s)";
  const ojson read_from = t_read_window(c);
  const std::vector<EnergySource> sources = energy_sources(c);
  for (const auto& src : sources) {
    measures.push_back(energy("e_write_" + src.tag + "_j", src.node, src.source, "start", t_release(c),
                              "write energy delivered by " + src.what + write_desc));
  }
  for (const auto& src : sources) {
    measures.push_back(energy("e_read_" + src.tag + "_j", src.node, src.source, read_from, "end",
                              "read energy delivered by " + src.what + read_desc));
  }
  measures.push_back(energy("e_read_pre_j", "vpre", "vpre", read_from, "end",
                            "read energy delivered by the line precharge source" + read_desc));
  ojson line = energy("e_read_line_j", "line", "vsense", read_from, "end",
                      "read energy the cell takes from the read line (integral of v(line) i(vsense)); positive = into the cell");
  line["scale"] = -1;
  measures.push_back(line);
}

// The converter's transfer: pulse width vs charge, with the tile's timing.
void converter_spec(const CellCard& c, ojson& s, ojson& measures) {
  s["description"] = "Transfer of the charge-to-pulse converter " + c.converter.name + " named by the card of " + c.name +
                     ": output pulse width vs the charge drawn from its line (tile timing); derived from the cell card";
  std::vector<double> q;
  for (double f : {-1.0, -0.1, -0.001, 0.0, 0.001, 0.005, 0.01, 0.0625, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75,
                   0.8, 0.9, 0.9375, 0.99, 1.0, 1.01, 1.5, 2.0}) {
    q.push_back(f * c.q_sat_c);
  }
  s["axes"] = ojson::array({axis("q_in", q)});
  ojson analysis = transient(c.t_step_s, t_compare(c) + c.t_max_s + 2e-9);
  // The output edge is sharp: without an internal decision node, a 10 ps step locates it.
  if (c.pulse_node.empty()) analysis["tran"]["max_step"] = 10e-12;
  s["analysis"] = analysis;
  const std::string of = c.pulse_node.empty() ? std::string("v(out)") : "v(x1." + c.pulse_node + ")";
  ojson pw = measure("pw_s", "time_above", "s",
                     "output pulse width: time " + of + " spends above " + n(c.pulse_threshold_v) + " V after the compare starts");
  pw["of"] = of;
  pw["threshold"] = c.pulse_threshold_v;
  pw["from"] = t_compare(c) - 1e-9;
  measures.push_back(pw);
  if (c.converter.has_role("vdd")) {
    measures.push_back(energy("e_vdd_j", "vdd", "vdd", "start", "end", "energy delivered by the converter's supply VDD per conversion"));
  }
}

}  // namespace

nlohmann::ordered_json derive_spec(const CellCard& c, Role role, const std::string& template_ref) {
  ojson s;
  s["format"] = "gaincell-spec/1";
  s["name"] = c.name + "_" + role_name(role);
  s["template"] = template_ref;
  ojson roots = ojson::array();
  for (const auto& d : card_directories(c)) roots.push_back(d.string());
  s["include_roots"] = roots;
  ojson measures = ojson::array();
  switch (role) {
    case Role::kMultiply: multiply_spec(c, s, measures); break;
    case Role::kReadCurrent: read_current_spec(c, s, measures); break;
    case Role::kRetention: retention_spec(c, s, measures); break;
    case Role::kEnergy: energy_spec(c, s, measures); break;
    case Role::kConverter: converter_spec(c, s, measures); break;
  }
  if (!s.contains("options")) {
    ojson options = ojson::object();
    for (const auto& [k, v] : c.options) options[k] = v;
    s["options"] = options;
  }
  s["measures"] = measures;
  s["timeout_s"] = role == Role::kRetention ? 600 : 60;
  if (!c.ngspice_init.empty()) s["ngspice_init"] = c.ngspice_init;
  return s;
}

DerivedSet write_derived(const CellCard& c, const fs::path& dir) {
  fs::create_directories(dir);
  DerivedSet set;
  auto write = [](const fs::path& p, const std::string& text) { write_text_file(p, text); };
  set.cell_template = dir / (c.name + "_cell.cir");
  set.converter_template = dir / (c.name + "_converter.cir");
  write(set.cell_template, render_cell_template(c));
  write(set.converter_template, render_converter_template(c));
  for (Role role : all_roles()) {
    const fs::path tpl = role == Role::kConverter ? set.converter_template : set.cell_template;
    try {
      const ojson spec = derive_spec(c, role, tpl.filename().string());
      const fs::path p = dir / (role_name(role) + ".json");
      write(p, spec.dump(2) + "\n");
      set.specs[role] = p;
    } catch (const InputError& e) {
      set.unavailable[role] = e.what();
    }
  }
  return set;
}

std::string describe(const DerivedSet& set) {
  const auto padded = [](std::string name) {
    name.resize(std::max<std::size_t>(name.size(), 12), ' ');
    return name;
  };
  std::string out = "derived: " + set.cell_template.string() + ", " + set.converter_template.string() + "\n";
  for (const auto& [role, path] : set.specs) out += "  " + padded(role_name(role)) + " " + path.string() + "\n";
  for (const auto& [role, why] : set.unavailable) out += "  " + padded(role_name(role)) + " not derived: " + why + "\n";
  return out;
}

}  // namespace gaincell::cell
