// SPDX-License-Identifier: MIT
#include "gaincell/flow/flow.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/process.h"
#include "gaincell/core/strings.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::flow {
namespace {

namespace fs = std::filesystem;
using cell::Role;
using netlist::format_exact;

std::string hash_or_missing(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) ? sha256_file(p) : std::string("missing");
}

// Every file a spec's sweep reads: the spec, its template, and what the template includes.
std::vector<fs::path> spec_files(const sweep::SweepSpec& spec) {
  std::vector<fs::path> files{fs::absolute(spec.path).lexically_normal(), fs::absolute(spec.template_path).lexically_normal()};
  for (const auto& f : netlist::dependency_files(spec.netlist)) files.push_back(f);
  return files;
}

// A hand-written spec must be about the card's cell: its netlist reads the
// card's subcircuit (the converter, for the converter role), by content.
void check_about_cell(const sweep::SweepSpec& spec, Role role, const cell::CellCard& card) {
  const cell::SubcktBinding& b = role == Role::kConverter ? card.converter : card.cell;
  const std::string want = sha256_file(b.file);
  for (const auto& f : spec_files(spec)) {
    if (hash_or_missing(f) == want) return;
  }
  throw InputError("GC-1903", "error GC-1903: " + spec.path.string() + ": the " + cell::role_name(role) + " sweep of a flow about cell " +
                                  card.name + " must simulate its " + (role == Role::kConverter ? "converter " : "subcircuit ") +
                                  b.file.string() + ", but neither this spec's template (" + spec.template_path.string() +
                                  ") nor any file it includes is that file: every stage of a flow is about one cell"
                                  "\n  hint: give the card of the cell this spec simulates first (gaincell flow CELL.json "
                                  "SPEC ...), or let the flow derive the spec from the card");
}

void check_needs(const sweep::SweepSpec& spec, Role role) {
  const cell::RoleNeeds needs = cell::role_needs(role);
  std::vector<std::string> missing;
  for (const auto& a : needs.axes) {
    if (std::none_of(spec.axes.begin(), spec.axes.end(), [&](const sweep::Axis& x) { return x.name == a; })) {
      missing.push_back("axis " + a);
    }
  }
  for (const auto& m : needs.measures) {
    if (std::none_of(spec.measures.begin(), spec.measures.end(), [&](const sweep::MeasureSpec& x) { return x.name == m; })) {
      missing.push_back("measure " + m);
    }
  }
  if (!missing.empty()) {
    throw InputError("GC-1904", "error GC-1904: " + spec.path.string() + ": as the flow's " + cell::role_name(role) +
                                    " sweep it lacks " + join(missing, ", ") + "; the flow's fits read axes " +
                                    join(needs.axes, ", ") + " and measures " + join(needs.measures, ", ") +
                                    "\n  hint: rename them in the spec (the derived " + cell::role_name(role) +
                                    ".json in OUT/derived shows the names), or let the flow derive the spec");
  }
}

bool has_measure(const sweep::SweepSpec& s, const char* name) {
  return std::any_of(s.measures.begin(), s.measures.end(), [&](const sweep::MeasureSpec& m) { return m.name == name; });
}

double axis_max(const sweep::SweepSpec& s, const char* name) {
  for (const auto& a : s.axes) {
    if (a.name == name && !a.values.empty()) return *std::max_element(a.values.begin(), a.values.end());
  }
  return std::nan("");
}

// The read pulse's amplitude on the cell's read word line.
double vin_of(const cell::CellCard& c) {
  return c.cell.has_role("wlr") ? std::abs(c.wlr_active_v - c.wlr_idle_v) : std::abs(c.wlrb_idle_v - c.wlrb_active_v);
}

nlohmann::json record_files(const std::vector<fs::path>& files) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : files) j[f.string()] = hash_or_missing(f);
  return j;
}

std::string last_lines(const fs::path& log, std::size_t n) {
  std::ifstream f(log);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

// "" if some point of the results file succeeded; else why every point failed
// (the first distinct messages, as ngspice gave them).
std::string every_point_failed(const fs::path& results) {
  try {
    const store::Results r = store::read_results(results);
    std::vector<std::string> seen;
    for (std::size_t k = 0; k < r.status.size(); ++k) {
      if (r.status[k] == spice::SimOutcome::kOk) return "";
      std::string m = std::string(spice::to_string(r.status[k])) + ": " + (k < r.messages.size() ? r.messages[k] : "");
      if (std::find(seen.begin(), seen.end(), m) == seen.end() && seen.size() < 2) seen.push_back(m);
    }
    return "every one of its " + std::to_string(r.status.size()) + " points failed; " + join(seen, "; ");
  } catch (const Error& e) {
    return std::string("its results cannot be read: ") + e.what();
  }
}

void write_manifest(const fs::path& out, const nlohmann::json& manifest) {
  write_text_file(out / "flow.json", manifest.dump(1) + "\n");
}

}  // namespace

