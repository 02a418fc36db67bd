// SPDX-License-Identifier: MIT
#include "gaincell/tile/tile.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/netlist/deck_check.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "gaincell/netlist/subckt.h"
#include "gaincell/spice/worker_pool.h"
#include "store/h5.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::tile {
namespace {

namespace fs = std::filesystem;
using gaincell::format_exact;
using cell::SignScheme;

std::string node(const std::string& base, std::size_t a) { return base + "_" + std::to_string(a); }

// A PULSE of width `width` (50 % to 50 %) starting at `start`; no pulse for width 0.
// A pulse shorter than two edges gets edges of width / 2: ngspice reads a PULSE
// width (PW) of 0 as "the default", TSTOP, which would hold the pulse on to the
// end of the run (a 10 ps read became a 22 ns one).
std::string pulse(double low, double high, double start, double width, double edge) {
  if (width <= 0) return "DC " + format_exact(low);
  const double rise = std::min(edge, 0.5 * width);
  const double flat = width - rise;
  return "PULSE(" + format_exact(low) + " " + format_exact(high) + " " + format_exact(start) + " " +
         format_exact(rise) + " " + format_exact(rise) + " " + format_exact(flat) + " 1)";
}

// The converter's integrator output (the shipped converter's "int"): the swing is measured there.
bool has_swing_node(const TileSpec& t) { return t.converter.name == "gc_c2p_integrator"; }

// A line of the tile: its name, the stored values of its cells, and whether it is a
// companion (reference or complement) line whose charge is subtracted from a main line.
struct Line {
  std::string name;    // node of the line ("line_3", "line_ref", "linem_3")
  std::string tag;     // suffix of its sources and cells ("3", "ref", "m_3")
  std::vector<double> values;
};

std::vector<Line> main_lines(const TileSpec& t) {
  std::vector<Line> lines;
  for (std::size_t j = 0; j < t.tokens; ++j) {
    lines.push_back({node("line", j), std::to_string(j),
                     std::vector<double>(t.k_v.begin() + static_cast<long>(j * t.dims),
                                         t.k_v.begin() + static_cast<long>((j + 1) * t.dims))});
  }
  return lines;
}

// Reference column: one line whose cells store offset_v. Differential: per
// token a line of the complements 2 offset_v - k.
std::vector<Line> companion_lines(const TileSpec& t) {
  std::vector<Line> lines;
  if (t.sign == SignScheme::kReferenceColumn) {
    lines.push_back({"line_ref", "ref", std::vector<double>(t.dims, t.offset_v)});
  } else if (t.sign == SignScheme::kDifferential) {
    for (std::size_t j = 0; j < t.tokens; ++j) {
      Line l{node("linem", j), "m_" + std::to_string(j), {}};
      for (std::size_t i = 0; i < t.dims; ++i) l.values.push_back(2.0 * t.offset_v - t.k_v[j * t.dims + i]);
      lines.push_back(l);
    }
  }
  return lines;
}

// The companion line whose charge line j's is reduced by ("" for signed cells).
std::string companion_of(const TileSpec& t, std::size_t j) {
  if (t.sign == SignScheme::kReferenceColumn) return "ref";
  if (t.sign == SignScheme::kDifferential) return "m_" + std::to_string(j);
  return "";
}

}  // namespace

std::string TileSpec::converter_param(const std::string& name) const {
  for (const auto& [k, v] : converter.params) {
    if (k == name) return v;
  }
  return "";
}

void TileSpec::set_converter_param(const std::string& name, double value) {
  for (auto& [k, v] : converter.params) {
    if (k == name) {
      v = format_exact(value);
      return;
    }
  }
  converter.params.emplace_back(name, format_exact(value));
}

