// SPDX-License-Identifier: MIT
#include "gaincell/cell/card.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/core/strings.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/netlist/subckt.h"
#include "gaincell/netlist/template.h"
#include "gaincell/spice/worker.h"

namespace gaincell::cell {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr JsonErrorIds kCardIds{"GC-2001", "GC-2002", "GC-2003", "GC-2004", "GC-2005"};

const char* const kCellRoles[] = {"wbl", "wwl", "wlr", "wlrb", "rd", "vdd"};
const char* const kConverterRoles[] = {"line", "ramp", "out", "vref", "rst", "vdd"};

// A file the card names: beside the card, else in the source tree or the
// installed data directory (docs/cells.md).
fs::path resolve(const JsonReader& r, const fs::path& card_dir, const json& j, const std::string& pointer) {
  const std::string text = r.string(j, pointer);
  if (text.empty()) r.bad_value(pointer, "expected a file name, found an empty string");
  fs::path p(text);
  std::error_code ec;
  if (p.is_relative()) {
    const fs::path beside = (card_dir / p).lexically_normal();
    if (fs::is_regular_file(beside, ec)) return beside;
    const fs::path found = find_shipped_file(p);
    if (!found.empty()) return fs::absolute(found).lexically_normal();
    r.fail(pointer, "GC-2007", "file '" + text + "' not found beside the card (" + beside.string() +
                                   ") nor in gaincell's source tree or data directory",
           "relative paths resolve beside the card first, then as paths of the gaincell tree (netlists/...)");
  }
  if (!fs::is_regular_file(p, ec)) r.fail(pointer, "GC-2007", "file " + p.string() + " does not exist");
  return p.lexically_normal();
}

// The subcircuit `name` in `file`, its ports bound to roles or fixed levels.
SubcktBinding bind_subckt(const JsonReader& r, const fs::path& card_dir, const json& j, const std::string& ptr,
                          const char* const* roles, std::size_t n_roles, const std::vector<std::string>& required,
                          const char* what) {
  r.object(j, ptr);
  SubcktBinding b;
  b.file = resolve(r, card_dir, r.require(j, ptr, "file"), ptr + "/file");
  b.name = lower(r.string(r.require(j, ptr, "name"), ptr + "/name"));
  const auto subckts = netlist::read_subckts(b.file);
  const auto it = std::find_if(subckts.begin(), subckts.end(), [&](const auto& s) { return s.name == b.name; });
  if (it == subckts.end()) {
    std::vector<std::string> names;
    for (const auto& s : subckts) names.push_back(s.name);
    r.fail(ptr + "/name", "GC-2008",
           std::string(what) + " subcircuit '" + b.name + "' is not defined in " + b.file.string() +
               (names.empty() ? std::string(" (it defines no .subckt)") : "; it defines: " + join(names, ", ")));
  }
  b.ports = it->ports;
  b.line = it->line;
  const std::string subckt_at = b.file.string() + ":" + std::to_string(b.line);

  const json& ports = r.object(r.require(j, ptr, "ports"), ptr + "/ports");
  std::set<std::string> bound;
  for (auto p = ports.begin(); p != ports.end(); ++p) {
    const std::string pp = ptr + "/ports/" + p.key();
    const std::string role = lower(p.key());
    if (std::find_if(roles, roles + n_roles, [&](const char* k) { return role == k; }) == roles + n_roles) {
      std::vector<std::string> known(roles, roles + n_roles);
      r.fail(pp, "GC-2008", "unknown " + std::string(what) + " role '" + p.key() + "'; the roles are: " + join(known, ", "),
             "map each role to a port name of the subcircuit; hold other ports at a level in fixed_ports", true);
    }
    const std::string port = lower(r.string(p.value(), pp));
    if (std::find(b.ports.begin(), b.ports.end(), port) == b.ports.end()) {
      r.fail(pp, "GC-2008", "role " + role + ": subcircuit " + b.name + " (" + subckt_at + ") has no port '" + port +
                                "'; its ports are: " + join(b.ports, " "));
    }
    if (!bound.insert(port).second) r.fail(pp, "GC-2008", "port '" + port + "' is bound twice");
    b.role_port[role] = port;
  }
  for (const auto& role : required) {
    const bool any_of = role.find('|') != std::string::npos;
    bool ok = false;
    if (any_of) {
      ok = b.has_role(role.substr(0, role.find('|'))) || b.has_role(role.substr(role.find('|') + 1));
    } else {
      ok = b.has_role(role);
    }
    if (!ok) {
      r.fail(ptr + "/ports", "GC-2008",
             std::string(what) + " role " + (any_of ? "'" + role.substr(0, role.find('|')) + "' or '" + role.substr(role.find('|') + 1) + "'" : "'" + role + "'") +
                 " is not bound to a port");
    }
  }
  if (j.contains("fixed_ports")) {
    const json& fixed = r.object(j["fixed_ports"], ptr + "/fixed_ports");
    for (auto p = fixed.begin(); p != fixed.end(); ++p) {
      const std::string fp = ptr + "/fixed_ports/" + p.key();
      const std::string port = lower(p.key());
      if (std::find(b.ports.begin(), b.ports.end(), port) == b.ports.end()) {
        r.fail(fp, "GC-2008", "subcircuit " + b.name + " (" + subckt_at + ") has no port '" + port +
                                  "'; its ports are: " + join(b.ports, " "), "", true);
      }
      if (!bound.insert(port).second) r.fail(fp, "GC-2008", "port '" + port + "' is bound to a role and also fixed", "", true);
      b.fixed_v[port] = r.number(p.value(), fp, "V");
    }
  }
  for (const auto& port : b.ports) {
    if (bound.count(port) == 0) {
      r.fail(ptr + "/ports", "GC-2008",
             "port '" + port + "' of subcircuit " + b.name + " (" + subckt_at + ") is neither bound to a role nor fixed",
             "bind it in ports (roles: " + join(std::vector<std::string>(roles, roles + n_roles), ", ") +
                 ") or hold it at a DC level in fixed_ports, e.g. \"fixed_ports\": {\"" + port + "\": 0}");
    }
  }
  if (j.contains("params")) {
    const json& params = r.object(j["params"], ptr + "/params");
    for (auto p = params.begin(); p != params.end(); ++p) {
      const std::string pp = ptr + "/params/" + p.key();
      const std::string name = lower(p.key());
      if (!is_identifier(name)) r.bad_value(pp, "parameter names are identifiers");
      if (std::find(it->params.begin(), it->params.end(), name) == it->params.end()) {
        r.fail(pp, "GC-2008", "subcircuit " + b.name + " (" + subckt_at + ") has no parameter '" + name + "'" +
                                  (it->params.empty() ? std::string(" (it declares none)") : "; it declares: " + join(it->params, ", ")),
               "", true);
      }
      b.params.emplace_back(name, netlist::format_exact(r.number(p.value(), pp, "")));
    }
  }
  return b;
}

std::vector<std::pair<std::string, double>> options(const JsonReader& r, const json& j, const std::string& ptr) {
  std::vector<std::pair<std::string, double>> out;
  for (auto it = r.object(j, ptr).begin(); it != j.end(); ++it) {
    const std::string key = lower(it.key());
    if (!is_identifier(key)) r.bad_value(ptr + "/" + it.key(), "option names are identifiers");
    if (key == "num_threads") r.bad_value(ptr + "/" + it.key(), "num_threads is gaincell's (one thread per worker)");
    out.emplace_back(key, r.number(it.value(), ptr + "/" + it.key(), ""));
  }
  return out;
}

double option_value(const std::vector<std::pair<std::string, double>>& opts, const char* name, double fallback) {
  for (const auto& [k, v] : opts) {
    if (k == name) return v;
  }
  return fallback;
}

}  // namespace

