// SPDX-License-Identifier: MIT
// gaincell flow: from one cell card to attention (the library's flow module,
// docs/flow.md); gaincell report: the page a designer reads; gaincell cell:
// check a card and write what the flow derives from it.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "commands.h"
#include "gaincell/cell/card.h"
#include "gaincell/cell/derive.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/process.h"
#include "gaincell/flow/flow.h"
#include "gaincell/netlist/si_value.h"

namespace gaincell::cli {
namespace {

namespace fs = std::filesystem;

}  // namespace

Action add_flow(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::vector<std::string> inputs;
    std::string out = "out/flow";
    bool reuse = false;
    std::string sample = "data/qkv_sample.h5";
    double max_error_pct = 0.5, min_within_pct = 99.0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "flow", "From a cell card to attention: sweeps, fits, exports, evaluator, SPICE check, energy, report (docs/flow.md)");
  cmd->add_option("inputs", f->inputs,
                  "[CELL.json] [SPEC...]: the cell card (default: the shipped push-pull cell), then hand-written specs that "
                  "replace derived ones (each takes the role its measures say; it must simulate the card's cell)");
  cmd->add_option("-o,--output", f->out, "Output directory")->capture_default_str();
  cmd->add_flag("--reuse", f->reuse, "Skip stages whose outputs exist and whose inputs and command are unchanged");
  cmd->add_option("--sample", f->sample, "Q/K/V sample for the evaluator (HDF5)")->capture_default_str();
  cmd->add_option("--max-charge-error", f->max_error_pct, "SPICE check threshold: stage-1 charge error, % of full scale")
      ->capture_default_str();
  cmd->add_option("--min-within-1lsb", f->min_within_pct, "SPICE check threshold: % of 5-bit outputs within 1 LSB")
      ->capture_default_str();
  return [f, &global]() {
    flow::FlowOptions o;
    for (std::size_t i = 0; i < f->inputs.size(); ++i) {
      const fs::path p = fs::absolute(f->inputs[i]);
      if (i == 0 && cell::is_card_file(p)) {
        o.card = p;
      } else if (cell::is_card_file(p)) {
        throw InputError("GC-1905", "error GC-1905: flow: " + f->inputs[i] + " is a second cell card; a flow is about one cell "
                                    "(give the card first, then specs)");
      } else {
        o.specs.push_back(p);
      }
    }
    o.out = f->out;
    o.reuse = f->reuse;
    o.sample = f->sample;
    o.check_max_charge_error_pct = f->max_error_pct;
    o.check_min_within_1lsb_pct = f->min_within_pct;
    o.gaincell = fs::canonical("/proc/self/exe");
    const flow::FlowPlan plan = flow::plan_flow(o);
    std::printf("flow: cell %s (%s of %s; %s line at %s V, %s) -> %s\n", plan.card.name.c_str(), plan.card.cell.name.c_str(),
                plan.card.cell.file.filename().c_str(), cell::to_string(plan.card.scheme).c_str(),
                netlist::format_exact(plan.card.line_v).c_str(), cell::to_string(plan.card.sign).c_str(), plan.out.c_str());
    std::fflush(stdout);
    flow::FlowEvents events;
    events.started = [](std::size_t i, std::size_t n, const flow::Stage& st) {
      std::printf("[%2zu/%zu] %-44s ", i + 1, n, st.what.c_str());
      std::fflush(stdout);
    };
    events.finished = [](std::size_t, const flow::Stage&, const flow::StageOutcome& r) {
      if (r.status == "ran") {
        std::printf("ran (%.1f s)%s\n", r.duration_s, r.points_failed ? ", some points failed (recorded)" : "");
      } else if (r.status == "reused") {
        std::printf("reused\n");
      } else if (r.status == "skipped") {
        std::printf("skipped: %s\n", r.reason.c_str());
      } else {
        std::string reason = r.reason;
        for (std::size_t p = reason.find('\n'); p != std::string::npos && p + 1 < reason.size(); p = reason.find('\n', p + 1)) {
          reason.insert(p + 1, "    ");
        }
        std::printf("FAILED: %s%s", reason.c_str(), reason.empty() || reason.back() != '\n' ? "\n" : "");
      }
      std::fflush(stdout);
    };
    const flow::FlowResult r = flow::run_flow(plan, o, events);
    (void)global;
    std::printf("flow: %s in %.1f s; report: %s\n",
                r.failures == 0 ? "done" : (std::to_string(r.failures) + " stage(s) failed").c_str(), r.wall_time_s,
                r.report.c_str());
    return r.failures == 0 ? 0 : static_cast<int>(ExitCode::kPointsFailed);
  };
}