TileSpec tile_from_card(const cell::CellCard& c) {
  TileSpec t{.cell_name = c.name,
             .card = c.path,
             .cell = c.cell,
             .converter = c.converter,
             .includes = c.includes,
             .lib_file = c.lib_file,
             .ngspice_init = c.ngspice_init,
             .lib_section = c.lib_section,
             .pulse_node = c.pulse_node,
             .pulse_threshold_v = c.pulse_threshold_v,
             .sign = c.sign,
             .offset_v = c.offset_v,
             .store_lo_v = c.store_lo_v,
             .store_hi_v = c.store_hi_v,
             .vdd_v = c.vdd_v,
             .v_ref_v = c.line_v,
             .v_wwl_v = c.wwl_high_v,
             .v_wwl_hold_v = c.wwl_hold_v,
             .wlr_idle_v = c.wlr_idle_v,
             .wlr_active_v = c.wlr_active_v,
             .wlrb_idle_v = c.wlrb_idle_v,
             .wlrb_active_v = c.wlrb_active_v,
             .t_max_s = c.t_max_s,
             .t_read_s = c.t_read_s,
             .t_edge_s = c.t_edge_s,
             .t_write_on_s = c.t_write_on_s,
             .t_write_off_s = c.t_write_off_s,
             .v_sat_v = c.ramp_top_v,
             .q_sat_nominal_c = c.q_sat_c,
             .t_step_s = c.t_step_s};
  // A precharged card's tile is its own circuit: lines float after the precharge.
  if (c.scheme == cell::ReadScheme::kPrecharged) {
    t.passive_line = true;
    t.c_line_f = c.c_line_f;
  }
  return t;
}

TileSpec tile_from_subckt(const fs::path& file) {
  const auto subckts = netlist::read_subckts(file);
  if (subckts.empty()) throw InputError("GC-1501", "no .subckt line: not a cell file").at({file.string(), 0, 0, ""});
  const auto& s = subckts.front();
  static const char* const kRoles[] = {"wbl", "wwl", "wlr", "wlrb", "rd", "vdd"};
  for (const auto& p : s.ports) {
    if (std::find_if(std::begin(kRoles), std::end(kRoles), [&](const char* r) { return p == r; }) == std::end(kRoles)) {
      throw InputError("GC-1501", "port '" + p + "' of subcircuit " + s.name + " is not a tile role",
                        "name the ports wbl, wwl, rd (required), wlr and/or wlrb, and vdd, or write a cell card that maps "
                        "your port names to roles (docs/cells.md)").at({file.string(), s.line, 1, ""});
    }
  }
  auto has = [&](const char* port) { return std::find(s.ports.begin(), s.ports.end(), port) != s.ports.end(); };
  for (const char* required : {"wbl", "wwl", "rd"}) {
    if (!has(required)) throw InputError("GC-1501", "subcircuit " + s.name + " has no '" + required + "' port").at({file.string(), s.line, 1, ""});
  }
  if (!has("wlr") && !has("wlrb")) {
    throw InputError("GC-1501",
                      "subcircuit " + s.name + " has neither a 'wlr' nor a 'wlrb' read word line port").at({file.string(), s.line, 1, ""});
  }
  // The default cell's levels and gaincell's converter (documented: docs/tiles.md).
  TileSpec t = tile_from_card(cell::load_card(cell::default_card_path()));
  t.cell_name = s.name;
  t.card.clear();
  t.cell = cell::SubcktBinding{};
  t.cell.file = fs::absolute(file).lexically_normal();
  t.cell.name = s.name;
  t.cell.ports = s.ports;
  t.cell.line = s.line;
  for (const auto& p : s.ports) t.cell.role_port[p] = p;
  return t;
}

TileSource tile_from_card_file(const fs::path& card) {
  const fs::path path = card.empty() ? cell::default_card_path() : card;
  return {tile_from_card(cell::load_card(path)), "card " + path.string(), ""};
}

TileSource tile_from_cell_file(const fs::path& file) {
  fs::path beside = file;
  beside.replace_extension(".cell.json");
  if (cell::is_card_file(beside)) return tile_from_card_file(beside);
  return {tile_from_subckt(file),
          file.string() + " (no card beside it: ports by role name, the default cell's drive levels and converter)",
          "tile: no card beside " + file.string() + " (looked for " + beside.string() +
              "): its ports are taken as roles, the drive levels and converter are the default cell's (docs/cells.md)"};
}

