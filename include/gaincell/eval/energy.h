// SPDX-License-Identifier: MIT
// File: gaincell/eval/energy.h
//
// Energy and latency per token per head of the two-stage attention in decode
// mode (docs/evaluator.md, "energy"), from characterized energies:
//  * a cell read, E(t_pulse) = e0 + p t_pulse averaged over the stored
//    levels, from an energy sweep (a card's derived energy.json or
//    characterization/pushpull_energy.json): the read-window energies of the
//    supply, both read word lines and any fixed-level port, plus the energy
//    the cells draw from the line (the integrator or the next precharge
//    supplies it; what a cell pushes into the line its supply already paid);
//  * a cell write (DAC, write word line, supply, fixed ports over the write window), same file;
//  * a C2P conversion (supply energy per conversion), from a c2p_transfer file;
//  * the stage-2 ADC, per conversion (default: the C2P's, as a ramp converter);
//  * a digital overhead per token per head (default: the paper's 4 nJ).
// Per token and head: W*D cells read in each stage (mean pulses mean_q and
// mean_phi of t_max), W C2P conversions, D * ceil(W/tile) ADC conversions,
// 2 D cells written. Latency: write + 4 t_max (read, C2P ramp, read, ADC ramp).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "gaincell/cell/card.h"

namespace gaincell::eval {

struct EnergyOptions {
  std::filesystem::path cell_energy_data;  // results of characterization/pushpull_energy.json
  std::filesystem::path c2p_energy_data;   // results of characterization/c2p_transfer.json
  long window = 1024;
  long dims = 64;
  long tile = 64;
  int heads = 12;
  double mean_q = 0.5;     // mean query pulse, fraction of t_max
  double mean_phi = 0.5;   // mean stage-2 pulse, fraction of t_max
  double t_max_s = 15e-9;
  double t_write_s = 4e-9;
  double adc_energy_j = -1;      // < 0: the C2P conversion energy
  double digital_energy_j = 4e-9;
  // Unsigned cells cost extra cells: a differential pair doubles them, a
  // reference column adds a line per query (stage 1) and per sub-array (stage 2).
  cell::SignScheme sign_scheme = cell::SignScheme::kSigned;
};

struct EnergyEstimate {
  std::map<std::string, double> components_j;  // per token per head
  double total_j = 0;
  double latency_s = 0;
  double e_cell_read_full_j = 0;   // one cell, full-scale pulse
  double e_cell_read_zero_j = 0;   // one cell, zero pulse
  double e_cell_write_j = 0;
  double e_c2p_j = 0;
  std::vector<std::string> notes;  // what could not be characterized
  EnergyOptions options;
};

// The card's keys over the options: its sign scheme (cells per value) and t_max.
void apply_card(EnergyOptions& options, const cell::CellCard& card);

// Throws IoError / InputError GC-1714 (a results file without the measures).
EnergyEstimate estimate_energy(const EnergyOptions& options);

// gaincell-energy/1 with the paper's figures, the GPU measurements and ratios.
nlohmann::json energy_json(const EnergyEstimate& e);

}  // namespace gaincell::eval