Action add_report(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::string dir, output;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("report", "One self-contained HTML page of a flow directory, with plots (docs/flow.md)");
  cmd->add_option("dir", f->dir, "A gaincell flow output directory")->required();
  cmd->add_option("-o,--output", f->output, "HTML file (default DIR/report.html)");
  return [f, &global]() {
    const fs::path script = find_data_file("tools/report.py");
    std::error_code ec;
    if (!fs::exists(script, ec)) throw IoError("cannot find tools/report.py (source tree or installed data)");
    if (!fs::is_directory(f->dir, ec)) {
      throw InputError("GC-1902", "error GC-1902: report: " + f->dir + " is not a directory (give a gaincell flow -o directory)");
    }
    const std::string output = f->output.empty() ? (fs::path(f->dir) / "report.html").string() : f->output;
    // The report evaluates the fitted models with the gaincell Python package.
    if (const fs::path py = find_python_package_dir(); !py.empty()) {
      const char* old = std::getenv("PYTHONPATH");
      const std::string path = py.string() + (old != nullptr && *old != '\0' ? ":" + std::string(old) : "");
      ::setenv("PYTHONPATH", path.c_str(), 1);
    }
    std::vector<std::string> argv = {"/usr/bin/python3", script.string(), f->dir, "-o", output};
    if (global.quiet) argv.push_back("-q");
    int rc = 0;
    try {
      rc = run_process(argv);
    } catch (const IoError&) {
      throw IoError("cannot run /usr/bin/python3 (Debian python3 with python3-matplotlib is needed for reports)");
    }
    if (rc != 0) throw IoError("report: tools/report.py failed (exit " + std::to_string(rc) + ")");
    return 0;
  };
}

Action add_cell(CLI::App& app, const GlobalOptions&) {
  struct Flags {
    std::string card, out;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("cell", "Check a cell card and show its interface; with -o, write the templates and "
                                             "sweep specs a flow derives from it (docs/cells.md)");
  cmd->add_option("card", f->card, "Cell card (JSON, gaincell-cell/1)")->required();
  cmd->add_option("-o,--output", f->out, "Directory for the derived templates and specs");
  return [f]() {
    const cell::CellCard c = cell::load_card(find_data_file(f->card));
    std::printf("cell %s: subcircuit %s of %s (line %d)\n", c.name.c_str(), c.cell.name.c_str(), c.cell.file.c_str(), c.cell.line);
    for (const auto& port : c.cell.ports) {
      const std::string role = c.cell.role_of(port);
      std::printf("  port %-10s %s\n", port.c_str(),
                  role.empty() ? ("fixed at " + netlist::format_human(c.cell.fixed_v.at(port), "V", 4, true)).c_str()
                               : ("role " + role).c_str());
    }
    std::printf("  storage node: %s\n", c.storage_node.empty() ? "(not named: no retention sweep)" : ("x1." + c.storage_node).c_str());
    std::printf("  read: %s line at %s", cell::to_string(c.scheme).c_str(), netlist::format_human(c.line_v, "V", 4, true).c_str());
    if (c.scheme == cell::ReadScheme::kPrecharged) std::printf(", c_line %s", netlist::format_human(c.c_line_f, "F", 4, true).c_str());
    std::printf("; pulse up to %s from %s, %d levels\n", netlist::format_human(c.t_max_s, "s", 4, true).c_str(),
                netlist::format_human(c.t_read_s, "s", 4, true).c_str(), c.pulse_levels);
    std::printf("  store: %s .. %s, %d levels; sign: %s around %s\n", netlist::format_human(c.store_lo_v, "V", 4, true).c_str(),
                netlist::format_human(c.store_hi_v, "V", 4, true).c_str(), c.store_levels, cell::to_string(c.sign).c_str(),
                netlist::format_human(c.offset_v, "V", 4, true).c_str());
    std::printf("  converter: %s of %s\n", c.converter.name.c_str(), c.converter.file.c_str());
    if (!f->out.empty()) {
      const cell::DerivedSet set = cell::write_derived(c, f->out);
      std::printf("derived: %s, %s\n", set.cell_template.c_str(), set.converter_template.c_str());
      for (const auto& [role, path] : set.specs) std::printf("  %-12s %s\n", cell::role_name(role).c_str(), path.c_str());
      for (const auto& [role, why] : set.unavailable) std::printf("  %-12s not derived: %s\n", cell::role_name(role).c_str(), why.c_str());
    }
    return 0;
  };
}

}  // namespace gaincell::cli