Role role_of_spec(const fs::path& spec_file) {
  const sweep::SweepSpec spec = sweep::load_spec(spec_file);
  std::set<std::string> names;
  for (const auto& m : spec.measures) names.insert(m.name);
  // The most specific role first: energy sweeps also measure q_line_c.
  for (Role r : {Role::kEnergy, Role::kRetention, Role::kReadCurrent, Role::kConverter, Role::kMultiply}) {
    const auto needs = cell::role_needs(r);
    if (std::all_of(needs.measures.begin(), needs.measures.end(), [&](const std::string& m) { return names.count(m) > 0; })) {
      return r;
    }
  }
  std::string help;
  for (Role r : cell::all_roles()) help += "\n  " + cell::role_name(r) + ": measures " + join(cell::role_needs(r).measures, " ");
  throw InputError("GC-1901", "error GC-1901: " + spec_file.string() +
                                  ": the flow cannot tell which sweep this is from its measures; a spec takes a role by measuring:" + help);
}

FlowPlan plan_flow(const FlowOptions& o) {
  FlowPlan plan;
  const fs::path card_path = o.card.empty() ? cell::default_card_path() : o.card;
  plan.card = cell::load_card(card_path);
  const cell::CellCard& card = plan.card;
  plan.out = fs::absolute(o.out).lexically_normal();
  plan.sample = fs::absolute(find_data_file(o.sample)).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(plan.sample, ec)) {
    throw InputError("GC-1906", "error GC-1906: flow: the Q/K/V sample " + o.sample.string() + " does not exist");
  }

  // Hand-written specs first (nothing is written before they are accepted).
  std::map<Role, sweep::SweepSpec> given;
  for (const auto& s : o.specs) {
    const Role role = role_of_spec(s);
    if (given.count(role) != 0) {
      throw InputError("GC-1905", "error GC-1905: " + s.string() + ": a second " + cell::role_name(role) + " spec (the first: " +
                                      given.at(role).path.string() + "); give one spec per role");
    }
    sweep::SweepSpec spec = sweep::load_spec(s);
    check_about_cell(spec, role, card);
    check_needs(spec, role);
    given.emplace(role, std::move(spec));
  }

  fs::create_directories(plan.out / "logs");
  plan.derived = cell::write_derived(card, plan.out / "derived");
  for (Role r : cell::all_roles()) {
    if (given.count(r) != 0) {
      plan.spec_of[r] = fs::absolute(given.at(r).path).lexically_normal();
      plan.given[r] = true;
    } else if (plan.derived.specs.count(r) != 0) {
      plan.spec_of[r] = plan.derived.specs.at(r);
      plan.given[r] = false;
    }
  }

  auto o_path = [&](const std::string& rel) { return plan.out / rel; };
  std::vector<Stage>& stages = plan.stages;

  // 0. What was derived from the card, and from which files.
  {
    Stage d;
    d.name = "derive";
    d.what = "derive specs from " + card.path.filename().string();
    d.inputs = cell::card_files(card);
    d.outputs.push_back(fs::relative(plan.derived.cell_template, plan.out));
    d.outputs.push_back(fs::relative(plan.derived.converter_template, plan.out));
    for (const auto& [r, p] : plan.derived.specs) d.outputs.push_back(fs::relative(p, plan.out));
    stages.push_back(d);
  }

  // 1. Sweeps.
  std::map<Role, sweep::SweepSpec> loaded;
  for (Role r : cell::all_roles()) {
    const std::string name = cell::role_name(r);
    Stage s;
    s.name = "sweep_" + name;
    s.outputs = {"sweeps/" + name + ".h5"};
    s.points_may_fail = true;
    if (plan.spec_of.count(r) == 0) {
      s.what = "sweep " + name;
      s.error = plan.derived.unavailable.count(r) ? plan.derived.unavailable.at(r) : "no spec for this role";
      stages.push_back(s);
      continue;
    }
    const fs::path spec = plan.spec_of.at(r);
    loaded.emplace(r, sweep::load_spec(spec));
    s.what = "sweep " + spec.filename().string() + (plan.given.at(r) ? " (given)" : "");
    s.args = {"-q", "sweep", spec.string(), "-o", o_path(s.outputs[0]).string(), "--overwrite"};
    s.inputs = spec_files(loaded.at(r));
    stages.push_back(s);
  }

  // 2. Fits.
  auto fit = [&](const std::string& name, Role data, std::vector<std::string> extra) {
    const fs::path in = o_path("sweeps/" + cell::role_name(data) + ".h5");
    Stage s;
    s.name = "fit_" + name;
    s.what = "fit " + name;
    s.args = {"-q", "fit", in.string()};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.args.push_back("-o");
    s.args.push_back(o_path("fits/" + name + ".json").string());
    s.inputs = {in};
    s.outputs = {"fits/" + name + ".json"};
    stages.push_back(s);
  };
  {
    const bool sn = loaded.count(Role::kMultiply) && has_measure(loaded.at(Role::kMultiply), "v_sn_read_v");
    fit("multiply.paper_poly", Role::kMultiply,
        {"-m", "q_line_c", "--model", "paper-poly", "-i", sn ? "t_pulse,v_sn_read_v" : "t_pulse,v_store", "--offset",
         format_exact(card.offset_v), "--vin", format_exact(vin_of(card))});
  }
  fit("read_current.lut", Role::kReadCurrent, {"-m", "i_read_a", "--model", "lut", "--interpolation", "cubic", "-i", "v_store,v_line"});
  {
    const double top = loaded.count(Role::kRetention) ? axis_max(loaded.at(Role::kRetention), "v_store") : card.store_hi_v;
    std::vector<std::string> a = {"-m", "v_sn_trace_v", "--model", "exp-decay", "-i", "v_sn_trace_v_time_s", "--where",
                                  "v_store=" + format_exact(top)};
    if (!std::isnan(card.decay_toward_v)) {
      a.push_back("--v-inf");
      a.push_back(format_exact(card.decay_toward_v));
    }
    fit("retention.exp_decay", Role::kRetention, a);
  }
  fit("c2p.hardsigmoid", Role::kConverter, {"-m", "pw_s", "--model", "hardsigmoid", "-i", "q_in"});

  // 3. Exports.
  auto exp = [&](const std::string& model, const std::string& format, std::vector<std::string> extra) {
    Stage s;
    s.name = "export_" + model + "_" + format;
    s.what = "export " + model + " as " + format;
    s.args = {"-q", "export", o_path("fits/" + model + ".json").string(), "--format", format, "-o", o_path("exports/" + format).string()};
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.inputs = {o_path("fits/" + model + ".json")};
    s.outputs = {"exports/" + format};
    stages.push_back(s);
  };
  exp("multiply.paper_poly", "reference", {"--t-max", format_exact(card.t_max_s), "--q-sat", format_exact(card.q_sat_c)});
  exp("read_current.lut", "xspice", {});
  exp("read_current.lut", "verilog-a", {});
  exp("read_current.lut", "csv", {});
  // Closed-form Verilog-A modules (they compile with open tools, unlike a lut's $table_model).
  for (const char* model : {"multiply.paper_poly", "retention.exp_decay", "c2p.hardsigmoid"}) exp(model, "verilog-a", {});

  // 4. The evaluator: the authors' cell, and this cell with this flow's fits.
  const fs::path cell_model = o_path("fits/read_current.lut.json"), c2p_model = o_path("fits/c2p.hardsigmoid.json");
  const std::vector<std::string> models = {"--card", card.path.string(), "--set", "cell_model=" + cell_model.string(),
                                           "--set", "c2p_model=" + c2p_model.string()};
  {
    Stage s;
    s.name = "eval_reference";
    s.what = "evaluator, the authors' cell (reference)";
    s.args = {"-q", "eval", "-i", plan.sample.string(), "-o", o_path("eval/reference.h5").string(), "--preset", "reference",
              "--intermediates"};
    s.inputs = {plan.sample};
    s.outputs = {"eval/reference.h5"};
    stages.push_back(s);
  }
  {
    // A held line is what fitted mode models; a precharged line floats: ODE mode.
    const bool held = card.scheme == cell::ReadScheme::kHeld;
    Stage s;
    s.name = "eval_cell";
    s.what = std::string("evaluator, ") + card.name + (held ? " (fitted mode)" : " (ODE mode: the line floats)");
    s.args = {"-q", "eval", "-i", plan.sample.string(), "-o", o_path("eval/fitted.h5").string(), "--preset",
              held ? "fitted" : "ode", "--intermediates"};
    s.args.insert(s.args.end(), models.begin(), models.end());
    s.inputs = {plan.sample, card.path, cell_model, c2p_model};
    s.outputs = {"eval/fitted.h5"};
    stages.push_back(s);
  }
  {
    Stage s;
    s.name = "spice_check";
    s.what = "evaluator vs SPICE, " + std::to_string(o.check_keys) + " x " + std::to_string(o.check_dims) + " sub-tile";
    s.args = {"-q", "spice-check", "--keys", std::to_string(o.check_keys), "--dims", std::to_string(o.check_dims)};
    for (auto seed : o.check_seeds) {
      s.args.push_back("--seed");
      s.args.push_back(std::to_string(seed));
    }
    s.args.insert(s.args.end(), models.begin(), models.end());
    s.args.insert(s.args.end(), {"--max-charge-error", format_exact(o.check_max_charge_error_pct), "--min-within-1lsb",
                                 format_exact(o.check_min_within_1lsb_pct), "-o", o_path("eval/spice_check.json").string()});
    s.inputs = cell::card_files(card);
    s.inputs.push_back(cell_model);
    s.inputs.push_back(c2p_model);
    s.outputs = {"eval/spice_check.json"};
    stages.push_back(s);
  }
  {
    Stage s;
    s.name = "energy";
    s.what = "energy and latency per token per head";
    s.args = {"-q", "energy", "--card", card.path.string(), "--cell-data", o_path("sweeps/energy.h5").string(), "--c2p-data",
              o_path("sweeps/c2p.h5").string(), "-o", o_path("eval/energy.json").string()};
    s.inputs = {card.path, o_path("sweeps/energy.h5"), o_path("sweeps/c2p.h5")};
    s.outputs = {"eval/energy.json"};
    stages.push_back(s);
  }
  {
    Stage s;
    s.name = "report";
    s.what = "report.html";
    s.args = {"-q", "report", plan.out.string(), "-o", o_path("report.html").string()};
    s.outputs = {"report.html"};
    stages.push_back(s);
  }
  return plan;
}

