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
#include "gaincell/netlist/si_value.h"

namespace gaincell::cell {
namespace {

namespace fs = std::filesystem;
using netlist::format_exact;
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

std::string instance(const SubcktBinding& b, const std::string& name, const std::map<std::string, std::string>& role_node,
                     const std::string& fixed_prefix) {
  std::string out = name;
  for (const auto& port : b.ports) {
    const std::string role = b.role_of(port);
    out += " " + (role.empty() ? fixed_prefix + port : role_node.at(role));
  }
  out += " " + b.name;
  for (const auto& [k, v] : b.params) out += " " + k + "=" + v;
  return out;
}

std::string fixed_sources(const SubcktBinding& b, const std::string& prefix) {
  std::string out;
  for (const auto& [port, level] : b.fixed_v) out += "V" + prefix + port + " " + prefix + port + " 0 " + n(level) + "\n";
  return out;
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

std::string render_cell_template(const CellCard& c) {
  std::ostringstream o;
  o << "gaincell cell testbench: " << c.name << " (" << c.cell.name << ")\n";
  o << header(c, "single-cell testbench of " + c.name);
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
  o << model_lines(c);
  o << ".include \"" << c.cell.file.string() << "\"\n";
  o << "*\n* ---- overridable parameters ----\n";
  o << ".param v_store=" << n(c.offset_v) << " $ [V] value written: the write bit line during the write\n";
  o << ".param t_pulse=" << n(c.t_max_s) << " $ [s] read pulse width at 50 % (0 = no pulse)\n";
  o << ".param v_line=" << n(c.line_v) << " $ [V] read line level: precharged to it until t_pre_off\n";
  o << ".param c_line=" << n(c.scheme == ReadScheme::kHeld ? 1e-6 : c.c_line_f)
    << " $ [F] read line capacitance (1u holds the line at v_line)\n";
  o << ".param wbl_hold_on=0 $ [1] 1: the write bit line goes to v_wbl_hold after the write (retention)\n";
  o << ".param v_wbl_hold=" << n(c.wbl_hold_v) << " $ [V] write bit line after the write, when wbl_hold_on = 1\n";
  o << ".param vdd=" << n(c.vdd_v) << " $ [V] supply\n";
  o << ".param t_read=" << n(c.t_read_s) << " $ [s] start of the read pulse's rising edge\n";
  o << ".param t_edge=" << n(c.t_edge_s) << " $ [s] rise and fall time of every edge\n";
  o << "*\n* ---- derived values (not overridable) ----\n";
  o << ".param wlr_on={t_pulse>0 ? " << n(c.wlr_active_v) << " : " << n(c.wlr_idle_v) << "}\n";
  o << ".param wlrb_on={t_pulse>0 ? " << n(c.wlrb_active_v) << " : " << n(c.wlrb_idle_v) << "}\n";
  // Edges of at most half the pulse, so the flat part (PW) is never 0: ngspice
  // reads PW = 0 as TSTOP and would hold a short pulse on to the end.
  o << ".param t_rise={t_pulse>0 ? min(t_edge,t_pulse/2) : t_edge}\n";
  o << ".param pw_flat={max(t_pulse-t_rise,0)}\n";
  o << ".param wbl_after={wbl_hold_on>0.5 ? v_wbl_hold : v_store}\n";
  o << "*\n* ---- sources: one per role ----\n";
  const double e = c.t_edge_s;
  o << "VDD vdd 0 {vdd}\n";
  o << "VWWL wwl 0 PWL(0 " << n(c.wwl_hold_v) << " " << n(c.t_write_on_s) << " " << n(c.wwl_hold_v) << " "
    << n(c.t_write_on_s + e) << " " << n(c.wwl_high_v) << " " << n(c.t_write_off_s) << " " << n(c.wwl_high_v) << " "
    << n(c.t_write_off_s + e) << " " << n(c.wwl_hold_v) << ")\n";
  o << "VWBL wbl 0 PWL(0 {v_store} " << n(t_wbl_off(c)) << " {v_store} " << n(t_wbl_off(c) + e) << " {wbl_after})\n";
  o << "VWLR wlr 0 PULSE(" << n(c.wlr_idle_v) << " {wlr_on} {t_read} {t_rise} {t_rise} {pw_flat} 1)\n";
  o << "VWLRB wlrb 0 PULSE(" << n(c.wlrb_idle_v) << " {wlrb_on} {t_read} {t_rise} {t_rise} {pw_flat} 1)\n";
  o << fixed_sources(c.cell, "fix_");
  o << "*\n* ---- read line: precharge switch, capacitance, ammeter ----\n";
  o << "VPRE vpre 0 {v_line}\n";
  o << "VPREEN pre_en 0 PWL(0 {vdd} " << n(t_release(c)) << " {vdd} " << n(t_release(c) + e) << " 0)\n";
  o << "SPRE line vpre pre_en 0 swpre\n";
  o << ".model swpre sw vt=" << n(0.5 * c.vdd_v) << " vh=0 ron=10 roff=1e18\n";
  o << "CLINE line 0 {c_line}\n";
  o << "VSENSE line rd 0\n";
  o << "*\n* ---- the cell ----\n";
  const std::map<std::string, std::string> nodes = {{"wbl", "wbl"}, {"wwl", "wwl"}, {"wlr", "wlr"},
                                                    {"wlrb", "wlrb"}, {"rd", "rd"},   {"vdd", "vdd"}};
  o << instance(c.cell, "X1", nodes, "fix_") << "\n";
  o << "*\n* ---- default analysis (gaincell replaces it) ----\n";
  o << ".options gmin=1e-18\n";
  o << ".tran " << n(c.t_step_s) << " " << n(c.t_stop_s()) << "\n";
  o << ".meas tran q_line integ i(vsense) from=" << n(t_read_window(c)) << " to=" << n(c.t_stop_s()) << "\n";
  if (!c.storage_node.empty()) o << ".meas tran v_sn_read find " << sn_vector(c) << " at=" << n(c.t_read_s - 0.1e-9) << "\n";
  o << ".end\n";
  return o.str();
}

std::string render_converter_template(const CellCard& c) {
  std::ostringstream o;
  const double e = c.t_edge_s, tc = t_compare(c);
  o << "gaincell converter testbench: " << c.converter.name << " for " << c.name << "\n";
  o << header(c, "charge-to-pulse converter testbench of " + c.name);
  o << "* Converter: subcircuit " << c.converter.name << " of " << c.converter.file.string() << " (line "
    << c.converter.line << "), instance X1. Its line is held at vref = " << n(c.line_v) << " V (the cell's line level);\n";
  o << "* the current source IQ draws q_in from it over t_max from t_read (as a read does); the reset opens at "
    << n(t_release(c)) << " s;\n* the ramp rises from 0 to " << n(c.ramp_top_v) << " V over t_max from " << n(tc)
    << " s (the tile's timing, docs/tiles.md).\n";
  o << model_lines(c);
  o << ".include \"" << c.converter.file.string() << "\"\n";
  o << "*\n* ---- overridable parameters ----\n";
  o << ".param q_in=" << n(0.5 * c.q_sat_c) << " $ [C] charge drawn from the converter's line during the read\n";
  o << ".param vdd=" << n(c.vdd_v) << " $ [V] supply\n";
  o << ".param t_read=" << n(c.t_read_s) << " $ [s] start of the charge (read) window\n";
  o << ".param t_max=" << n(c.t_max_s) << " $ [s] length of the read window and of the ramp\n";
  o << ".param t_edge=" << n(c.t_edge_s) << " $ [s] rise and fall time of every edge\n";
  o << "*\n* ---- derived values (not overridable) ----\n";
  o << ".param i_q={q_in/t_max}\n";
  o << ".param q_flat={max(t_max-t_edge,0)}\n";
  o << "*\n* ---- sources ----\n";
  o << "VDD vdd 0 {vdd}\n";
  o << "VREF vref 0 " << n(c.line_v) << "\n";
  o << "VRST rst 0 PWL(0 {vdd} " << n(t_release(c)) << " {vdd} " << n(t_release(c) + e) << " 0)\n";
  o << "VRAMP ramp 0 PWL(0 10 " << n(tc) << " 10 " << n(tc + e) << " 0 " << n(tc + c.t_max_s) << " " << n(c.ramp_top_v)
    << " " << n(tc + c.t_max_s + e) << " 10)\n";
  o << "IQ line 0 PULSE(0 {i_q} {t_read} {t_edge} {t_edge} {q_flat} 1)\n";
  o << fixed_sources(c.converter, "fixc_");
  const std::map<std::string, std::string> nodes = {{"line", "line"}, {"ramp", "ramp"}, {"out", "out"},
                                                    {"vref", "vref"}, {"rst", "rst"},   {"vdd", "vdd"}};
  o << instance(c.converter, "X1", nodes, "fixc_") << "\n";
  o << "*\n* ---- default analysis (gaincell replaces it) ----\n";
  o << ".tran " << n(c.t_step_s) << " " << n(tc + c.t_max_s + 2e-9) << " 0 10p\n";
  o << ".meas tran t_up when v(out)=" << n(0.5 * c.vdd_v) << " rise=1\n";
  o << ".meas tran t_down when v(out)=" << n(0.5 * c.vdd_v) << " fall=1\n";
  o << ".end\n";
  return o.str();
}

nlohmann::ordered_json derive_spec(const CellCard& c, Role role, const std::string& template_ref) {
  ojson s;
  s["format"] = "gaincell-spec/1";
  s["name"] = c.name + "_" + role_name(role);
  s["template"] = template_ref;
  ojson roots = ojson::array();
  for (const auto& d : card_directories(c)) roots.push_back(d.string());
  s["include_roots"] = roots;
  const double held_c = 1e-6;
  const double line_c = c.scheme == ReadScheme::kHeld ? held_c : c.c_line_f;
  const ojson start = "start", end = "end";
  const ojson read_from = t_read_window(c), write_to = t_release(c);
  ojson options = ojson::object();
  for (const auto& [k, v] : c.options) options[k] = v;
  const std::string read_desc = " over the read window (" + n(t_read_window(c)) + " s .. end)";
  const std::string write_desc = " over the write window (start .. " + n(t_release(c)) + " s)";
  auto add_sn_read = [&](ojson& measures) {
    if (c.storage_node.empty()) return;
    ojson m = measure("v_sn_read_v", "value_at", "V", "storage node voltage just before the read (after write feed-through)");
    m["of"] = sn_vector(c);
    m["at"] = c.t_read_s - 0.1e-9;
    measures.push_back(m);
  };
  auto charge = [&](ojson& measures) {
    ojson m = measure("q_line_c", "integral", "C",
                      "charge the cell draws from the read line (integral of i(vsense), positive = sinks)" + read_desc);
    m["of"] = "i(vsense)";
    m["from"] = read_from;
    m["to"] = end;
    measures.push_back(m);
  };
  ojson measures = ojson::array();
  switch (role) {
    case Role::kMultiply: {
      s["description"] = "Multiply surface of " + c.name + ": charge drawn from the " + to_string(c.scheme) +
                         " read line vs stored value (" + std::to_string(c.store_levels) + " DAC levels) and read pulse width (" +
                         std::to_string(c.pulse_levels) + " PWM levels); derived from the cell card";
      s["params"] = ojson{{"c_line", line_c}};
      s["axes"] = ojson::array({axis("v_store", store_levels(c)), axis("t_pulse", pulse_levels(c))});
      s["analysis"] = ojson{{"tran", {{"step", c.t_step_s}, {"stop", c.t_stop_s()}}}};
      charge(measures);
      ojson v = measure("v_line_end_v", "value_at", "V", "read line voltage at the end of the transient");
      v["of"] = "v(line)";
      v["at"] = end;
      measures.push_back(v);
      add_sn_read(measures);
      break;
    }
    case Role::kReadCurrent: {
      const double from = c.t_read_s + 1e-9, to = c.t_read_s + c.t_max_s - 1e-9;
      s["description"] = "Read current of " + c.name + " vs stored value and read line voltage (the line held by c_line = 1 uF), " +
                         "full-length read pulse; derived from the cell card";
      s["params"] = ojson{{"c_line", held_c}, {"t_pulse", c.t_max_s}};
      s["axes"] = ojson::array({axis("v_store", current_grid(c)),
                                axis("v_line", linspace(c.line_sweep_lo_v, c.line_sweep_hi_v, c.line_sweep_points))});
      s["analysis"] = ojson{{"tran", {{"step", c.t_step_s}, {"stop", c.t_stop_s()}}}};
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
      charge(measures);
      add_sn_read(measures);
      break;
    }
    case Role::kRetention: {
      if (c.storage_node.empty()) {
        throw InputError("GC-2010", "error GC-2010: " + c.path.string() + ": cell " + c.name +
                                        ": the retention sweep traces the storage node, and the card names none (/subckt/storage_node)");
      }
      s["description"] = "Retention of " + c.name + ": write, then hold with no read (write bit line at " + n(c.wbl_hold_v) +
                         " V), storage node traced to " + n(c.t_hold_s) + " s; derived from the cell card";
      s["params"] = ojson{{"c_line", held_c}, {"t_pulse", 0}, {"wbl_hold_on", 1}};
      s["axes"] = ojson::array({axis("v_store", {c.store_lo_v, c.offset_v, c.store_hi_v})});
      s["analysis"] = ojson{{"tran", {{"step", c.t_hold_s / 1000.0}, {"stop", c.t_hold_s}}}};
      ojson ropts = ojson::object();
      for (const auto& [k, v] : c.options) ropts[k] = v;
      for (const auto& [k, v] : c.retention_options) ropts[k] = v;
      s["options"] = ropts;
      const double t0 = std::min(10e-6, c.t_hold_s / 100.0);
      ojson t = measure("v_sn_trace_v", "trace", "V", "storage node voltage during the hold (no read), log-spaced times");
      t["of"] = sn_vector(c);
      t["times"] = ojson{{"logspace", {{"start", t0}, {"stop", c.t_hold_s}, {"count", 31}}}};
      t["leakage"] = true;
      measures.push_back(t);
      ojson e2 = measure("v_sn_end_v", "value_at", "V", "storage node voltage at the end of the hold");
      e2["of"] = sn_vector(c);
      e2["at"] = end;
      e2["leakage"] = true;
      measures.push_back(e2);
      break;
    }
    case Role::kEnergy: {
      s["description"] = "Energy of " + c.name + " per source, split into write and read windows, vs stored value and read "
                         "pulse width; derived from the cell card";
      s["params"] = ojson{{"c_line", line_c}};
      s["axes"] = ojson::array({axis("v_store", store_levels(c)), axis("t_pulse", pulse_levels(c))});
      s["analysis"] = ojson{{"tran", {{"step", c.t_step_s}, {"stop", c.t_stop_s()}}}};
      charge(measures);
      add_sn_read(measures);
      struct Src {
        std::string tag, node, source, what;
      };
      std::vector<Src> sources = {{"vdd", "vdd", "vdd", "the supply VDD"},
                                  {"wwl", "wwl", "vwwl", "the write word line driver"},
                                  {"wbl", "wbl", "vwbl", "the write bit line (DAC)"},
                                  {"wlr", "wlr", "vwlr", "the read word line driver (PWM, active high)"},
                                  {"wlrb", "wlrb", "vwlrb", "the active-low read word line driver"}};
      for (const auto& [port, level] : c.cell.fixed_v) {
        sources.push_back({"fix_" + port, "fix_" + port, "vfix_" + port, "the fixed level of port " + port});
      }
      for (const auto& src : sources) {
        measures.push_back(energy("e_write_" + src.tag + "_j", src.node, src.source, start, write_to,
                                  "write energy delivered by " + src.what + write_desc));
      }
      for (const auto& src : sources) {
        measures.push_back(energy("e_read_" + src.tag + "_j", src.node, src.source, read_from, end,
                                  "read energy delivered by " + src.what + read_desc));
      }
      measures.push_back(energy("e_read_pre_j", "vpre", "vpre", read_from, end,
                                "read energy delivered by the line precharge source" + read_desc));
      ojson line = energy("e_read_line_j", "line", "vsense", read_from, end,
                          "read energy the cell takes from the read line (integral of v(line) i(vsense)); positive = into the cell");
      line["scale"] = -1;
      measures.push_back(line);
      break;
    }
    case Role::kConverter: {
      s["description"] = "Transfer of the charge-to-pulse converter " + c.converter.name + " named by the card of " + c.name +
                         ": output pulse width vs the charge drawn from its line (tile timing); derived from the cell card";
      ojson q = ojson::array();
      for (double f : {-1.0, -0.1, -0.001, 0.0, 0.001, 0.005, 0.01, 0.0625, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75,
                       0.8, 0.9, 0.9375, 0.99, 1.0, 1.01, 1.5, 2.0}) {
        q.push_back(f * c.q_sat_c);
      }
      s["axes"] = ojson::array({ojson{{"param", "q_in"}, {"values", q}}});
      const double stop = t_compare(c) + c.t_max_s + 2e-9;
      ojson tran{{"step", c.t_step_s}, {"stop", stop}};
      // The output edge is sharp: without an internal decision node, a 10 ps step locates it.
      if (c.pulse_node.empty()) tran["max_step"] = 10e-12;
      s["analysis"] = ojson{{"tran", tran}};
      ojson pw = measure("pw_s", "time_above", "s",
                         "output pulse width: time " + (c.pulse_node.empty() ? std::string("v(out)") : "v(x1." + c.pulse_node + ")") +
                             " spends above " + n(c.pulse_threshold_v) + " V after the compare starts");
      pw["of"] = c.pulse_node.empty() ? std::string("v(out)") : "v(x1." + c.pulse_node + ")";
      pw["threshold"] = c.pulse_threshold_v;
      pw["from"] = t_compare(c) - 1e-9;
      measures.push_back(pw);
      if (c.converter.has_role("vdd")) {
        measures.push_back(energy("e_vdd_j", "vdd", "vdd", start, end, "energy delivered by the converter's supply VDD per conversion"));
      }
      break;
    }
  }
  s["options"] = s.contains("options") ? s["options"] : options;
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

}  // namespace gaincell::cell
