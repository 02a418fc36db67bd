// SPDX-License-Identifier: MIT
#include "gaincell/cell/card.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "gaincell/netlist/subckt.h"
#include "gaincell/netlist/template.h"
#include "gaincell/spice/worker.h"

namespace gaincell::cell {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr JsonErrorIds kCardIds{"GC-2001", "GC-2002", "GC-2003", "GC-2004", "GC-2005"};

const std::vector<std::string> kCellRoles = {"wbl", "wwl", "wlr", "wlrb", "rd", "vdd"};
const std::vector<std::string> kConverterRoles = {"line", "ramp", "out", "vref", "rst", "vdd"};

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The names of the schemes, as cards spell them.
template <typename Enum, std::size_t N>
using Names = std::array<std::pair<const char*, Enum>, N>;
constexpr Names<ReadScheme, 2> kReadSchemes = {{{"held", ReadScheme::kHeld}, {"precharged", ReadScheme::kPrecharged}}};
constexpr Names<SignScheme, 3> kSignSchemes = {{{"signed", SignScheme::kSigned},
                                                {"reference_column", SignScheme::kReferenceColumn},
                                                {"differential", SignScheme::kDifferential}}};
constexpr const char* kReadSchemesExpected =
    "expected \"held\" (an integrator holds the line) or \"precharged\" (the line floats after a precharge)";
constexpr const char* kSignSchemesExpected =
    "expected \"signed\" (the cell sources and sinks around offset_v), \"reference_column\" or \"differential\" "
    "(an unsigned cell)";

template <typename Enum, std::size_t N>
std::string name_of(const Names<Enum, N>& names, Enum value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

// One of `names` at obj/key (required); else a value error: `expected`,
// then the text found.
template <typename Enum, std::size_t N>
Enum read_choice(const JsonReader& r, const json& obj, const std::string& ptr, const char* key, const Names<Enum, N>& names,
                 const std::string& expected) {
  const std::string pointer = ptr + "/" + key;
  const std::string text = r.string(r.require(obj, ptr, key), pointer);
  for (const auto& [name, value] : names) {
    if (text == name) return value;
  }
  r.bad_value(pointer, expected + ", found \"" + text + "\"");
}

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

// What a card says about one subcircuit, and where: the pieces of bind_subckt.
struct Binder {
  const JsonReader& r;
  const json& j;
  const std::string& ptr;
  const std::vector<std::string>& roles;
  const char* what;  // "cell", "converter"
  SubcktBinding b;
  netlist::SubcktHeader header;
  std::set<std::string> bound;  // ports bound to a role or fixed

  std::string subckt_at() const { return b.file.string() + ":" + std::to_string(b.line); }

  void find_subckt(const fs::path& card_dir) {
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
    header = *it;
    b.ports = header.ports;
    b.line = header.line;
  }

  void check_port(const std::string& pointer, const std::string& port, const std::string& prefix, bool at_key) {
    if (!contains(b.ports, port)) {
      r.fail(pointer, "GC-2008", prefix + "subcircuit " + b.name + " (" + subckt_at() + ") has no port '" + port +
                                     "'; its ports are: " + join(b.ports, " "), "", at_key);
    }
  }

  // Calls f(pointer, key, value) for each member of the object j[key], if there is one.
  template <typename F>
  void each_member(const char* key, F f) const {
    if (!j.contains(key)) return;
    const std::string base = ptr + "/" + key;
    const json& members = r.object(j[key], base);
    for (auto m = members.begin(); m != members.end(); ++m) f(base + "/" + m.key(), m.key(), m.value());
  }

  void bind_roles() {
    r.require(j, ptr, "ports");
    each_member("ports", [&](const std::string& pp, const std::string& key, const json& value) {
      const std::string role = lower(key);
      if (!contains(roles, role)) {
        r.fail(pp, "GC-2008", "unknown " + std::string(what) + " role '" + key + "'; the roles are: " + join(roles, ", "),
               "map each role to a port name of the subcircuit; hold other ports at a level in fixed_ports", true);
      }
      const std::string port = lower(r.string(value, pp));
      check_port(pp, port, "role " + role + ": ", false);
      if (!bound.insert(port).second) r.fail(pp, "GC-2008", "port '" + port + "' is bound twice");
      b.role_port[role] = port;
    });
  }

  // Each required role ("a|b": either) has a port.
  void check_required(const std::vector<std::string>& required) const {
    for (const auto& role : required) {
      const auto bar = role.find('|');
      const bool any_of = bar != std::string::npos;
      const bool ok = any_of ? b.has_role(role.substr(0, bar)) || b.has_role(role.substr(bar + 1)) : b.has_role(role);
      if (!ok) {
        r.fail(ptr + "/ports", "GC-2008",
               std::string(what) + " role " + (any_of ? "'" + role.substr(0, bar) + "' or '" + role.substr(bar + 1) + "'" : "'" + role + "'") +
                   " is not bound to a port");
      }
    }
  }

  void bind_fixed() {
    each_member("fixed_ports", [&](const std::string& fp, const std::string& key, const json& value) {
      const std::string port = lower(key);
      check_port(fp, port, "", true);
      if (!bound.insert(port).second) r.fail(fp, "GC-2008", "port '" + port + "' is bound to a role and also fixed", "", true);
      b.fixed_v[port] = r.number(value, fp, "V");
    });
  }

  void check_all_bound() const {
    for (const auto& port : b.ports) {
      if (bound.count(port) == 0) {
        r.fail(ptr + "/ports", "GC-2008",
               "port '" + port + "' of subcircuit " + b.name + " (" + subckt_at() + ") is neither bound to a role nor fixed",
               "bind it in ports (roles: " + join(roles, ", ") +
                   ") or hold it at a DC level in fixed_ports, e.g. \"fixed_ports\": {\"" + port + "\": 0}");
      }
    }
  }

  void bind_params() {
    each_member("params", [&](const std::string& pp, const std::string& key, const json& value) {
      const std::string name = lower(key);
      if (!is_identifier(name)) r.bad_value(pp, "parameter names are identifiers");
      if (!contains(header.params, name)) {
        r.fail(pp, "GC-2008", "subcircuit " + b.name + " (" + subckt_at() + ") has no parameter '" + name + "'" +
                                  (header.params.empty() ? std::string(" (it declares none)") : "; it declares: " + join(header.params, ", ")),
               "", true);
      }
      b.params.emplace_back(name, gaincell::format_exact(r.number(value, pp, "")));
    });
  }
};

// The subcircuit `name` in `file`, its ports bound to roles or fixed levels.
SubcktBinding bind_subckt(const JsonReader& r, const fs::path& card_dir, const json& j, const std::string& ptr,
                          const std::vector<std::string>& roles, const std::vector<std::string>& required, const char* what) {
  r.object(j, ptr);
  Binder binder{r, j, ptr, roles, what, {}, {}, {}};
  binder.find_subckt(card_dir);
  binder.bind_roles();
  binder.check_required(required);
  binder.bind_fixed();
  binder.check_all_bound();
  binder.bind_params();
  return binder.b;
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

// ---- The sections of a card, in the order they are checked ----

void read_header(const JsonReader& r, const json& root, CellCard& c) {
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
}

void check_storage_node(const JsonReader& r, const CellCard& c) {
  const auto subckts = netlist::read_subckts(c.cell.file);
  const auto it = std::find_if(subckts.begin(), subckts.end(), [&](const auto& s) { return s.name == c.cell.name; });
  const std::vector<std::string>& nodes = it->internal_nodes;
  if (contains(nodes, c.storage_node)) return;
  const auto close = closest_names(c.storage_node, nodes);
  r.fail("/subckt/storage_node", "GC-2008",
         "'" + c.storage_node + "' is not an internal node of subcircuit " + c.cell.name + " (" + c.cell.file.string() + ":" +
             std::to_string(c.cell.line) + ")" +
             (nodes.empty() ? std::string("; it has none") : "; its internal nodes are: " + join(nodes, " ")),
         close.empty() ? "" : "did you mean '" + close.front() + "'?");
}

void read_cell(const JsonReader& r, const json& root, const fs::path& dir, CellCard& c) {
  const json& sub = r.required_section(root, "", "subckt", {"file", "name", "ports", "fixed_ports", "params", "storage_node"});
  c.cell = bind_subckt(r, dir, sub, "/subckt", kCellRoles, {"wbl", "wwl", "rd", "wlr|wlrb"}, "cell");
  if (sub.contains("storage_node")) {
    c.storage_node = lower(r.string(sub["storage_node"], "/subckt/storage_node"));
    check_storage_node(r, c);
  }
}

void read_lib(const JsonReader& r, const json& lib, const fs::path& dir, CellCard& c) {
  c.lib_file = resolve(r, dir, r.require(lib, "/models/lib", "file"), "/models/lib/file");
  c.lib_section = lower(r.string(r.require(lib, "/models/lib", "section"), "/models/lib/section"));
  const auto sections = netlist::library_sections(c.lib_file);
  if (!contains(sections, c.lib_section)) {
    r.fail("/models/lib/section", "GC-2009", "section '" + c.lib_section + "' is not in " + c.lib_file.string() +
                                                 (sections.empty() ? std::string(" (it defines none)") : "; it defines: " + join(sections, ", ")));
  }
}

void read_ngspice_init(const JsonReader& r, const json& m, CellCard& c) {
  for (const auto& [ptr, line] : r.items_if(m, "/models", "ngspice_init")) {
    const spice::InitLineCheck check = spice::check_init_line(r.string(*line, ptr));
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

void read_models(const JsonReader& r, const json* models, const fs::path& dir, CellCard& c) {
  if (models == nullptr) return;
  for (const auto& [pointer, file] : r.items_if(*models, "/models", "include")) c.includes.push_back(resolve(r, dir, *file, pointer));
  if (const json* lib = r.optional_section(*models, "/models", "lib", {"file", "section"})) read_lib(r, *lib, dir, c);
  if (models->contains("ngspice_init")) read_ngspice_init(r, *models, c);
}

void read_supply(const JsonReader& r, const json& root, CellCard& c) {
  r.number_if(root, "", "vdd_v", "V", c.vdd_v);
  if (!(c.vdd_v > 0)) r.bad_value("/vdd_v", "the supply must be > 0 V");
  // Default drive levels follow the supply.
  c.wlr_active_v = c.vdd_v;
  c.wlrb_idle_v = c.vdd_v;
}

void read_write(const JsonReader& r, const json* w, CellCard& c) {
  if (w == nullptr) return;
  r.numbers_if(*w, "/write", {{"wwl_high_v", "V", &c.wwl_high_v}, {"wwl_hold_v", "V", &c.wwl_hold_v},
                             {"t_on_s", "s", &c.t_write_on_s}, {"t_off_s", "s", &c.t_write_off_s}});
}

void read_line(const JsonReader& r, const json& rd, CellCard& c) {
  c.scheme = read_choice(r, rd, "/read", "scheme", kReadSchemes, kReadSchemesExpected);
  c.line_v = r.number(r.require(rd, "/read", "line_v"), "/read/line_v", "V");
  const bool has_c_line = r.number_if(rd, "/read", "c_line_f", "F", c.c_line_f);
  if (c.scheme == ReadScheme::kPrecharged && !has_c_line) {
    r.fail("/read", "GC-2002", "a precharged line needs its capacitance: missing required key 'c_line_f'");
  }
  if (has_c_line && !(c.c_line_f > 0)) r.bad_value("/read/c_line_f", "the line capacitance must be > 0 F");
}

void read_pulse(const JsonReader& r, const json& rd, CellCard& c) {
  r.numbers_if(rd, "/read", {{"wlr_idle_v", "V", &c.wlr_idle_v}, {"wlr_active_v", "V", &c.wlr_active_v},
                             {"wlrb_idle_v", "V", &c.wlrb_idle_v}, {"wlrb_active_v", "V", &c.wlrb_active_v},
                             {"t_start_s", "s", &c.t_read_s}, {"t_max_s", "s", &c.t_max_s}, {"t_edge_s", "s", &c.t_edge_s}});
  if (rd.contains("pulse_levels")) c.pulse_levels = static_cast<int>(r.integer(rd["pulse_levels"], "/read/pulse_levels", 2, 4096));
}

void check_timing(const JsonReader& r, const json& rd, const CellCard& c) {
  if (!(c.t_max_s > 0)) r.bad_value("/read/t_max_s", "the full-scale pulse must be > 0 s");
  if (!(c.t_edge_s > 0 && c.t_edge_s < c.t_max_s)) r.bad_value("/read/t_edge_s", "edges must be > 0 s and shorter than t_max_s");
  if (!(c.t_write_on_s >= 0 && c.t_write_off_s > c.t_write_on_s + c.t_edge_s)) {
    r.bad_value("/write/t_off_s", "the write word line must rise (t_on_s >= 0) and fall after it has risen (t_off_s > t_on_s + t_edge_s)");
  }
  // The line is released (precharge switch, integrator reset) 1 ns before the read; the write ends before that.
  if (!(c.t_read_s - 1e-9 > c.t_write_off_s + c.t_edge_s + 1e-9)) {
    r.bad_value(rd.contains("t_start_s") ? "/read/t_start_s" : "/read",
                "the read starts at " + gaincell::format_human(c.t_read_s, "s", 4, true) + ", too soon after the write (ends " +
                    gaincell::format_human(c.t_write_off_s + c.t_edge_s, "s", 4, true) + "): it must start at least 2 ns later");
  }
}

// The line voltages the read-current sweep covers.
void read_line_sweep(const JsonReader& r, const json& rd, CellCard& c) {
  if (c.scheme == ReadScheme::kHeld) {
    c.line_sweep_lo_v = c.line_v - 0.1;
    c.line_sweep_hi_v = c.line_v + 0.1;
    c.line_sweep_points = 5;
  } else {
    c.line_sweep_lo_v = 0.0;
    c.line_sweep_hi_v = c.line_v;
    c.line_sweep_points = 10;
  }
  const json* sweep = r.optional_section(rd, "/read", "line_sweep_v", {"from", "to", "points"});
  if (sweep == nullptr) return;
  const json& ls = *sweep;
  const std::string lp = "/read/line_sweep_v";
  c.line_sweep_lo_v = r.number(r.require(ls, lp, "from"), lp + "/from", "V");
  c.line_sweep_hi_v = r.number(r.require(ls, lp, "to"), lp + "/to", "V");
  c.line_sweep_points = static_cast<int>(r.integer(r.require(ls, lp, "points"), lp + "/points", 2, 256));
  if (!(c.line_sweep_hi_v > c.line_sweep_lo_v)) r.bad_value(lp, "expected from < to");
  if (!(c.line_v >= c.line_sweep_lo_v && c.line_v <= c.line_sweep_hi_v)) {
    r.bad_value(lp, "the sweep must include the line level line_v = " + gaincell::format_exact(c.line_v) + " V");
  }
}

void read_read(const JsonReader& r, const json& root, CellCard& c) {
  const json& rd = r.required_section(root, "", "read", {"scheme", "line_v", "c_line_f", "wlr_idle_v", "wlr_active_v", "wlrb_idle_v", "wlrb_active_v",
                             "t_start_s", "t_max_s", "t_edge_s", "pulse_levels", "line_sweep_v"});
  read_line(r, rd, c);
  read_pulse(r, rd, c);
  check_timing(r, rd, c);
  read_line_sweep(r, rd, c);
}

void read_store(const JsonReader& r, const json* store, CellCard& c) {
  if (store == nullptr) return;
  const json& st = *store;
  if (st.contains("range_v")) {
    const json& range = r.array(st["range_v"], "/store/range_v");
    if (range.size() != 2) r.bad_value("/store/range_v", "expected [low, high] in V");
    c.store_lo_v = r.number(range[0], "/store/range_v/0", "V");
    c.store_hi_v = r.number(range[1], "/store/range_v/1", "V");
    if (!(c.store_hi_v > c.store_lo_v)) r.bad_value("/store/range_v", "expected low < high");
  }
  if (st.contains("levels")) c.store_levels = static_cast<int>(r.integer(st["levels"], "/store/levels", 2, 4096));
}

void read_sign(const JsonReader& r, const json& root, CellCard& c) {
  const json& sign = r.required_section(root, "", "sign", {"scheme", "offset_v"});
  c.sign = read_choice(r, sign, "/sign", "scheme", kSignSchemes, kSignSchemesExpected);
  c.offset_v = r.number(r.require(sign, "/sign", "offset_v"), "/sign/offset_v", "V");
  if (!(c.offset_v > c.store_lo_v && c.offset_v < c.store_hi_v)) {
    r.bad_value("/sign/offset_v", "the zero of the stored value must lie inside the stored range (" +
                                      gaincell::format_exact(c.store_lo_v) + " .. " + gaincell::format_exact(c.store_hi_v) + " V)");
  }
  if (c.sign == SignScheme::kDifferential &&
      std::abs((c.offset_v - c.store_lo_v) - (c.store_hi_v - c.offset_v)) > 1e-9 * std::max(1.0, c.store_hi_v)) {
    r.bad_value("/sign/offset_v", "a differential pair stores w and 2 offset_v - w: offset_v must be the middle of the "
                                  "stored range (" + gaincell::format_exact(0.5 * (c.store_lo_v + c.store_hi_v)) + " V)");
  }
}

void read_retention(const JsonReader& r, const json* retention, CellCard& c) {
  if (retention == nullptr) return;
  const json& ret = *retention;
  r.numbers_if(ret, "/retention", {{"decay_toward_v", "V", &c.decay_toward_v}, {"t_hold_s", "s", &c.t_hold_s},
                                   {"wbl_hold_v", "V", &c.wbl_hold_v}});
  if (ret.contains("options")) c.retention_options = options(r, ret["options"], "/retention/options");
  if (!(c.t_hold_s >= 1e-4)) r.bad_value("/retention/t_hold_s", "the hold must be at least 100 us");
  for (const char* o : {"gmin", "abstol"}) {
    if (option_value(c.retention_options, o, 1e-12) > 1e-18) {
      r.bad_value("/retention/options", std::string("retention needs ") + o + " <= 1e-18 (else the " + o +
                                            " conductance fakes the leak); set it in /retention/options");
    }
  }
}

void read_simulation(const JsonReader& r, const json* sim, CellCard& c) {
  if (sim == nullptr) return;
  r.number_if(*sim, "/simulation", "t_step_s", "s", c.t_step_s);
  if (sim->contains("options")) c.options = options(r, (*sim)["options"], "/simulation/options");
  if (!(c.t_step_s > 0 && c.t_step_s <= c.t_max_s / 8)) {
    r.bad_value("/simulation/t_step_s", "the time step must be > 0 and at most t_max_s / 8");
  }
}

void read_converter(const JsonReader& r, const json& root, const fs::path& dir, CellCard& c) {
  const json& conv = r.required_section(root, "", "converter", {"file", "name", "ports", "fixed_ports", "params", "ramp_top_v", "q_sat_c", "pulse"});
  c.converter = bind_subckt(r, dir, conv, "/converter", kConverterRoles, {"line", "ramp", "out", "vref", "rst"}, "converter");
  r.numbers_if(conv, "/converter", {{"ramp_top_v", "V", &c.ramp_top_v}, {"q_sat_c", "C", &c.q_sat_c}});
  if (!(c.ramp_top_v > 0)) r.bad_value("/converter/ramp_top_v", "the ramp must rise: ramp_top_v > 0 V");
  if (!(c.q_sat_c > 0)) r.bad_value("/converter/q_sat_c", "the saturation charge must be > 0 C");
  c.pulse_threshold_v = 0.5 * c.vdd_v;
  const json* pulse = r.optional_section(conv, "/converter", "pulse", {"node", "threshold_v"});
  if (pulse == nullptr) return;
  const json& p = *pulse;
  c.pulse_node = lower(r.string(r.require(p, "/converter/pulse", "node"), "/converter/pulse/node"));
  if (!is_identifier(c.pulse_node)) r.bad_value("/converter/pulse/node", "expected a node name inside the converter");
  c.pulse_threshold_v = r.number(r.require(p, "/converter/pulse", "threshold_v"), "/converter/pulse/threshold_v", "V");
}

}  // namespace

std::string SubcktBinding::role_of(const std::string& port) const {
  for (const auto& [role, p] : role_port) {
    if (p == port) return role;
  }
  return "";
}

std::string SubcktBinding::instance(const std::string& instance_name, const std::map<std::string, std::string>& role_node,
                                    const std::string& fixed_prefix) const {
  std::string out = instance_name;
  for (const auto& port : ports) {
    const std::string role = role_of(port);
    out += " " + (role.empty() ? fixed_prefix + port : role_node.at(role));
  }
  out += " " + name;
  for (const auto& [k, v] : params) out += " " + k + "=" + v;
  return out;
}

CellCard load_card(const fs::path& path) { return parse_card(read_text_file(path), path); }

CellCard parse_card(std::string text, const fs::path& origin) {
  CellCard c;
  c.path = fs::absolute(origin).lexically_normal();
  c.text = std::move(text);
  const fs::path dir = c.path.parent_path();
  const JsonReader r(c.text, origin.string(), kCardIds);
  const json root = r.parse();
  read_header(r, root, c);
  read_cell(r, root, dir, c);
  read_models(r, r.optional_section(root, "", "models", {"include", "lib", "ngspice_init"}), dir, c);
  read_supply(r, root, c);
  read_write(r, r.optional_section(root, "", "write", {"wwl_high_v", "wwl_hold_v", "t_on_s", "t_off_s"}), c);
  read_read(r, root, c);
  read_store(r, r.optional_section(root, "", "store", {"range_v", "levels"}), c);
  read_sign(r, root, c);
  read_retention(r, r.optional_section(root, "", "retention", {"t_hold_s", "wbl_hold_v", "decay_toward_v", "options"}), c);
  read_simulation(r, r.optional_section(root, "", "simulation", {"t_step_s", "options"}), c);
  read_converter(r, root, dir, c);
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

std::string describe(const CellCard& c) {
  const auto human = [](double v, const char* unit) { return gaincell::format_human(v, unit, 4, true); };
  std::string out = "cell " + c.name + ": subcircuit " + c.cell.name + " of " + c.cell.file.string() + " (line " +
                    std::to_string(c.cell.line) + ")\n";
  for (const auto& port : c.cell.ports) {
    const std::string role = c.cell.role_of(port);
    std::string padded = port;
    padded.resize(std::max<std::size_t>(port.size(), 10), ' ');
    out += "  port " + padded + " " + (role.empty() ? "fixed at " + human(c.cell.fixed_v.at(port), "V") : "role " + role) + "\n";
  }
  out += "  storage node: " + (c.storage_node.empty() ? std::string("(not named: no retention sweep)") : "x1." + c.storage_node) + "\n";
  out += "  read: " + to_string(c.scheme) + " line at " + human(c.line_v, "V");
  if (c.scheme == ReadScheme::kPrecharged) out += ", c_line " + human(c.c_line_f, "F");
  out += "; pulse up to " + human(c.t_max_s, "s") + " from " + human(c.t_read_s, "s") + ", " + std::to_string(c.pulse_levels) +
         " levels\n";
  out += "  store: " + human(c.store_lo_v, "V") + " .. " + human(c.store_hi_v, "V") + ", " + std::to_string(c.store_levels) +
         " levels; sign: " + to_string(c.sign) + " around " + human(c.offset_v, "V") + "\n";
  out += "  converter: " + c.converter.name + " of " + c.converter.file.string() + "\n";
  return out;
}

std::string to_string(ReadScheme scheme) { return name_of(kReadSchemes, scheme); }
std::string to_string(SignScheme sign) { return name_of(kSignSchemes, sign); }

}  // namespace gaincell::cell
