// SPDX-License-Identifier: MIT
#include "gaincell/eval/energy.h"

#include <cmath>
#include <tuple>

#include "gaincell/core/error.h"
#include "gaincell/core/paper.h"
#include "gaincell/store/results_file.h"

namespace gaincell::eval {
namespace {

const std::vector<double>& measure(const store::Results& r, const std::filesystem::path& file, const std::string& name) {
  if (auto it = r.values.find(name); it != r.values.end()) return it->second;
  throw InputError("GC-1714", "error GC-1714: " + file.string() + ": no measure \"" + name +
                                  "\" (expected the results of characterization/" +
                                  (name.rfind("e_read", 0) == 0 || name.rfind("e_write", 0) == 0 ? "pushpull_energy.json"
                                                                                                  : "c2p_transfer.json") +
                                  ")");
}

std::size_t axis_index(const store::Results& r, const std::filesystem::path& file, const std::string& name) {
  for (std::size_t i = 0; i < r.axes.size(); ++i) {
    if (r.axes[i].name == name) return i;
  }
  throw InputError("GC-1714", "error GC-1714: " + file.string() + ": no axis \"" + name + "\"");
}

}  // namespace

EnergyEstimate estimate_energy(const EnergyOptions& o) {
  EnergyEstimate e;
  e.options = o;
  const store::Results cell = store::read_results(o.cell_energy_data);
  const std::size_t ti = axis_index(cell, o.cell_energy_data, "t_pulse");
  const auto& t_axis = cell.axes[ti].values;
  // Per point: read energy (supply + word lines over the read window) and write energy.
  const auto& vdd = measure(cell, o.cell_energy_data, "e_read_vdd_j");
  const auto& wlr = measure(cell, o.cell_energy_data, "e_read_wlr_j");
  const auto& wlrb = measure(cell, o.cell_energy_data, "e_read_wlrb_j");
  const auto& w_wwl = measure(cell, o.cell_energy_data, "e_write_wwl_j");
  const auto& w_wbl = measure(cell, o.cell_energy_data, "e_write_wbl_j");
  const auto& w_vdd = measure(cell, o.cell_energy_data, "e_write_vdd_j");
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
    const double E = vdd[k] + wlr[k] + wlrb[k];
    n += 1;
    st += t;
    se += E;
    stt += t * t;
    ste += t * E;
    write_sum += w_wwl[k] + w_wbl[k] + w_vdd[k];
  }
  if (n < 2) throw InputError("GC-1714", "error GC-1714: " + o.cell_energy_data.string() + ": fewer than 2 successful points");
  const double p = (n * ste - st * se) / (n * stt - st * st);
  const double e0 = (se - p * st) / n;
  e.e_cell_read_zero_j = e0;
  e.e_cell_read_full_j = e0 + p * o.t_max_s;
  e.e_cell_write_j = write_sum / n;
  const store::Results c2p = store::read_results(o.c2p_energy_data);
  const auto& c2p_e = measure(c2p, o.c2p_energy_data, "e_vdd_j");
  double c2p_sum = 0, c2p_n = 0;
  for (std::size_t k = 0; k < c2p.size(); ++k) {
    if (c2p.status[k] == spice::SimOutcome::kOk && std::isfinite(c2p_e[k])) {
      c2p_sum += c2p_e[k];
      c2p_n += 1;
    }
  }
  if (c2p_n < 1) throw InputError("GC-1714", "error GC-1714: " + o.c2p_energy_data.string() + ": no successful point");
  e.e_c2p_j = c2p_sum / c2p_n;
  const double cells = static_cast<double>(o.window) * static_cast<double>(o.dims);
  const double tiles = std::ceil(static_cast<double>(o.window) / static_cast<double>(o.tile));
  const double adc = o.adc_energy_j >= 0 ? o.adc_energy_j : e.e_c2p_j;
  e.components_j["qk_array"] = cells * (e0 + p * o.mean_q * o.t_max_s);
  e.components_j["qk_c2p"] = static_cast<double>(o.window) * e.e_c2p_j;
  e.components_j["av_array"] = cells * (e0 + p * o.mean_phi * o.t_max_s);
  e.components_j["av_adc"] = static_cast<double>(o.dims) * tiles * adc;
  e.components_j["dac_write"] = 2.0 * static_cast<double>(o.dims) * e.e_cell_write_j;
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