void apply_overrides(TileSpec& t, const TileOverrides& o) {
  for (const auto& [level, value] : {std::pair{&t.v_ref_v, o.v_ref_v}, std::pair{&t.v_wwl_v, o.v_wwl_v},
                                     std::pair{&t.v_wwl_hold_v, o.v_wwl_hold_v}, std::pair{&t.wlr_idle_v, o.wlr_idle_v},
                                     std::pair{&t.wlr_active_v, o.wlr_active_v}, std::pair{&t.wlrb_idle_v, o.wlrb_idle_v},
                                     std::pair{&t.wlrb_active_v, o.wlrb_active_v}}) {
    if (value) *level = *value;
  }
  if (o.passive_line && o.held_line) throw InputError("GC-1502", "tile: --passive-line or --held-line, not both");
  if (o.passive_line) t.passive_line = true;
  if (o.held_line) t.passive_line = false;
  if (o.c_line_f) t.c_line_f = *o.c_line_f;
}

void set_random_inputs(TileSpec& t, std::size_t tokens, std::size_t dims, std::uint64_t seed) {
  t.tokens = tokens;
  t.dims = dims;
  t.seed = seed;
  t.q.clear();
  t.k_v.clear();
  // Uniform integer levels from the same counter-based generator as Monte Carlo.
  auto level = [&](const std::string& what, std::size_t index, int levels) {
    const double z = sweep::monte_carlo_normal(seed, index, what);
    const double u = 0.5 * std::erfc(-z / std::sqrt(2.0));  // N(0,1) -> U(0,1)
    return std::min(levels - 1, static_cast<int>(u * levels));
  };
  for (std::size_t i = 0; i < dims; ++i) t.q.push_back(level("q", i, 16) / 15.0);
  for (std::size_t k = 0; k < tokens * dims; ++k) {
    t.k_v.push_back(t.store_lo_v + level("k", k, 8) * (t.store_hi_v - t.store_lo_v) / 7.0);
  }
}

void validate(const TileSpec& t) {
  auto fail = [](const std::string& what) { throw InputError("GC-1502", "tile: " + what); };
  if (t.tokens < 1 || t.dims < 1) fail("tokens and dims must be >= 1");
  if (t.tokens > 64 || t.dims > 64) fail("tiles are at most 64 x 64 (the paper's sub-tile)");
  if (t.q.size() != t.dims) fail("Q has " + std::to_string(t.q.size()) + " values; expected dims = " + std::to_string(t.dims));
  if (t.k_v.size() != t.tokens * t.dims) {
    fail("K has " + std::to_string(t.k_v.size()) + " values; expected tokens x dims = " + std::to_string(t.tokens * t.dims));
  }
  for (double q : t.q) {
    if (!(q >= 0 && q <= 1)) fail("Q values must be in [0, 1] (fractions of t_max); found " + format_exact(q));
  }
  for (double k : t.k_v) {
    if (!(k >= t.store_lo_v - 0.1 && k <= t.store_hi_v + 0.1)) {
      fail("K values must be stored voltages near [" + format_exact(t.store_lo_v) + ", " + format_exact(t.store_hi_v) +
           "] V; found " + format_exact(k));
    }
  }
  if (!(t.c_line_f > 0)) fail("the line capacitance must be > 0 F");
}