std::string SubcktBinding::role_of(const std::string& port) const {
  for (const auto& [role, p] : role_port) {
    if (p == port) return role;
  }
  return "";
}

CellCard load_card(const fs::path& path) { return parse_card(read_text_file(path), path); }

CellCard parse_card(std::string text, const fs::path& origin) {
  CellCard c;
  c.path = fs::absolute(origin).lexically_normal();
  c.text = std::move(text);
  const fs::path dir = c.path.parent_path();
  JsonReader r(c.text, origin.string(), kCardIds);
  const json root = r.parse();
  r.object(root, "");
  r.check_keys(root, "", {"format", "name", "description", "subckt", "models", "vdd_v", "write", "read", "store", "sign",
                          "retention", "simulation", "converter"});
  const std::string format = r.string(r.require(root, "", "format"), "/format");
  if (format != kCardFormat) {
    r.fail("/format", "GC-2006", "unsupported format \"" + format + "\"; this gaincell reads \"" + kCardFormat + "\"");
  }
  c.name = r.string(r.require(root, "", "name"), "/name");
  if (!is_identifier(c.name)) r.bad_value("/name", "expected an identifier (letters, digits, _), found \"" + c.name + "\"");
  if (root.contains("description")) c.description = r.string(root["description"], "/description");

  // The cell subcircuit.
  const json& sub = r.object(r.require(root, "", "subckt"), "/subckt");
  r.check_keys(sub, "/subckt", {"file", "name", "ports", "fixed_ports", "params", "storage_node"});
  c.cell = bind_subckt(r, dir, sub, "/subckt", kCellRoles, std::size(kCellRoles), {"wbl", "wwl", "rd", "wlr|wlrb"}, "cell");
  if (sub.contains("storage_node")) {
    c.storage_node = lower(r.string(sub["storage_node"], "/subckt/storage_node"));
    const auto subckts = netlist::read_subckts(c.cell.file);
    const auto it = std::find_if(subckts.begin(), subckts.end(), [&](const auto& s) { return s.name == c.cell.name; });
    const std::vector<std::string>& nodes = it->internal_nodes;
    if (std::find(nodes.begin(), nodes.end(), c.storage_node) == nodes.end()) {
      const auto close = closest_names(c.storage_node, nodes);
      r.fail("/subckt/storage_node", "GC-2008",
             "'" + c.storage_node + "' is not an internal node of subcircuit " + c.cell.name + " (" + c.cell.file.string() + ":" +
                 std::to_string(c.cell.line) + ")" +
                 (nodes.empty() ? std::string("; it has none") : "; its internal nodes are: " + join(nodes, " ")),
             close.empty() ? "" : "did you mean '" + close.front() + "'?");
    }
  }

  if (root.contains("models")) {
    const json& m = r.object(root["models"], "/models");
    r.check_keys(m, "/models", {"include", "lib", "ngspice_init"});
    if (m.contains("include")) {
      const json& inc = r.array(m["include"], "/models/include");
      for (std::size_t i = 0; i < inc.size(); ++i) {
        c.includes.push_back(resolve(r, dir, inc[i], "/models/include/" + std::to_string(i)));
      }
    }
    if (m.contains("lib")) {
      const json& lib = r.object(m["lib"], "/models/lib");
      r.check_keys(lib, "/models/lib", {"file", "section"});
      c.lib_file = resolve(r, dir, r.require(lib, "/models/lib", "file"), "/models/lib/file");
      c.lib_section = lower(r.string(r.require(lib, "/models/lib", "section"), "/models/lib/section"));
      const auto sections = netlist::library_sections(c.lib_file);
      if (std::find(sections.begin(), sections.end(), c.lib_section) == sections.end()) {
        r.fail("/models/lib/section", "GC-2009", "section '" + c.lib_section + "' is not in " + c.lib_file.string() +
                                                     (sections.empty() ? std::string(" (it defines none)") : "; it defines: " + join(sections, ", ")));
      }
    }
    if (m.contains("ngspice_init")) {
      const json& list = r.array(m["ngspice_init"], "/models/ngspice_init");
      for (std::size_t k = 0; k < list.size(); ++k) {
        const std::string ptr = "/models/ngspice_init/" + std::to_string(k);
        const spice::InitLineCheck check = spice::check_init_line(r.string(list[k], ptr));
        if (!check.ok()) r.fail(ptr, check.id, check.message, check.hint);
        const bool mode = check.line.rfind("set ngbehavior=", 0) == 0;
        for (const auto& earlier : c.ngspice_init) {
          if (earlier == check.line) r.bad_value(ptr, "\"" + check.line + "\" is given twice");
          if (mode && earlier.rfind("set ngbehavior=", 0) == 0) {
            r.fail(ptr, "GC-1218", "a second 'set ngbehavior' line (ngspice would keep only the last)", spice::allowed_init_forms());
          }
        }
        c.ngspice_init.push_back(check.line);
      }
    }
  }

  if (root.contains("vdd_v")) c.vdd_v = r.number(root["vdd_v"], "/vdd_v", "V");
  if (!(c.vdd_v > 0)) r.bad_value("/vdd_v", "the supply must be > 0 V");
  // Default drive levels follow the supply.
  c.wlr_active_v = c.vdd_v;
  c.wlrb_idle_v = c.vdd_v;

  if (root.contains("write")) {
    const json& w = r.object(root["write"], "/write");
    r.check_keys(w, "/write", {"wwl_high_v", "wwl_hold_v", "t_on_s", "t_off_s"});
    if (w.contains("wwl_high_v")) c.wwl_high_v = r.number(w["wwl_high_v"], "/write/wwl_high_v", "V");
    if (w.contains("wwl_hold_v")) c.wwl_hold_v = r.number(w["wwl_hold_v"], "/write/wwl_hold_v", "V");
    if (w.contains("t_on_s")) c.t_write_on_s = r.number(w["t_on_s"], "/write/t_on_s", "s");
    if (w.contains("t_off_s")) c.t_write_off_s = r.number(w["t_off_s"], "/write/t_off_s", "s");
  }

  const json& rd = r.object(r.require(root, "", "read"), "/read");
  r.check_keys(rd, "/read", {"scheme", "line_v", "c_line_f", "wlr_idle_v", "wlr_active_v", "wlrb_idle_v", "wlrb_active_v",
                             "t_start_s", "t_max_s", "t_edge_s", "pulse_levels", "line_sweep_v"});
  const std::string scheme = r.string(r.require(rd, "/read", "scheme"), "/read/scheme");
  if (scheme == "held") {
    c.scheme = ReadScheme::kHeld;
  } else if (scheme == "precharged") {
    c.scheme = ReadScheme::kPrecharged;
  } else {
    r.bad_value("/read/scheme", "expected \"held\" (an integrator holds the line) or \"precharged\" (the line floats "
                                "after a precharge), found \"" + scheme + "\"");
  }
  c.line_v = r.number(r.require(rd, "/read", "line_v"), "/read/line_v", "V");
  if (rd.contains("c_line_f")) c.c_line_f = r.number(rd["c_line_f"], "/read/c_line_f", "F");
  if (c.scheme == ReadScheme::kPrecharged && !rd.contains("c_line_f")) {
    r.fail("/read", "GC-2002", "a precharged line needs its capacitance: missing required key 'c_line_f'");
  }
  if (rd.contains("c_line_f") && !(c.c_line_f > 0)) r.bad_value("/read/c_line_f", "the line capacitance must be > 0 F");
  if (rd.contains("wlr_idle_v")) c.wlr_idle_v = r.number(rd["wlr_idle_v"], "/read/wlr_idle_v", "V");
  if (rd.contains("wlr_active_v")) c.wlr_active_v = r.number(rd["wlr_active_v"], "/read/wlr_active_v", "V");
  if (rd.contains("wlrb_idle_v")) c.wlrb_idle_v = r.number(rd["wlrb_idle_v"], "/read/wlrb_idle_v", "V");
  if (rd.contains("wlrb_active_v")) c.wlrb_active_v = r.number(rd["wlrb_active_v"], "/read/wlrb_active_v", "V");
  if (rd.contains("t_start_s")) c.t_read_s = r.number(rd["t_start_s"], "/read/t_start_s", "s");
  if (rd.contains("t_max_s")) c.t_max_s = r.number(rd["t_max_s"], "/read/t_max_s", "s");
  if (rd.contains("t_edge_s")) c.t_edge_s = r.number(rd["t_edge_s"], "/read/t_edge_s", "s");
  if (rd.contains("pulse_levels")) c.pulse_levels = static_cast<int>(r.integer(rd["pulse_levels"], "/read/pulse_levels", 2, 4096));
  if (!(c.t_max_s > 0)) r.bad_value("/read/t_max_s", "the full-scale pulse must be > 0 s");
  if (!(c.t_edge_s > 0 && c.t_edge_s < c.t_max_s)) r.bad_value("/read/t_edge_s", "edges must be > 0 s and shorter than t_max_s");
  if (!(c.t_write_on_s >= 0 && c.t_write_off_s > c.t_write_on_s + c.t_edge_s)) {
    r.bad_value("/write/t_off_s", "the write word line must rise (t_on_s >= 0) and fall after it has risen (t_off_s > t_on_s + t_edge_s)");
  }
  // The line is released (precharge switch, integrator reset) 1 ns before the read; the write ends before that.
  if (!(c.t_read_s - 1e-9 > c.t_write_off_s + c.t_edge_s + 1e-9)) {
    r.bad_value(rd.contains("t_start_s") ? "/read/t_start_s" : "/read",
                "the read starts at " + netlist::format_human(c.t_read_s, "s", 4, true) + ", too soon after the write (ends " +
                    netlist::format_human(c.t_write_off_s + c.t_edge_s, "s", 4, true) + "): it must start at least 2 ns later");
  }
  // The line voltages the read-current sweep covers.
  if (c.scheme == ReadScheme::kHeld) {
    c.line_sweep_lo_v = c.line_v - 0.1;
    c.line_sweep_hi_v = c.line_v + 0.1;
    c.line_sweep_points = 5;
  } else {
    c.line_sweep_lo_v = 0.0;
    c.line_sweep_hi_v = c.line_v;
    c.line_sweep_points = 10;
  }
  if (rd.contains("line_sweep_v")) {
    const std::string lp = "/read/line_sweep_v";
    const json& ls = r.object(rd["line_sweep_v"], lp);
    r.check_keys(ls, lp, {"from", "to", "points"});
    c.line_sweep_lo_v = r.number(r.require(ls, lp, "from"), lp + "/from", "V");
    c.line_sweep_hi_v = r.number(r.require(ls, lp, "to"), lp + "/to", "V");
    c.line_sweep_points = static_cast<int>(r.integer(r.require(ls, lp, "points"), lp + "/points", 2, 256));
    if (!(c.line_sweep_hi_v > c.line_sweep_lo_v)) r.bad_value(lp, "expected from < to");
    if (!(c.line_v >= c.line_sweep_lo_v && c.line_v <= c.line_sweep_hi_v)) {
      r.bad_value(lp, "the sweep must include the line level line_v = " + netlist::format_exact(c.line_v) + " V");
    }
  }

  if (root.contains("store")) {
    const json& st = r.object(root["store"], "/store");
    r.check_keys(st, "/store", {"range_v", "levels"});
    if (st.contains("range_v")) {
      const json& range = r.array(st["range_v"], "/store/range_v");
      if (range.size() != 2) r.bad_value("/store/range_v", "expected [low, high] in V");
      c.store_lo_v = r.number(range[0], "/store/range_v/0", "V");
      c.store_hi_v = r.number(range[1], "/store/range_v/1", "V");
      if (!(c.store_hi_v > c.store_lo_v)) r.bad_value("/store/range_v", "expected low < high");
    }
    if (st.contains("levels")) c.store_levels = static_cast<int>(r.integer(st["levels"], "/store/levels", 2, 4096));
  }

  const json& sign = r.object(r.require(root, "", "sign"), "/sign");
  r.check_keys(sign, "/sign", {"scheme", "offset_v"});
  const std::string sign_scheme = r.string(r.require(sign, "/sign", "scheme"), "/sign/scheme");
  if (sign_scheme == "signed") {
    c.sign = SignScheme::kSigned;
  } else if (sign_scheme == "reference_column") {
    c.sign = SignScheme::kReferenceColumn;
  } else if (sign_scheme == "differential") {
    c.sign = SignScheme::kDifferential;
  } else {
    r.bad_value("/sign/scheme", "expected \"signed\" (the cell sources and sinks around offset_v), \"reference_column\" "
                                "or \"differential\" (an unsigned cell), found \"" + sign_scheme + "\"");
  }
  c.offset_v = r.number(r.require(sign, "/sign", "offset_v"), "/sign/offset_v", "V");
  if (!(c.offset_v > c.store_lo_v && c.offset_v < c.store_hi_v)) {
    r.bad_value("/sign/offset_v", "the zero of the stored value must lie inside the stored range (" +
                                      netlist::format_exact(c.store_lo_v) + " .. " + netlist::format_exact(c.store_hi_v) + " V)");
  }
  if (c.sign == SignScheme::kDifferential &&
      std::abs((c.offset_v - c.store_lo_v) - (c.store_hi_v - c.offset_v)) > 1e-9 * std::max(1.0, c.store_hi_v)) {
    r.bad_value("/sign/offset_v", "a differential pair stores w and 2 offset_v - w: offset_v must be the middle of the "
                                  "stored range (" + netlist::format_exact(0.5 * (c.store_lo_v + c.store_hi_v)) + " V)");
  }

  if (root.contains("retention")) {
    const json& ret = r.object(root["retention"], "/retention");
    r.check_keys(ret, "/retention", {"t_hold_s", "wbl_hold_v", "decay_toward_v", "options"});
    if (ret.contains("decay_toward_v")) c.decay_toward_v = r.number(ret["decay_toward_v"], "/retention/decay_toward_v", "V");
    if (ret.contains("t_hold_s")) c.t_hold_s = r.number(ret["t_hold_s"], "/retention/t_hold_s", "s");
    if (ret.contains("wbl_hold_v")) c.wbl_hold_v = r.number(ret["wbl_hold_v"], "/retention/wbl_hold_v", "V");
    if (ret.contains("options")) c.retention_options = options(r, ret["options"], "/retention/options");
    if (!(c.t_hold_s >= 1e-4)) r.bad_value("/retention/t_hold_s", "the hold must be at least 100 us");
    for (const char* o : {"gmin", "abstol"}) {
      if (option_value(c.retention_options, o, 1e-12) > 1e-18) {
        r.bad_value("/retention/options", std::string("retention needs ") + o + " <= 1e-18 (else the " + o +
                                              " conductance fakes the leak); set it in /retention/options");
      }
    }
  }
  if (root.contains("simulation")) {
    const json& sim = r.object(root["simulation"], "/simulation");
    r.check_keys(sim, "/simulation", {"t_step_s", "options"});
    if (sim.contains("t_step_s")) c.t_step_s = r.number(sim["t_step_s"], "/simulation/t_step_s", "s");
    if (sim.contains("options")) c.options = options(r, sim["options"], "/simulation/options");
    if (!(c.t_step_s > 0 && c.t_step_s <= c.t_max_s / 8)) {
      r.bad_value("/simulation/t_step_s", "the time step must be > 0 and at most t_max_s / 8");
    }
  }

  const json& conv = r.object(r.require(root, "", "converter"), "/converter");
  r.check_keys(conv, "/converter", {"file", "name", "ports", "fixed_ports", "params", "ramp_top_v", "q_sat_c", "pulse"});
  c.converter = bind_subckt(r, dir, conv, "/converter", kConverterRoles, std::size(kConverterRoles),
                            {"line", "ramp", "out", "vref", "rst"}, "converter");
  if (conv.contains("ramp_top_v")) c.ramp_top_v = r.number(conv["ramp_top_v"], "/converter/ramp_top_v", "V");
  if (conv.contains("q_sat_c")) c.q_sat_c = r.number(conv["q_sat_c"], "/converter/q_sat_c", "C");
  if (!(c.ramp_top_v > 0)) r.bad_value("/converter/ramp_top_v", "the ramp must rise: ramp_top_v > 0 V");
  if (!(c.q_sat_c > 0)) r.bad_value("/converter/q_sat_c", "the saturation charge must be > 0 C");
  c.pulse_threshold_v = 0.5 * c.vdd_v;
  if (conv.contains("pulse")) {
    const json& p = r.object(conv["pulse"], "/converter/pulse");
    r.check_keys(p, "/converter/pulse", {"node", "threshold_v"});
    c.pulse_node = lower(r.string(r.require(p, "/converter/pulse", "node"), "/converter/pulse/node"));
    if (!is_identifier(c.pulse_node)) r.bad_value("/converter/pulse/node", "expected a node name inside the converter");
    c.pulse_threshold_v = r.number(r.require(p, "/converter/pulse", "threshold_v"), "/converter/pulse/threshold_v", "V");
  }
  return c;
}

