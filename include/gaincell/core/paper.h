// SPDX-License-Identifier: MIT
// File: gaincell/core/paper.h
//
// The one home of the paper's figures and the authors' measured baselines
// (Leroux et al., analog in-memory attention with gain cells; sources in
// ../shared/background/paper-facts.md and reference-simulator.md §8).
#pragma once

namespace gaincell::paper {

// Energy per token per head of the paper's IMC attention (utils/plot_energy.py).
inline constexpr double kQkArrayEnergyJ = 1120e-12;   // Phi(Q K^T) array
inline constexpr double kAvArrayEnergyJ = 700e-12;    // Phi(S) V array
inline constexpr double kDigitalEnergyJ = 4e-9;       // digital and routing
inline constexpr double kDacEnergyJ = 330e-12;        // DACs
inline constexpr double kTotalEnergyPerHeadJ = 6.15e-9;
inline constexpr double kLatencyPerTokenS = 65e-9;    // heads run in parallel
inline constexpr int kHeads = 12;                     // GPT-2

// GPU measurements per token for 12 heads (sequential decoding, S = 64, T = 1024).
inline constexpr double kRtx4090LatencyS = 22.372e-6;
inline constexpr double kRtx4090EnergyJ = 7.1783e-3;
inline constexpr double kJetsonNanoLatencyS = 488.85e-6;
inline constexpr double kJetsonNanoEnergyJ = 3.2458e-3;

}  // namespace gaincell::paper
