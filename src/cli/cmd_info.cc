// SPDX-License-Identifier: MIT
// gaincell info: a results file summarized (store::read_results, sweep::measure_ranges, sweep::failure_digest).
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "commands.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/sweep.h"

namespace gaincell::cli {
namespace {

const char* attribute_or(const store::Results& r, const char* key, const char* otherwise = "?") {
  const auto it = r.attributes.find(key);
  return it == r.attributes.end() ? otherwise : it->second.c_str();
}

void print_provenance(const std::string& path, const store::Results& r) {
  std::printf("%s: sweep '%s', %zu points, complete: %s\n", path.c_str(), attribute_or(r, "spec_name"), r.size(),
              attribute_or(r, "complete"));
  if (r.attributes.count("shard_index")) {
    std::printf("  shard %s of %s (0-based; %s of %s points; merge the shards with gaincell merge)\n",
                r.attributes.at("shard_index").c_str(), r.attributes.at("shard_count").c_str(),
                attribute_or(r, "shard_points"), attribute_or(r, "point_count"));
  }
  for (const char* key : {"gaincell_version", "ngspice_version", "spec_sha256", "template_sha256", "created_utc"}) {
    if (r.attributes.count(key)) std::printf("  %s: %s\n", key, r.attributes.at(key).c_str());
  }
  if (r.attributes.count("collapse_axis")) {  // a collapsed sweep (docs/formats.md#collapsed-sweeps)
    std::printf("  collapsed: '%s' from %s simulations (line %s%s)\n", r.attributes.at("collapse_axis").c_str(),
                attribute_or(r, "collapse_simulations"), attribute_or(r, "collapse_line"),
                std::string(attribute_or(r, "collapse_forced")) == "yes" ? ", forced" : "");
    if (std::string(attribute_or(r, "collapse_verify_points", "0")) != "0") {
      const std::string pct = attribute_or(r, "collapse_verify_max_error_pct");
      const std::string largest = pct == "inf" ? "infinite" : (pct == "nan" ? "unknown" : pct + " % of full scale");
      std::printf("  verified: %s points exactly, largest difference %s (%s), threshold %s %%: %s\n",
                  attribute_or(r, "collapse_verify_points"), largest.c_str(),
                  attribute_or(r, "collapse_verify_worst"), attribute_or(r, "collapse_verify_threshold_pct"),
                  std::string(attribute_or(r, "collapse_verify_passed")) == "yes" ? "passed" : "FAILED");
    } else {
      std::printf("  not verified (gaincell sweep --verify K)\n");
    }
  }
}

void print_axes(const store::Results& r) {
  for (const auto& a : r.axes) {
    if (!a.labels.empty()) {
      std::printf("  axis %s: %zu values: %s\n", a.name.c_str(), a.labels.size(), join(a.labels, ", ").c_str());
      continue;
    }
    // Dimensionless ("1") values print as plain numbers.
    const std::string unit = a.unit == "1" ? "" : a.unit;
    std::printf("  axis %s [%s]: %zu values, %s .. %s\n", a.name.c_str(), a.unit.c_str(), a.values.size(),
                gaincell::format_human(a.values.front(), unit, 4, true).c_str(),
                gaincell::format_human(a.values.back(), unit, 4, true).c_str());
  }
  for (const auto& m : r.monte_carlo) {
    std::printf("  monte carlo %s [%s]: sigma %s, %zu samples\n", m.param.c_str(), m.unit.c_str(),
                gaincell::format_human(m.sigma, m.unit, 3, true).c_str(), m.values.size());
  }
}

void print_outcomes(const store::Results& r) {
  for (const auto& m : sweep::measure_ranges(r)) {
    if (!std::isnan(m.min)) {
      std::printf("  measure %s [%s]: %s .. %s\n", m.name.c_str(), m.unit.c_str(),
                  gaincell::format_human(m.min, m.unit, 4, true).c_str(), gaincell::format_human(m.max, m.unit, 4, true).c_str());
    } else {
      std::printf("  measure %s [%s]: no value\n", m.name.c_str(), m.unit.c_str());
    }
  }
  std::map<std::string, std::size_t> counts;
  for (auto s : r.status) ++counts[std::string(spice::to_string(s))];
  for (const auto& [name, n] : counts) std::printf("  status %s: %zu\n", name.c_str(), n);
  const sweep::FailureDigest digest = sweep::failure_digest(r);
  if (!digest.groups().empty()) std::printf("  failed points, by message:\n%s", digest.text(8, "    ").c_str());
}

}  // namespace

Action add_info(CLI::App& app, const GlobalOptions&) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("info", "Summarize a results file: axes, measures, value ranges, failures");
  cmd->add_option("results", *path, "Results file (HDF5) written by gaincell sweep")->required();
  return [path]() {
    const store::Results r = store::read_results(*path);
    print_provenance(*path, r);
    print_axes(r);
    print_outcomes(r);
    return 0;
  };
}

}  // namespace gaincell::cli
