// SPDX-License-Identifier: MIT
// The evaluator-configuration flags shared by eval, spice-check and lm-eval:
// --card, -c/--config and --set over a preset, resolved by eval::resolve_config.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "gaincell/cell/card.h"
#include "gaincell/core/build_info.h"
#include "gaincell/eval/config.h"

namespace gaincell::cli {

// Where an evaluator configuration comes from: --card, --config, --set (over a preset).
struct ConfigFlags {
  std::string preset = "reference";
  std::string card{};
  std::string config{};
  std::vector<std::string> sets{};
};

inline void add_config_options(CLI::App* cmd, ConfigFlags& f, const std::string& card_help, const std::string& config_help,
                        const std::string& set_help) {
  cmd->add_option("--card", f.card, card_help);
  cmd->add_option("-c,--config", f.config, config_help);
  cmd->add_option("--set", f.sets, set_help);
}

inline std::optional<cell::CellCard> load_card_option(const std::string& path) {
  if (path.empty()) return std::nullopt;
  return cell::load_card(find_data_file(path));
}

// The resolved configuration; the card's model notes on stderr.
inline eval::EvalConfig resolve(const ConfigFlags& f, const std::optional<cell::CellCard>& card, bool quiet) {
  return eval::resolve_config(f.preset, f.config, f.sets, card ? &*card : nullptr, [quiet](const std::string& note) {
    if (!quiet) std::fprintf(stderr, "note: %s\n", note.c_str());
  });
}

}  // namespace gaincell::cli