namespace {

// What the deck is: its size, cell, read lines and sign scheme (comments).
std::string tile_header(const TileSpec& t) {
  std::ostringstream out;
  out << "gaincell tile " << t.tokens << "x" << t.dims << " of " << t.cell_name << "\n";
  out << "* " << t.tokens << " stored tokens (read lines) x " << t.dims << " dimensions (PWM read word lines)\n";
  out << "* cell: " << t.cell.name << " of " << t.cell.file.string();
  if (!t.card.empty()) out << " (card " << t.card.string() << ")";
  out << "\n* lines: " << (t.passive_line ? "passive (precharged to v_ref, then floating on c_line)" : "held at v_ref by the converter")
      << "; sign: " << cell::to_string(t.sign);
  if (t.sign == SignScheme::kReferenceColumn) out << " (line_ref stores " << format_exact(t.offset_v) << " V)";
  if (t.sign == SignScheme::kDifferential) out << " (linem_j stores 2*" << format_exact(t.offset_v) << " - K)";
  out << "\n";
  if (!t.lib_file.empty()) out << ".lib \"" << t.lib_file.string() << "\" " << t.lib_section << "\n";
  for (const auto& inc : t.includes) out << ".include \"" << inc.string() << "\"\n";
  out << ".include \"" << t.cell.file.string() << "\"\n";
  if (!t.passive_line) out << ".include \"" << t.converter.file.string() << "\"\n";
  return out.str();
}

// The sources every line shares: supply, line level, write word line, reset, ramp.
std::string shared_sources(const TileSpec& t) {
  const double edge = t.t_edge_s, tc = t.t_compare_s();
  const double release = t.t_read_s - 1e-9;
  std::ostringstream out;
  out << "VDD vdd 0 " << format_exact(t.vdd_v) << "\n";
  out << "VREF vref 0 " << format_exact(t.v_ref_v) << "\n";
  // All cells are written at once by one write word line.
  out << "VWWL wwl 0 PWL(0 " << format_exact(t.v_wwl_hold_v) << " " << format_exact(t.t_write_on_s) << " "
      << format_exact(t.v_wwl_hold_v) << " " << format_exact(t.t_write_on_s + edge) << " " << format_exact(t.v_wwl_v) << " "
      << format_exact(t.t_write_off_s) << " " << format_exact(t.v_wwl_v) << " " << format_exact(t.t_write_off_s + edge)
      << " " << format_exact(t.v_wwl_hold_v) << ")\n";
  // The integrators are reset (passive lines precharged) until 1 ns before the read.
  out << "VRST rst 0 PWL(0 " << format_exact(t.vdd_v) << " " << format_exact(release) << " " << format_exact(t.vdd_v) << " "
      << format_exact(release + edge) << " 0)\n";
  if (!t.passive_line) {
    // Shared ramp: high (comparators off) until the comparison, 0 -> v_sat over t_max, then high again.
    out << "VRAMP ramp 0 PWL(0 10 " << format_exact(tc) << " 10 " << format_exact(tc + edge) << " 0 "
        << format_exact(tc + t.t_max_s) << " " << format_exact(t.v_sat_v) << " " << format_exact(tc + t.t_max_s + edge)
        << " 10)\n";
  }
  return out.str();
}

// The PWM read word lines (one per dimension) and the fixed port levels.
std::string word_line_sources(const TileSpec& t) {
  std::ostringstream out;
  for (std::size_t i = 0; i < t.dims; ++i) {
    const double width = t.q[i] * t.t_max_s;
    if (t.cell.has_role("wlr")) {
      out << "VWLR_" << i << " " << node("wlr", i) << " 0 " << pulse(t.wlr_idle_v, t.wlr_active_v, t.t_read_s, width, t.t_edge_s) << "\n";
    }
    if (t.cell.has_role("wlrb")) {
      out << "VWLRB_" << i << " " << node("wlrb", i) << " 0 "
          << pulse(t.wlrb_idle_v, t.wlrb_active_v, t.t_read_s, width, t.t_edge_s) << "\n";
    }
  }
  for (const auto& [port, level] : t.cell.fixed_v) out << "VFIX_" << port << " fix_" << port << " 0 " << format_exact(level) << "\n";
  if (!t.passive_line) {
    for (const auto& [port, level] : t.converter.fixed_v) {
      out << "VFIXC_" << port << " fixc_" << port << " 0 " << format_exact(level) << "\n";
    }
  }
  return out.str();
}

// How line `l` is read: a precharged capacitor, a held companion line, or
// (main line j) the converter, minus its companion's current.
std::string line_readout(const TileSpec& t, const Line& l, bool companion, std::size_t j) {
  std::ostringstream out;
  if (t.passive_line) {
    out << "CLINE_" << l.tag << " " << l.name << " 0 " << format_exact(t.c_line_f) << "\n";
    out << "SPRE_" << l.tag << " " << l.name << " vref rst 0 swpre\n";
  } else if (companion) {
    // Held at v_ref; its current is mirrored into the main lines (below).
    out << "VHOLD_" << l.tag << " " << l.name << " 0 " << format_exact(t.v_ref_v) << "\n";
  } else {
    const std::map<std::string, std::string> nodes = {{"line", l.name}, {"ramp", "ramp"}, {"out", node("out", j)},
                                                      {"vref", "vref"}, {"rst", "rst"},   {"vdd", "vdd"}};
    out << t.converter.instance("XC2P_" + std::to_string(j), nodes, "fixc_") << "\n";
    const std::string other = companion_of(t, j);
    // A current mirror: the companion line's current is pushed into this line,
    // so the integrator integrates the difference.
    if (!other.empty()) out << "FSUB_" << j << " 0 " << l.name << " vsense_" << other << " 1\n";
  }
  return out.str();
}

// One read line: its ammeter, wire, readout and cells.
std::string line_circuit(const TileSpec& t, const Line& l, bool companion, std::size_t j) {
  std::ostringstream out;
  out << "* line " << l.name << (companion ? " (companion: its charge is subtracted)" : "") << "\n";
  out << "VSENSE_" << l.tag << " " << l.name << " rdl_" << l.tag << " 0\n";
  out << "CWIRE_" << l.tag << " " << l.name << " 0 " << format_exact(t.c_wire_f * static_cast<double>(t.dims)) << "\n";
  out << line_readout(t, l, companion, j);
  for (std::size_t i = 0; i < t.dims; ++i) {
    const std::string wbl = "wbl_" + l.tag + "_" + std::to_string(i);
    out << "VWBL_" << l.tag << "_" << i << " " << wbl << " 0 " << format_exact(l.values[i]) << "\n";
    const std::map<std::string, std::string> nodes = {{"wbl", wbl},      {"wwl", "wwl"},           {"wlr", node("wlr", i)},
                                                      {"wlrb", node("wlrb", i)}, {"rd", "rdl_" + l.tag}, {"vdd", "vdd"}};
    out << t.cell.instance("X_" + l.tag + "_" + std::to_string(i), nodes, "fix_") << "\n";
  }
  return out.str();
}

// The transient, the vectors it keeps and the charge of every line.
std::string tile_analysis(const TileSpec& t, const std::vector<Line>& mains, const std::vector<Line>& companions) {
  std::ostringstream out;
  if (t.passive_line) out << ".model swpre sw vt=" << format_exact(0.5 * t.vdd_v) << " vh=0 ron=10 roff=1e15\n";
  out << ".options gmin=1e-18\n";
  out << ".tran " << format_exact(t.t_step_s) << " " << format_exact(t.t_stop_s()) << "\n";
  out << ".save";
  for (const auto& v : measure::save_names(tile_measures(t))) out << " " << v;
  out << "\n";
  const auto charge = [&](const std::string& name, const std::string& tag) {
    out << ".meas tran " << name << " integ i(vsense_" << tag << ") from=" << format_exact(t.t_read_s - 0.5e-9)
        << " to=" << format_exact(t.t_compare_s()) << "\n";
  };
  for (const auto& l : companions) charge("q_" + l.tag + "_c", l.tag);
  for (const auto& l : mains) charge("q_line_" + l.tag + "_c", l.tag);
  return out.str();
}

measure::ResolvedMeasure resolved(const std::string& name, measure::MeasureKind kind, const char* unit, const std::string& of) {
  measure::ResolvedMeasure m;
  m.name = name;
  m.kind = kind;
  m.unit = unit;
  m.of = of;
  return m;
}

}  // namespace

