// SPDX-License-Identifier: MIT
#include "gaincell/tile/tile.h"

#include <hdf5.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/spice/worker_pool.h"
#include "gaincell/store/h5.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::tile {
namespace {

using netlist::format_exact;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string node(const char* base, std::size_t a) { return std::string(base) + "_" + std::to_string(a); }
std::string node(const char* base, std::size_t a, std::size_t b) {
  return std::string(base) + "_" + std::to_string(a) + "_" + std::to_string(b);
}

// A PULSE of width `width` (50 % to 50 %) starting at `start`; no pulse for width 0.
std::string pulse(double low, double high, double start, double width, double edge) {
  if (width <= 0) return "DC " + format_exact(low);
  const double flat = std::max(width - edge, 0.0);
  return "PULSE(" + format_exact(low) + " " + format_exact(high) + " " + format_exact(start) + " " +
         format_exact(edge) + " " + format_exact(edge) + " " + format_exact(flat) + " 1)";
}

}  // namespace

CellInterface load_cell(const std::filesystem::path& file) {
  CellInterface cell;
  cell.file = std::filesystem::absolute(file).lexically_normal();
  std::istringstream in(read_text_file(file));
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    std::istringstream words(raw);
    std::string first;
    words >> first;
    if (lower(first) != ".subckt") continue;
    words >> cell.subckt;
    std::string word;
    while (words >> word) {
      const std::string w = lower(word);
      if (w == "params:" || w.find('=') != std::string::npos) break;
      cell.ports.push_back(w);
    }
    static const std::set<std::string> kRoles = {"wbl", "wwl", "wlr", "wlrb", "rd", "vdd"};
    for (const auto& p : cell.ports) {
      if (kRoles.count(p) == 0) {
        throw_input_error({file.string(), line_no, 1, ""}, "GC-1501",
                          "port '" + p + "' of subcircuit " + cell.subckt + " is not a tile role",
                          "name the ports wbl, wwl, rd (required), wlr and/or wlrb, and vdd");
      }
    }
    auto has = [&](const char* port) { return std::find(cell.ports.begin(), cell.ports.end(), port) != cell.ports.end(); };
    for (const char* required : {"wbl", "wwl", "rd"}) {
      if (!has(required)) {
        throw_input_error({file.string(), line_no, 1, ""}, "GC-1501",
                          "subcircuit " + cell.subckt + " has no '" + required + "' port");
      }
    }
    if (!has("wlr") && !has("wlrb")) {
      throw_input_error({file.string(), line_no, 1, ""}, "GC-1501",
                        "subcircuit " + cell.subckt + " has neither a 'wlr' nor a 'wlrb' read word line port");
    }
    return cell;
  }
  throw_input_error({file.string(), 0, 0, ""}, "GC-1501", "no .subckt line: not a cell file");
}

TileSpec random_tile(const std::filesystem::path& cell, std::size_t tokens, std::size_t dims, std::uint64_t seed) {
  TileSpec t;
  t.cell = cell;
  t.tokens = tokens;
  t.dims = dims;
  t.seed = seed;
  // Uniform integer levels from the same counter-based generator as Monte Carlo.
  auto level = [&](const std::string& what, std::size_t index, int levels) {
    const double z = sweep::monte_carlo_normal(seed, index, what);
    const double u = 0.5 * std::erfc(-z / std::sqrt(2.0));  // N(0,1) -> U(0,1)
    return std::min(levels - 1, static_cast<int>(u * levels));
  };
  for (std::size_t i = 0; i < dims; ++i) t.q.push_back(level("q", i, 16) / 15.0);
  for (std::size_t k = 0; k < tokens * dims; ++k) t.k_v.push_back(level("k", k, 8) * 0.9 / 7.0);
  return t;
}

void validate(const TileSpec& t) {
  auto fail = [](const std::string& what) { throw InputError("GC-1502", "error GC-1502: tile: " + what); };
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
    if (!(k >= -0.1 && k <= t.vdd_v + 0.1)) fail("K values must be stored voltages near [0, vdd]; found " + format_exact(k));
  }
}