bool is_card_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  try {
    const json j = json::parse(read_text_file(path));
    return j.is_object() && j.contains("format") && j["format"] == kCardFormat;
  } catch (const std::exception&) {
    return false;
  }
}

fs::path default_card_path() {
  const fs::path p = find_shipped_file("netlists/cells/pushpull.cell.json");
  if (p.empty()) throw IoError("cannot find gaincell's default cell card netlists/cells/pushpull.cell.json in the source tree or data directory");
  return p;
}

std::vector<fs::path> card_files(const CellCard& c) {
  std::vector<fs::path> roots{c.path};
  if (!c.lib_file.empty()) roots.push_back(c.lib_file);
  for (const auto& i : c.includes) roots.push_back(i);
  roots.push_back(c.cell.file);
  roots.push_back(c.converter.file);
  return netlist::dependency_closure(roots);
}

std::vector<fs::path> card_directories(const CellCard& c) {
  std::vector<fs::path> named{c.path, c.cell.file, c.converter.file};
  if (!c.lib_file.empty()) named.push_back(c.lib_file);
  named.insert(named.end(), c.includes.begin(), c.includes.end());
  std::vector<fs::path> dirs;
  for (const auto& f : named) {
    if (f.empty()) continue;
    const fs::path d = fs::absolute(f).parent_path().lexically_normal();
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  }
  return dirs;
}

std::string to_string(ReadScheme scheme) { return scheme == ReadScheme::kHeld ? "held" : "precharged"; }

std::string to_string(SignScheme sign) {
  switch (sign) {
    case SignScheme::kSigned: return "signed";
    case SignScheme::kReferenceColumn: return "reference_column";
    case SignScheme::kDifferential: return "differential";
  }
  return "?";
}

}  // namespace gaincell::cell