std::string render_tile(const TileSpec& t) {
  validate(t);
  const std::vector<Line> mains = main_lines(t), companions = companion_lines(t);
  std::string out = tile_header(t) + shared_sources(t) + word_line_sources(t);
  for (const auto& l : companions) out += line_circuit(t, l, true, 0);
  for (std::size_t j = 0; j < mains.size(); ++j) out += line_circuit(t, mains[j], false, j);
  return out + tile_analysis(t, mains, companions) + ".end\n";
}

std::vector<measure::ResolvedMeasure> tile_measures(const TileSpec& t) {
  std::vector<measure::ResolvedMeasure> ms;
  const double tc = t.t_compare_s();
  auto charge = [&](const std::string& tag) {
    measure::ResolvedMeasure q = resolved("q_" + tag + "_c", measure::MeasureKind::kIntegral, "C", "i(vsense_" + tag + ")");
    q.t_from_s = t.t_read_s - 0.5e-9;
    q.t_to_s = tc;
    ms.push_back(q);
  };
  auto value = [&](const std::string& name, const std::string& of) {
    measure::ResolvedMeasure v = resolved(name, measure::MeasureKind::kValueAt, "V", of);
    v.t_at_s = tc;
    ms.push_back(v);
  };
  for (const auto& l : companion_lines(t)) {
    charge(l.tag);
    if (t.passive_line) value("v_" + l.tag + "_v", "v(" + l.name + ")");
  }
  for (std::size_t j = 0; j < t.tokens; ++j) {
    const std::string tag = std::to_string(j);
    charge(tag);
    if (t.passive_line) {
      value("v_" + tag + "_v", "v(" + node("line", j) + ")");
      continue;
    }
    if (has_swing_node(t)) value("v_int_" + tag + "_v", "v(xc2p_" + tag + ".int)");
    // An internal decision node (swing - ramp) is smooth: its crossings interpolate
    // accurately where the output edge would not.
    measure::ResolvedMeasure pw = resolved("pw_" + tag + "_s", measure::MeasureKind::kTimeAbove, "s",
                                         t.pulse_node.empty() ? "v(" + node("out", j) + ")"
                                                              : "v(xc2p_" + tag + "." + t.pulse_node + ")");
    pw.threshold = t.pulse_threshold_v;
    pw.t_from_s = tc - 1e-9;
    ms.push_back(pw);
  }
  return ms;
}