std::string render_tile(const TileSpec& t) {
  validate(t);
  const CellInterface cell = load_cell(t.cell);
  const std::filesystem::path c2p = t.c2p.empty() ? cell.file.parent_path() / "c2p_integrator.sub" : t.c2p;
  std::ostringstream out;
  out << "gaincell tile " << t.tokens << "x" << t.dims << " of " << cell.subckt << "\n";
  out << "* " << t.tokens << " stored tokens (read lines) x " << t.dims << " dimensions (PWM read word lines)\n";
  out << "* cells: " << cell.file.string() << "; converter: " << c2p.string() << "\n";
  out << ".include \"" << cell.file.string() << "\"\n";
  out << ".include \"" << std::filesystem::absolute(c2p).lexically_normal().string() << "\"\n";
  const double edge = t.t_edge_s;
  out << "VDD vdd 0 " << format_exact(t.vdd_v) << "\n";
  out << "VREF vref 0 " << format_exact(t.v_ref_v) << "\n";
  // All cells are written at once by one boosted write word line.
  out << "VWWL wwl 0 " << pulse(t.v_wwl_hold_v, t.v_wwl_v, 1e-9, 4e-9, edge) << "\n";
  // The integrators are reset (line = v_ref) until 1 ns before the read.
  out << "VRST rst 0 PWL(0 " << format_exact(t.vdd_v) << " " << format_exact(t.t_read_s - 1e-9) << " "
      << format_exact(t.vdd_v) << " " << format_exact(t.t_read_s - 1e-9 + edge) << " 0)\n";
  // Shared ramp: high (comparators off) until the comparison, 0 -> v_sat over t_max, then high again.
  const double tc = t.t_compare_s();
  out << "VRAMP ramp 0 PWL(0 10 " << format_exact(tc) << " 10 " << format_exact(tc + edge) << " 0 "
      << format_exact(tc + t.t_max_s) << " " << format_exact(t.v_sat_v) << " " << format_exact(tc + t.t_max_s + edge)
      << " 10)\n";
  for (std::size_t i = 0; i < t.dims; ++i) {
    const double width = t.q[i] * t.t_max_s;
    out << "VWLR_" << i << " " << node("wlr", i) << " 0 " << pulse(0, t.vin_v, t.t_read_s, width, edge) << "\n";
    out << "VWLRB_" << i << " " << node("wlrb", i) << " 0 "
        << pulse(t.wlrb_idle(), t.wlrb_active(), t.t_read_s, width, edge) << "\n";
  }
  for (std::size_t j = 0; j < t.tokens; ++j) {
    out << "* token " << j << ": read line " << node("line", j) << "\n";
    out << "VSENSE_" << j << " " << node("line", j) << " " << node("rdl", j) << " 0\n";
    out << "CWIRE_" << j << " " << node("line", j) << " 0 " << format_exact(t.c_wire_f * static_cast<double>(t.dims)) << "\n";
    if (t.passive_line) {
      out << "CLINE_" << j << " " << node("line", j) << " 0 " << format_exact(t.c_line_f) << "\n";
      out << "SPRE_" << j << " " << node("line", j) << " vref rst 0 swpre\n";
    } else {
      out << "XC2P_" << j << " " << node("line", j) << " ramp " << node("out", j) << " vref rst gc_c2p_integrator c_int="
          << format_exact(t.c_int_f) << " vdd=" << format_exact(t.vdd_v) << "\n";
    }
    for (std::size_t i = 0; i < t.dims; ++i) {
      out << "VWBL_" << j << "_" << i << " " << node("wbl", j, i) << " 0 " << format_exact(t.k_v[j * t.dims + i]) << "\n";
      out << "X_" << j << "_" << i;
      for (const auto& port : cell.ports) {
        if (port == "wbl") out << " " << node("wbl", j, i);
        if (port == "wwl") out << " wwl";
        if (port == "wlr") out << " " << node("wlr", i);
        if (port == "wlrb") out << " " << node("wlrb", i);
        if (port == "rd") out << " " << node("rdl", j);
        if (port == "vdd") out << " vdd";
      }
      out << " " << cell.subckt << "\n";
    }
  }
  if (t.passive_line) out << ".model swpre sw vt=0.45 vh=0 ron=10 roff=1e15\n";
  out << ".options gmin=1e-18\n";
  out << ".tran " << format_exact(t.t_step_s) << " " << format_exact(t.t_stop_s()) << "\n";
  out << ".save";
  for (const auto& v : sweep::required_vectors(tile_measures(t))) out << " " << v;
  out << "\n";
  for (std::size_t j = 0; j < t.tokens; ++j) {
    out << ".meas tran q_line_" << j << "_c integ i(vsense_" << j << ") from=" << format_exact(t.t_read_s - 0.5e-9)
        << " to=" << format_exact(tc) << "\n";
  }
  out << ".end\n";
  return out.str();
}