FlowResult run_flow(const FlowPlan& plan, const FlowOptions& o, const FlowEvents& events) {
  const fs::path& out = plan.out;
  const cell::CellCard& card = plan.card;
  // The manifest of the previous run, for reuse.
  nlohmann::json previous = nlohmann::json::object();
  std::error_code ec;
  if (o.reuse && fs::exists(out / "flow.json", ec)) {
    try {
      previous = nlohmann::json::parse(read_text_file(out / "flow.json"));
    } catch (const std::exception&) {
      previous = nlohmann::json::object();
    }
  }
  const std::string build = build_info().version + " (" + build_info().git_sha + ")";
  nlohmann::json cell_files = nlohmann::json::array();
  for (const auto& f : cell::card_files(card)) cell_files.push_back({{"path", f.string()}, {"sha256", hash_or_missing(f)}});
  nlohmann::json manifest{{"format", "gaincell-flow/2"},
                          {"gaincell_version", build},
                          {"output", out.string()},
                          {"cell",
                           {{"name", card.name},
                            {"description", card.description},
                            {"card", card.path.string()},
                            {"card_sha256", sha256_hex(card.text)},
                            {"subckt", card.cell.name},
                            {"subckt_file", card.cell.file.string()},
                            {"converter", card.converter.name},
                            {"converter_file", card.converter.file.string()},
                            {"read_scheme", cell::to_string(card.scheme)},
                            {"sign_scheme", cell::to_string(card.sign)},
                            {"line_v", card.line_v},
                            {"offset_v", card.offset_v},
                            {"files", cell_files}}},
                          {"sample", plan.sample.string()},
                          {"specs", nlohmann::json::object()},
                          {"stages", nlohmann::json::array()}};
  for (const auto& [role, spec] : plan.spec_of) {
    manifest["specs"][cell::role_name(role)] = {{"path", spec.string()}, {"given", plan.given.at(role)}};
  }
  for (const auto& [role, why] : plan.derived.unavailable) {
    if (plan.spec_of.count(role) == 0) manifest["specs"][cell::role_name(role)] = {{"unavailable", why}};
  }
  std::set<std::string> failed_outputs;
  FlowResult result;
  const auto flow_start = std::chrono::steady_clock::now();
  const fs::path self = o.gaincell;
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const Stage& st = plan.stages[i];
    if (events.started) events.started(i, plan.stages.size(), st);
    StageOutcome outcome;
    nlohmann::json rec{{"name", st.name}, {"what", st.what}, {"command", nlohmann::json::array()}};
    if (!st.args.empty()) rec["command"].push_back("gaincell");
    for (const auto& a : st.args) rec["command"].push_back(a);
    const nlohmann::json hashes = record_files(st.inputs);
    rec["inputs_sha256"] = hashes;
    rec["outputs"] = nlohmann::json::array();
    for (const auto& p : st.outputs) rec["outputs"].push_back(p.string());
    std::string blocked;
    for (const auto& in : st.inputs) {
      for (const auto& fo : failed_outputs) {
        if (in == out / fo) blocked = fo;
      }
    }
    auto finish = [&](bool ran) {
      nlohmann::json out_hashes = nlohmann::json::object();
      for (const auto& p : st.outputs) {
        if (ran && fs::is_regular_file(out / p, ec)) out_hashes[p.string()] = sha256_file(out / p);
        // A directory of files (exports): each file's hash.
        if (ran && fs::is_directory(out / p, ec)) {
          for (const auto& e : fs::recursive_directory_iterator(out / p)) {
            if (e.is_regular_file()) out_hashes[fs::relative(e.path(), out).string()] = sha256_file(e.path());
          }
        }
      }
      if (ran) rec["outputs_sha256"] = out_hashes;
      rec["status"] = outcome.status;
      if (!outcome.reason.empty()) rec["reason"] = outcome.reason;
      manifest["stages"].push_back(rec);
      if (outcome.status == "failed" || outcome.status == "skipped") {
        for (const auto& p : st.outputs) failed_outputs.insert(p.string());
      }
      if (outcome.status == "failed") ++result.failures;
      if (events.finished) events.finished(i, st, outcome);
      // The manifest after every stage: a killed flow keeps its record.
      manifest["wall_time_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - flow_start).count();
      write_manifest(out, manifest);
    };
    if (!st.error.empty()) {
      outcome.status = "failed";
      outcome.reason = st.error;
      finish(false);
      continue;
    }
    if (!blocked.empty()) {
      outcome.status = "skipped";
      outcome.reason = "needs " + blocked + ", which a failed stage did not write";
      finish(false);
      continue;
    }
    if (st.args.empty()) {  // derive: done by plan_flow
      outcome.status = "ran";
      rec["duration_s"] = 0.0;
      finish(true);
      continue;
    }
    if (o.reuse && st.name != "report") {
      bool same = true;
      for (const auto& p : st.outputs) same = same && fs::exists(out / p, ec);
      nlohmann::json old;
      if (previous.contains("stages") && previous["stages"].is_array()) {
        for (const auto& s : previous["stages"]) {
          if (s.is_object() && s.value("name", "") == st.name) old = s;
        }
      }
      same = same && old.is_object() && old.value("status", "") == "ran" && old.value("command", nlohmann::json()) == rec["command"] &&
             old.value("inputs_sha256", nlohmann::json()) == hashes && previous.value("gaincell_version", "") == build;
      if (same) {
        rec = old;
        rec["status"] = "ran";
        rec["reused"] = true;
        outcome.status = "reused";
        manifest["stages"].push_back(rec);
        if (events.finished) events.finished(i, st, outcome);
        write_manifest(out, manifest);
        continue;
      }
    }
    const fs::path log = out / "logs" / (st.name + ".log");
    for (const auto& p : st.outputs) fs::create_directories((out / p).parent_path());
    std::vector<std::string> argv = {self.string()};
    argv.insert(argv.end(), st.args.begin(), st.args.end());
    const auto t0 = std::chrono::steady_clock::now();
    int rc = 0;
    try {
      rc = run_process(argv, log);
    } catch (const IoError& e) {
      rc = 127;
      std::ofstream(log, std::ios::app) << e.what() << "\n";
    }
    outcome.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    outcome.exit_code = rc;
    outcome.log = "logs/" + st.name + ".log";
    rec["duration_s"] = outcome.duration_s;
    rec["exit_code"] = rc;
    rec["log"] = outcome.log;
    // A sweep with failed points (exit 4) finished: its failures are results,
    // unless no point at all succeeded (nothing downstream can use it).
    bool ok = rc == 0 || (rc == 4 && st.points_may_fail);
    outcome.points_failed = ok && rc == 4;
    if (outcome.points_failed) {
      const std::string why = every_point_failed(out / st.outputs.at(0));
      if (!why.empty()) {
        ok = false;
        outcome.reason = why;
      }
    }
    outcome.status = ok ? "ran" : "failed";
    if (!ok) {
      if (outcome.reason.empty()) outcome.reason = "exit " + std::to_string(rc) + "; the end of " + outcome.log + ":\n" + last_lines(log, 6);
      rec["log_tail"] = last_lines(log, 12);
    }
    finish(ok);
  }
  result.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - flow_start).count();
  manifest["wall_time_s"] = result.wall_time_s;
  manifest["failed_stages"] = result.failures;
  write_manifest(out, manifest);
  result.report = out / "report.html";
  result.manifest = manifest;
  return result;
}

}  // namespace gaincell::flow