namespace {

// The one simulation of a tile, its deck checked like any other.
spice::SimJob tile_job(const TileSpec& t, const TileRunOptions& options) {
  spice::SimJob job;
  job.id = 0;
  job.netlist = render_tile(t);
  // The deck reads the files the tile names and what they include: only from
  // those files' directories (and the shipped netlists), and no scripts.
  std::vector<fs::path> dirs;
  for (const fs::path& f : {t.card, t.cell.file, t.converter.file, t.lib_file}) {
    if (!f.empty()) dirs.push_back(fs::absolute(f).parent_path());
  }
  for (const auto& f : t.includes) dirs.push_back(fs::absolute(f).parent_path());
  netlist::check_deck(job.netlist, fs::absolute("tile-deck.cir"), netlist::include_roots(dirs));
  job.t_stop_s = t.t_stop_s();
  job.measures = tile_measures(t);
  job.timeout_s = options.timeout_s;
  return job;
}

// Per line: the charge, swing and pulse width, net of the companion line's.
void collect_lines(const TileSpec& t, const std::vector<measure::ResolvedMeasure>& measures, const spice::SimResult& r,
                   TileResult& result) {
  std::map<std::string, std::size_t> index;
  for (std::size_t k = 0; k < measures.size(); ++k) index[measures[k].name] = k;
  const auto at = [&](const std::string& name) {
    const auto it = index.find(name);
    return it != index.end() && it->second < r.values.size() ? r.values[it->second] : std::nan("");
  };
  for (std::size_t j = 0; j < t.tokens; ++j) {
    const std::string tag = std::to_string(j), other = companion_of(t, j);
    const double q_other = other.empty() ? 0.0 : at("q_" + other + "_c");
    result.q_line_c.push_back(at("q_" + tag + "_c") - q_other);
    if (t.passive_line) {
      const double v_other = other.empty() ? t.v_ref_v : at("v_" + other + "_v");
      result.v_int_v.push_back(at("v_" + tag + "_v") - v_other);
      result.pulse_width_s.push_back(std::nan(""));
    } else {
      result.v_int_v.push_back(has_swing_node(t) ? at("v_int_" + tag + "_v") - t.v_ref_v : std::nan(""));
      result.pulse_width_s.push_back(at("pw_" + tag + "_s"));
    }
  }
}

}  // namespace