std::vector<sweep::ResolvedMeasure> tile_measures(const TileSpec& t) {
  std::vector<sweep::ResolvedMeasure> ms;
  const double tc = t.t_compare_s();
  for (std::size_t j = 0; j < t.tokens; ++j) {
    sweep::ResolvedMeasure q;
    q.name = "q_line_" + std::to_string(j) + "_c";
    q.kind = sweep::MeasureKind::kIntegral;
    q.unit = "C";
    q.of = "i(vsense_" + std::to_string(j) + ")";
    q.t_from_s = t.t_read_s - 0.5e-9;
    q.t_to_s = tc;
    ms.push_back(q);
    sweep::ResolvedMeasure v;
    v.name = "v_int_" + std::to_string(j) + "_v";
    v.kind = sweep::MeasureKind::kValueAt;
    v.unit = "V";
    v.of = t.passive_line ? "v(" + node("line", j) + ")" : "v(xc2p_" + std::to_string(j) + ".int)";
    v.t_at_s = tc;
    ms.push_back(v);
    if (t.passive_line) continue;
    sweep::ResolvedMeasure pw;
    pw.name = "pw_" + std::to_string(j) + "_s";
    pw.kind = sweep::MeasureKind::kTimeAbove;
    pw.unit = "s";
    // The comparator's decision node (swing - ramp) is smooth: its zero
    // crossings interpolate accurately where the output edge would not.
    pw.of = "v(xc2p_" + std::to_string(j) + ".diff)";
    pw.threshold = 0.0;
    pw.t_from_s = tc - 1e-9;
    ms.push_back(pw);
  }
  return ms;
}

TileResult run_tile(const TileSpec& t, const TileRunOptions& options) {
  spice::SimJob job;
  job.id = 0;
  job.netlist = render_tile(t);
  job.t_stop_s = t.t_stop_s();
  job.measures = tile_measures(t);
  job.timeout_s = options.timeout_s;
  spice::PoolOptions pool_options;
  pool_options.jobs = 1;
  pool_options.worker = options.worker;
  spice::WorkerPool pool(pool_options);
  TileResult result;
  pool.run(1, [&](std::size_t) { return job; },
           [&](spice::SimResult&& r) {
             result.outcome = r.outcome;
             result.message = r.message;
             result.parse_time_s = r.parse_time_s;
             result.run_time_s = r.run_time_s;
             result.wall_time_s = r.wall_time_s;
             const std::size_t per = t.passive_line ? 2 : 3;
             for (std::size_t j = 0; j < t.tokens; ++j) {
               const auto at = [&](std::size_t k) { return k < r.values.size() ? r.values[k] : std::nan(""); };
               result.q_line_c.push_back(at(per * j));
               result.v_int_v.push_back(at(per * j + 1) - t.v_ref_v);
               result.pulse_width_s.push_back(t.passive_line ? std::nan("") : at(per * j + 2));
             }
           });
  result.ngspice_version = pool.ngspice_version();
  return result;
}

namespace {

void write_array(hid_t loc, const std::string& name, const std::vector<double>& data, const std::vector<hsize_t>& dims,
                 const std::string& unit, const std::string& description) {
  h5::Handle space = h5::simple_space(dims);
  h5::Handle ds(h5::check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                                     H5P_DEFAULT),
                          "cannot create " + name),
                H5Dclose);
  h5::check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "cannot write " + name);
  h5::write_string_attribute(ds.id(), "units", unit);
  h5::write_string_attribute(ds.id(), "long_name", description);
}

}  // namespace

