// SPDX-License-Identifier: MIT
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "commands.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::cli {

Action add_info(CLI::App& app, const GlobalOptions&) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "Summarize a results file: axes, measures, value ranges, failures");
  cmd->add_option("results", *path, "Results file (HDF5) written by gaincell sweep")->required();
  return [path]() {
    const store::Results r = store::read_results(*path);
    std::printf("%s: sweep '%s', %zu points, complete: %s\n", path->c_str(), r.attributes.count("spec_name") ? r.attributes.at("spec_name").c_str() : "?",
                r.size(), r.attributes.count("complete") ? r.attributes.at("complete").c_str() : "?");
    if (r.attributes.count("shard_index")) {
      std::printf("  shard %s of %s (0-based; %s of %s points; merge the shards with gaincell merge)\n",
                  r.attributes.at("shard_index").c_str(), r.attributes.at("shard_count").c_str(),
                  r.attributes.count("shard_points") ? r.attributes.at("shard_points").c_str() : "?",
                  r.attributes.count("point_count") ? r.attributes.at("point_count").c_str() : "?");
    }
    for (const char* key : {"gaincell_version", "ngspice_version", "spec_sha256", "template_sha256", "created_utc"}) {
      if (r.attributes.count(key)) std::printf("  %s: %s\n", key, r.attributes.at(key).c_str());
    }
    for (const auto& a : r.axes) {
      if (!a.labels.empty()) {
        std::string labels;
        for (const auto& l : a.labels) labels += (labels.empty() ? "" : ", ") + l;
        std::printf("  axis %s: %zu values: %s\n", a.name.c_str(), a.labels.size(), labels.c_str());
        continue;
      }
      // Dimensionless ("1") values print as plain numbers.
      const std::string unit = a.unit == "1" ? "" : a.unit;
      std::printf("  axis %s [%s]: %zu values, %s .. %s\n", a.name.c_str(), a.unit.c_str(), a.values.size(),
                  netlist::format_human(a.values.front(), unit, 4, true).c_str(),
                  netlist::format_human(a.values.back(), unit, 4, true).c_str());
    }
    for (const auto& m : r.monte_carlo) {
      std::printf("  monte carlo %s [%s]: sigma %s, %zu samples\n", m.param.c_str(), m.unit.c_str(),
                  netlist::format_human(m.sigma, m.unit, 3, true).c_str(), m.values.size());
    }
    for (const auto& m : r.measures) {
      double lo = INFINITY, hi = -INFINITY;
      for (double v : r.values.at(m.name)) {
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
      if (lo <= hi) {
        std::printf("  measure %s [%s]: %s .. %s\n", m.name.c_str(), m.unit.c_str(),
                    netlist::format_human(lo, m.unit, 4, true).c_str(), netlist::format_human(hi, m.unit, 4, true).c_str());
      } else {
        std::printf("  measure %s [%s]: no value\n", m.name.c_str(), m.unit.c_str());
      }
    }
    std::map<std::string, std::size_t> counts;
    for (auto s : r.status) ++counts[std::string(spice::to_string(s))];
    for (const auto& [name, n] : counts) std::printf("  status %s: %zu\n", name.c_str(), n);
    sweep::FailureDigest digest;
    for (std::size_t k = 0; k < r.status.size(); ++k) {
      if (r.status[k] != spice::SimOutcome::kOk && r.status[k] != spice::SimOutcome::kNotRun) {
        digest.add(k, r.status[k], k < r.messages.size() ? r.messages[k] : "");
      }
    }
    if (!digest.groups().empty()) std::printf("  failed points, by message:\n%s", digest.text(8, "    ").c_str());
    return 0;
  };
}

}  // namespace gaincell::cli