TileResult run_tile(const TileSpec& t, const TileRunOptions& options) {
  const spice::SimJob job = tile_job(t, options);
  spice::PoolOptions pool_options;
  pool_options.jobs = 1;
  pool_options.worker = options.worker;
  pool_options.ngspice_init = t.ngspice_init;
  spice::WorkerPool pool(pool_options);
  TileResult result;
  pool.run(1, [&](std::size_t) { return job; },
           [&](spice::SimResult&& r) {
             result = TileResult{.outcome = r.outcome, .message = r.message, .parse_time_s = r.parse_time_s,
                                 .run_time_s = r.run_time_s, .wall_time_s = r.wall_time_s};
             collect_lines(t, job.measures, r, result);
           });
  result.ngspice_version = pool.ngspice_version();
  return result;
}

namespace {

// `dims`: the netCDF-4 dimensions (token, dim) of each axis of the array.
void write_array(hid_t loc, const std::string& name, const std::vector<double>& data, const std::vector<hid_t>& dims,
                 const std::string& unit, const std::string& description) {
  std::vector<hsize_t> shape;
  for (const hid_t d : dims) shape.push_back(h5::dataset_shape(d).at(0));
  h5::Handle space = h5::simple_space(shape);
  h5::Handle ds(h5::check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                                     H5P_DEFAULT),
                          "cannot create " + name),
                H5Dclose);
  h5::check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "cannot write " + name);
  h5::attach_dimensions(ds.id(), dims, name);
  h5::write_string_attribute(ds.id(), "units", unit);
  h5::write_string_attribute(ds.id(), "long_name", description);
}

// The files the tile was made of, and how it ran.
void write_provenance(hid_t root, const TileSpec& t, const TileResult& r) {
  h5::write_string_attribute(root, "gaincell_format", "gaincell-tile/1");
  h5::write_string_attribute(root, "gaincell_version", build_info().version);
  h5::write_string_attribute(root, "gaincell_git_sha", build_info().git_sha);
  h5::write_string_attribute(root, "ngspice_version", r.ngspice_version);
  h5::write_string_attribute(root, "cell_name", t.cell_name);
  if (!t.card.empty()) {
    h5::write_string_attribute(root, "card_file", t.card.string());
    h5::write_string_attribute(root, "card_sha256", sha256_file(t.card));
  }
  h5::write_string_attribute(root, "cell_file", t.cell.file.string());
  h5::write_string_attribute(root, "cell_sha256", sha256_file(t.cell.file));
  h5::write_string_attribute(root, "cell_subckt", t.cell.name);
  if (!t.passive_line) {
    h5::write_string_attribute(root, "converter_file", t.converter.file.string());
    h5::write_string_attribute(root, "converter_sha256", sha256_file(t.converter.file));
    h5::write_string_attribute(root, "converter_subckt", t.converter.name);
  }
  h5::write_string_attribute(root, "netlist_sha256", sha256_hex(render_tile(t)));
  h5::write_string_attribute(root, "status", std::string(spice::to_string(r.outcome)));
  h5::write_string_attribute(root, "message", r.message);
}

// The tile's size, levels and timings.
void write_settings(hid_t root, const TileSpec& t, const TileResult& r) {
  h5::write_string_attribute(root, "read_line", t.passive_line ? "passive" : "held");
  h5::write_string_attribute(root, "sign_scheme", cell::to_string(t.sign));
  h5::write_int_attribute(root, "tokens", static_cast<long long>(t.tokens));
  h5::write_int_attribute(root, "dims", static_cast<long long>(t.dims));
  h5::write_int_attribute(root, "seed", static_cast<long long>(t.seed));
  // A passive tile records its line capacitance too.
  const std::optional<double> c_line = t.passive_line ? std::optional<double>(t.c_line_f) : std::nullopt;
  for (const auto& [name, value] : std::vector<std::pair<const char*, std::optional<double>>>{
           {"t_max_s", t.t_max_s},           {"q_sat_nominal_c", t.q_sat_nominal_c},
           {"v_sat_v", t.v_sat_v},           {"v_ref_v", t.v_ref_v},
           {"offset_v", t.offset_v},         {"c_line_f", c_line},
           {"vdd_v", t.vdd_v},               {"v_wwl_v", t.v_wwl_v},
           {"v_wwl_hold_v", t.v_wwl_hold_v}, {"wlr_idle_v", t.wlr_idle_v},
           {"wlr_active_v", t.wlr_active_v}, {"wlrb_idle_v", t.wlrb_idle_v},
           {"wlrb_active_v", t.wlrb_active_v}, {"parse_time_s", r.parse_time_s},
           {"run_time_s", r.run_time_s},     {"wall_time_s", r.wall_time_s}}) {
    if (value) h5::write_double_attribute(root, name, *value);
  }
}

}  // namespace