void write_tile_results(const std::filesystem::path& path, const TileSpec& t, const TileResult& r) {
  const std::string partial = path.string() + ".partial";
  {
    h5::Handle file = h5::create_file(partial);
    const hid_t root = file.id();
    write_array(root, "Q", t.q, {t.dims}, "1", "query: read pulse width as a fraction of t_max, per dimension");
    write_array(root, "K", t.k_v, {t.tokens, t.dims}, "V", "stored voltage [token, dimension]");
    h5::Handle lines = h5::create_group(root, "lines");
    write_array(lines.id(), "q_line_c", r.q_line_c, {t.tokens}, "C",
                "charge the cells drew from each read line during the read (positive: net sink)");
    write_array(lines.id(), "v_int_v", r.v_int_v, {t.tokens}, "V",
                "integrator swing above v_ref at the comparison (= charge / c_int)");
    write_array(lines.id(), "c2p_pulse_width_s", r.pulse_width_s, {t.tokens}, "s",
                "charge-to-pulse output pulse width per line (HardSigmoid of the charge)");
    const auto cell = load_cell(t.cell);
    h5::write_string_attribute(root, "gaincell_format", "gaincell-tile/1");
    h5::write_string_attribute(root, "gaincell_version", build_info().version);
    h5::write_string_attribute(root, "gaincell_git_sha", build_info().git_sha);
    h5::write_string_attribute(root, "ngspice_version", r.ngspice_version);
    h5::write_string_attribute(root, "cell_file", cell.file.string());
    h5::write_string_attribute(root, "cell_sha256", sha256_file(cell.file));
    h5::write_string_attribute(root, "cell_subckt", cell.subckt);
    h5::write_string_attribute(root, "netlist_sha256", sha256_hex(render_tile(t)));
    h5::write_string_attribute(root, "status", std::string(spice::to_string(r.outcome)));
    h5::write_string_attribute(root, "message", r.message);
    h5::write_int_attribute(root, "tokens", static_cast<long long>(t.tokens));
    h5::write_int_attribute(root, "dims", static_cast<long long>(t.dims));
    h5::write_int_attribute(root, "seed", static_cast<long long>(t.seed));
    h5::write_double_attribute(root, "t_max_s", t.t_max_s);
    h5::write_double_attribute(root, "q_sat_c", t.q_sat_c());
    h5::write_double_attribute(root, "c_int_f", t.c_int_f);
    h5::write_double_attribute(root, "v_ref_v", t.v_ref_v);
    h5::write_double_attribute(root, "vin_v", t.vin_v);
    h5::write_double_attribute(root, "v_wwl_v", t.v_wwl_v);
    h5::write_double_attribute(root, "v_wwl_hold_v", t.v_wwl_hold_v);
    h5::write_double_attribute(root, "wlrb_idle_v", t.wlrb_idle());
    h5::write_double_attribute(root, "wlrb_active_v", t.wlrb_active());
    h5::write_double_attribute(root, "parse_time_s", r.parse_time_s);
    h5::write_double_attribute(root, "run_time_s", r.run_time_s);
    h5::write_double_attribute(root, "wall_time_s", r.wall_time_s);
    file.close();
  }
  std::filesystem::rename(partial, path);
}

TileSpec read_tile_inputs(const std::filesystem::path& path, const std::filesystem::path& cell) {
  h5::Handle file = h5::open_file(path.string(), false);
  TileSpec t;
  t.cell = cell;
  h5::Handle q = h5::open_dataset(file.id(), "Q");
  h5::Handle k = h5::open_dataset(file.id(), "K");
  const auto kshape = h5::dataset_shape(k.id());
  if (kshape.size() != 2) {
    throw InputError("GC-1502", path.string() + ": error GC-1502: K must be 2-D [tokens, dims]");
  }
  t.tokens = kshape[0];
  t.dims = kshape[1];
  t.q = h5::read_doubles(q.id());
  t.k_v = h5::read_doubles(k.id());
  validate(t);
  return t;
}

}  // namespace gaincell::tile
