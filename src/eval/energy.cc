// SPDX-License-Identifier: MIT
#include "gaincell/eval/energy.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "gaincell/core/error.h"
#include "gaincell/core/paper.h"
#include "gaincell/store/results_file.h"

namespace gaincell::eval {
namespace {

const std::vector<double>& measure(const store::Results& r, const std::filesystem::path& file, const std::string& name) {
  if (auto it = r.values.find(name); it != r.values.end()) return it->second;
  throw InputError("GC-1714", file.string() + ": no measure \"" + name +
                                  "\" (expected the results of an energy sweep: a card's derived energy.json, or "
                                  "characterization/pushpull_energy.json)");
}

// The energy of every source over a window: the named ones, plus each fixed
// port's (e_<window>_fix_<port>_j, from a card's derived spec).
std::vector<const std::vector<double>*> window_sources(const store::Results& r, const std::filesystem::path& file,
                                                       const std::string& window, std::initializer_list<const char*> named) {
  std::vector<const std::vector<double>*> out;
  for (const char* n : named) out.push_back(&measure(r, file, "e_" + window + "_" + n + "_j"));
  const std::string fixed = "e_" + window + "_fix_";
  for (const auto& [name, values] : r.values) {
    if (name.rfind(fixed, 0) == 0) out.push_back(&values);
  }
  return out;
}

std::size_t axis_index(const store::Results& r, const std::filesystem::path& file, const std::string& name) {
  for (std::size_t i = 0; i < r.axes.size(); ++i) {
    if (r.axes[i].name == name) return i;
  }
  throw InputError("GC-1714", file.string() + ": no axis \"" + name + "\"");
}

}  // namespace

void apply_card(EnergyOptions& o, const cell::CellCard& card) {
  o.sign_scheme = card.sign;
  o.t_max_s = card.t_max_s;
}

EnergyEstimate estimate_energy(const EnergyOptions& o) {
  EnergyEstimate e;
  e.options = o;
  const store::Results cell = store::read_results(o.cell_energy_data);
  const std::size_t ti = axis_index(cell, o.cell_energy_data, "t_pulse");
  const auto& t_axis = cell.axes[ti].values;
  // Per point: read energy (supply + word lines over the read window) and write energy.
  const auto read = window_sources(cell, o.cell_energy_data, "read", {"vdd", "wlr", "wlrb"});
  const auto write = window_sources(cell, o.cell_energy_data, "write", {"wwl", "wbl", "vdd"});
  // The energy the cells draw from the line: whatever holds it (the integrator)
  // or precharges it again must supply it. Energy a cell pushes into the line
  // came from its own supply, already counted there.
  const auto line_it = cell.values.find("e_read_line_j");
  const std::vector<double>* line = line_it == cell.values.end() ? nullptr : &line_it->second;
  if (line == nullptr) e.notes.push_back("the cell's results have no e_read_line_j: the energy the cells draw from the line is not counted");
  // Least-squares line E = e0 + p t over all points (all stored levels pooled).
  double n = 0, st = 0, se = 0, stt = 0, ste = 0, write_sum = 0;
  for (std::size_t k = 0; k < cell.size(); ++k) {
    if (cell.status[k] != spice::SimOutcome::kOk) continue;
    std::size_t rem = k, idx = 0;
    for (std::size_t a = cell.axes.size(); a-- > 0;) {
      const std::size_t len = cell.axes[a].values.size();
      if (a == ti) idx = rem % len;
      rem /= len;
    }
    const double t = t_axis[idx];
    double E = 0, W = 0;
    for (const auto* m : read) E += (*m)[k];
    if (line != nullptr) E += std::max((*line)[k], 0.0);
    for (const auto* m : write) W += (*m)[k];
    n += 1;
    st += t;
    se += E;
    stt += t * t;
    ste += t * E;
    write_sum += W;
  }
  if (n < 2) throw InputError("GC-1714", o.cell_energy_data.string() + ": fewer than 2 successful points");
  const double p = (n * ste - st * se) / (n * stt - st * st);
  const double e0 = (se - p * st) / n;
  e.e_cell_read_zero_j = e0;
  e.e_cell_read_full_j = e0 + p * o.t_max_s;
  e.e_cell_write_j = write_sum / n;
  const store::Results c2p = store::read_results(o.c2p_energy_data);
  if (c2p.values.count("e_vdd_j") == 0) {
    // A converter without a supply port (behavioural): nothing to count, and the estimate says so.
    e.notes.push_back("the converter's results (" + o.c2p_energy_data.string() +
                      ") have no supply energy e_vdd_j: its conversions count as 0 J");
  } else {
    const auto& c2p_e = c2p.values.at("e_vdd_j");
    double c2p_sum = 0, c2p_n = 0;
    for (std::size_t k = 0; k < c2p.size(); ++k) {
      if (c2p.status[k] == spice::SimOutcome::kOk && std::isfinite(c2p_e[k])) {
        c2p_sum += c2p_e[k];
        c2p_n += 1;
      }
    }
    if (c2p_n < 1) throw InputError("GC-1714", o.c2p_energy_data.string() + ": no successful point");
    e.e_c2p_j = c2p_sum / c2p_n;
  }
  // Cells read per token: W x D in each stage, plus what the sign scheme adds:
  // a differential pair doubles every cell; a reference column adds one line of
  // D cells per query in stage 1 and one of `tile` cells per sub-array in stage 2
  // (its cells hold offset_v and are never rewritten).
  const double W = static_cast<double>(o.window), Dd = static_cast<double>(o.dims);
  const double tiles = std::ceil(W / static_cast<double>(o.tile));
  double qk_cells = W * Dd, av_cells = W * Dd, written = 2.0 * Dd;
  if (o.sign_scheme == cell::SignScheme::kDifferential) {
    qk_cells *= 2.0;
    av_cells *= 2.0;
    written *= 2.0;
  } else if (o.sign_scheme == cell::SignScheme::kReferenceColumn) {
    qk_cells += Dd;
    av_cells += tiles * static_cast<double>(o.tile);
  }
  const double adc = o.adc_energy_j >= 0 ? o.adc_energy_j : e.e_c2p_j;
  e.components_j["qk_array"] = qk_cells * (e0 + p * o.mean_q * o.t_max_s);
  e.components_j["qk_c2p"] = W * e.e_c2p_j;
  e.components_j["av_array"] = av_cells * (e0 + p * o.mean_phi * o.t_max_s);
  e.components_j["av_adc"] = Dd * tiles * adc;
  e.components_j["dac_write"] = written * e.e_cell_write_j;
  e.components_j["digital"] = o.digital_energy_j;
  for (const auto& [k, v] : e.components_j) e.total_j += v;
  e.latency_s = o.t_write_s + 4.0 * o.t_max_s;
  return e;
}

nlohmann::json energy_json(const EnergyEstimate& e) {
  using nlohmann::json;
  const auto& o = e.options;
  json gpu = json::array();
  const double ours_token_j = e.total_j * o.heads;
  for (const auto& [name, lat, en] : {std::tuple{"RTX 4090", paper::kRtx4090LatencyS, paper::kRtx4090EnergyJ},
                                      std::tuple{"Jetson Nano", paper::kJetsonNanoLatencyS, paper::kJetsonNanoEnergyJ}}) {
    gpu.push_back(json{{"name", name},
                       {"latency_s", lat},
                       {"energy_j", en},
                       {"heads", paper::kHeads},
                       {"speedup", lat / e.latency_s},
                       {"energy_ratio", en / ours_token_j},
                       {"paper_speedup", lat / paper::kLatencyPerTokenS},
                       {"paper_energy_ratio", en / (paper::kTotalEnergyPerHeadJ * paper::kHeads)}});
  }
  return json{{"format", "gaincell-energy/1"},
              {"per_token_per_head", {{"components_j", e.components_j}, {"total_j", e.total_j}, {"latency_s", e.latency_s}}},
              {"per_token", {{"energy_j", ours_token_j}, {"latency_s", e.latency_s}, {"heads", o.heads}}},
              {"heads", o.heads},
              {"characterized",
               {{"cell_read_zero_pulse_j", e.e_cell_read_zero_j},
                {"cell_read_full_pulse_j", e.e_cell_read_full_j},
                {"cell_write_j", e.e_cell_write_j},
                {"c2p_conversion_j", e.e_c2p_j},
                {"cell_energy_data", o.cell_energy_data.string()},
                {"sign_scheme", cell::to_string(o.sign_scheme)},
                {"notes", e.notes},
                {"c2p_energy_data", o.c2p_energy_data.string()}}},
              {"assumptions",
               {{"window", o.window}, {"dims", o.dims}, {"tile_keys", o.tile}, {"mean_q", o.mean_q}, {"mean_phi", o.mean_phi},
                {"t_max_s", o.t_max_s}, {"t_write_s", o.t_write_s},
                {"adc_energy_j", o.adc_energy_j >= 0 ? o.adc_energy_j : e.e_c2p_j},
                {"digital_energy_j", o.digital_energy_j}}},
              {"paper",
               {{"components_j", {{"qk_array", paper::kQkArrayEnergyJ}, {"av_array", paper::kAvArrayEnergyJ},
                                  {"digital", paper::kDigitalEnergyJ}, {"dac", paper::kDacEnergyJ}}},
                {"total_j", paper::kTotalEnergyPerHeadJ},
                {"latency_s", paper::kLatencyPerTokenS}}},
              {"gpu", gpu}};
}

}  // namespace gaincell::eval