void write_tile_results(const fs::path& path, const TileSpec& t, const TileResult& r) {
  check_output_file(path);
  const std::string partial = path.string() + ".partial";
  {
    h5::Handle file = h5::create_file(partial);
    const hid_t root = file.id();
    // Named dimensions for netCDF-4 readers: a token is a stored row (a read line), a dim a column.
    h5::Handle token = h5::create_dimension(root, "token", t.tokens);
    h5::Handle dim = h5::create_dimension(root, "dim", t.dims);
    write_array(root, "Q", t.q, {dim.id()}, "1", "query: read pulse width as a fraction of t_max, per dimension");
    write_array(root, "K", t.k_v, {token.id(), dim.id()}, "V", "stored voltage [token, dimension]");
    h5::Handle lines = h5::create_group(root, "lines");
    write_array(lines.id(), "q_line_c", r.q_line_c, {token.id()}, "C",
                "net charge drawn from each read line during the read (minus the reference or complement line's; "
                "positive: net sink)");
    write_array(lines.id(), "v_int_v", r.v_int_v, {token.id()}, "V",
                t.passive_line ? "line swing at the comparison (minus the reference or complement line's, or v_ref)"
                               : "integrator swing above v_ref at the comparison (= net charge / c_int)");
    write_array(lines.id(), "c2p_pulse_width_s", r.pulse_width_s, {token.id()}, "s",
                "charge-to-pulse output pulse width per line (HardSigmoid of the net charge)");
    write_provenance(root, t, r);
    write_settings(root, t, r);
    lines.close();
    token.close();
    dim.close();
    file.close();
  }
  fs::rename(partial, path);
}

void read_tile_inputs(TileSpec& t, const fs::path& path) {
  h5::Handle file = h5::open_file(path.string(), false);
  h5::Handle q = h5::open_dataset(file.id(), "Q");
  h5::Handle k = h5::open_dataset(file.id(), "K");
  const auto kshape = h5::dataset_shape(k.id());
  if (kshape.size() != 2) {
    throw InputError("GC-1502", "K must be 2-D [tokens, dims]").in_file(path.string());
  }
  t.tokens = kshape[0];
  t.dims = kshape[1];
  t.q = h5::read_doubles(q.id());
  t.k_v = h5::read_doubles(k.id());
  validate(t);
}

std::string summary(const TileSpec& t, const TileResult& r, const fs::path& results_file) {
  const auto human = [](double v, const char* unit, int digits) { return gaincell::format_human(v, unit, digits, true); };
  std::string out = "tile " + std::to_string(t.tokens) + "x" + std::to_string(t.dims) + " of " + t.cell_name + ": " +
                    std::string(spice::to_string(r.outcome)) + " in " + human(r.wall_time_s, "s", 3) + " (ngspice parse " +
                    human(r.parse_time_s, "s", 3) + ", run " + human(r.run_time_s, "s", 3) + ")\nresults: " +
                    results_file.string() + "\n";
  if (r.outcome != spice::SimOutcome::kOk) return out + r.message + "\n";
  for (std::size_t j = 0; j < t.tokens && j < 8; ++j) {
    out += "  line " + std::to_string(j) + ": charge " + human(r.q_line_c[j], "C", 4) + ", swing " + human(r.v_int_v[j], "V", 4) +
           ", pulse " + (t.passive_line ? "- (passive line: no converter)" : human(r.pulse_width_s[j], "s", 4)) + "\n";
  }
  if (t.tokens > 8) out += "  ... (" + std::to_string(t.tokens) + " lines in the file)\n";
  return out;
}

}  // namespace gaincell::tile
