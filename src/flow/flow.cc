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
#include "gaincell/core/si_value.h"
#include "gaincell/store/results_file.h"
#include "gaincell/sweep/spec.h"

namespace gaincell::flow {
namespace {

namespace fs = std::filesystem;
using cell::Role;
using gaincell::format_exact;

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
  throw InputError("GC-1903", spec.path.string() + ": the " + cell::role_name(role) + " sweep of a flow about cell " +
                                  card.name + " must simulate its " + (role == Role::kConverter ? "converter " : "subcircuit ") +
                                  b.file.string() + ", but neither this spec's template (" + spec.template_path.string() +
                                  ") nor any file it includes is that file: every stage of a flow is about one cell"
                                  "\n  hint: give the card of the cell this spec simulates first (gaincell flow CELL.json "
                                  "SPEC ...), or let the flow derive the spec from the card");
}

template <typename Named>
bool has_named(const std::vector<Named>& items, const std::string& name) {
  return std::any_of(items.begin(), items.end(), [&](const Named& x) { return x.name == name; });
}

void check_needs(const sweep::SweepSpec& spec, Role role) {
  const cell::RoleNeeds needs = cell::role_needs(role);
  std::vector<std::string> missing;
  for (const auto& a : needs.axes) {
    if (!has_named(spec.axes, a)) missing.push_back("axis " + a);
  }
  for (const auto& m : needs.measures) {
    if (!has_named(spec.measures, m)) missing.push_back("measure " + m);
  }
  if (!missing.empty()) {
    throw InputError("GC-1904", spec.path.string() + ": as the flow's " + cell::role_name(role) +
                                    " sweep it lacks " + join(missing, ", ") + "; the flow's fits read axes " +
                                    join(needs.axes, ", ") + " and measures " + join(needs.measures, ", ") +
                                    "\n  hint: rename them in the spec (the derived " + cell::role_name(role) +
                                    ".json in OUT/derived shows the names), or let the flow derive the spec");
  }
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

// ---- plan_flow, step by step ----

// The hand-written specs, each checked for its role (nothing is written
// before they are accepted).
std::map<Role, sweep::SweepSpec> accept_given_specs(const FlowOptions& o, const cell::CellCard& card) {
  std::map<Role, sweep::SweepSpec> given;
  for (const auto& s : o.specs) {
    const Role role = role_of_spec(s);
    if (given.count(role) != 0) {
      throw InputError("GC-1905", s.string() + ": a second " + cell::role_name(role) + " spec (the first: " +
                                      given.at(role).path.string() + "); give one spec per role");
    }
    sweep::SweepSpec spec = sweep::load_spec(s);
    check_about_cell(spec, role, card);
    check_needs(spec, role);
    given.emplace(role, std::move(spec));
  }
  return given;
}

// What each role's sweep runs: the given spec, else the derived one.
void choose_specs(FlowPlan& plan, const std::map<Role, sweep::SweepSpec>& given) {
  for (Role r : cell::all_roles()) {
    if (given.count(r) != 0) {
      plan.spec_of[r] = fs::absolute(given.at(r).path).lexically_normal();
      plan.given[r] = true;
    } else if (plan.derived.specs.count(r) != 0) {
      plan.spec_of[r] = plan.derived.specs.at(r);
      plan.given[r] = false;
    }
  }
}

// Lays out the stages of a plan whose card, directories and specs are chosen.
class StagePlanner {
 public:
  explicit StagePlanner(FlowPlan& plan) : plan_(plan), card_(plan.card) {}

  void derive() {
    Stage d = stage("derive", "derive specs from " + card_.path.filename().string(), {});
    d.inputs = cell::card_files(card_);
    d.outputs.push_back(fs::relative(plan_.derived.cell_template, plan_.out));
    d.outputs.push_back(fs::relative(plan_.derived.converter_template, plan_.out));
    for (const auto& [r, p] : plan_.derived.specs) d.outputs.push_back(fs::relative(p, plan_.out));
    plan_.stages.push_back(d);
  }

  void sweeps() {
    for (Role r : cell::all_roles()) {
      const std::string name = cell::role_name(r);
      Stage s = stage("sweep_" + name, "sweep " + name, {});
      s.outputs = {"sweeps/" + name + ".h5"};
      s.points_may_fail = true;
      if (plan_.spec_of.count(r) == 0) {
        s.error = plan_.derived.unavailable.count(r) ? plan_.derived.unavailable.at(r) : "no spec for this role";
      } else {
        const fs::path spec = plan_.spec_of.at(r);
        loaded_.emplace(r, sweep::load_spec(spec));
        s.what = "sweep " + spec.filename().string() + (plan_.given.at(r) ? " (given)" : "");
        s.args = {"-q", "sweep", spec.string(), "-o", path(s.outputs[0]), "--overwrite"};
        s.inputs = spec_files(loaded_.at(r));
      }
      plan_.stages.push_back(s);
    }
  }

  void fits() {
    const bool sn = loaded_.count(Role::kMultiply) && has_named(loaded_.at(Role::kMultiply).measures, "v_sn_read_v");
    fit_stage("multiply.paper_poly", Role::kMultiply,
        {"-m", "q_line_c", "--model", "paper-poly", "-i", sn ? "t_pulse,v_sn_read_v" : "t_pulse,v_store", "--offset",
         format_exact(card_.offset_v), "--vin", format_exact(vin_of(card_))});
    fit_stage("read_current.lut", Role::kReadCurrent, {"-m", "i_read_a", "--model", "lut", "--interpolation", "cubic", "-i", "v_store,v_line"});
    const double top = loaded_.count(Role::kRetention) ? axis_max(loaded_.at(Role::kRetention), "v_store") : card_.store_hi_v;
    std::vector<std::string> decay = {"-m", "v_sn_trace_v", "--model", "exp-decay", "-i", "v_sn_trace_v_time_s", "--where",
                                      "v_store=" + format_exact(top)};
    if (!std::isnan(card_.decay_toward_v)) decay.insert(decay.end(), {"--v-inf", format_exact(card_.decay_toward_v)});
    fit_stage("retention.exp_decay", Role::kRetention, decay);
    fit_stage("c2p.hardsigmoid", Role::kConverter, {"-m", "pw_s", "--model", "hardsigmoid", "-i", "q_in"});
  }

  void exports() {
    export_stage("multiply.paper_poly", "reference", {"--t-max", format_exact(card_.t_max_s), "--q-sat", format_exact(card_.q_sat_c)});
    export_stage("read_current.lut", "xspice", {});
    export_stage("read_current.lut", "verilog-a", {});
    export_stage("read_current.lut", "csv", {});
    // Closed-form Verilog-A modules (they compile with open tools, unlike a lut's $table_model).
    for (const char* model : {"multiply.paper_poly", "retention.exp_decay", "c2p.hardsigmoid"}) export_stage(model, "verilog-a", {});
  }

  // The evaluator: the authors' cell, and this cell with this flow's fits.
  void evaluator() {
    eval_stage("eval_reference", "evaluator, the authors' cell (reference)", "reference.h5", "reference", {}, {});
    // A held line is what fitted mode models; a precharged line floats: ODE mode.
    const bool held = card_.scheme == cell::ReadScheme::kHeld;
    eval_stage("eval_cell", std::string("evaluator, ") + card_.name + (held ? " (fitted mode)" : " (ODE mode: the line floats)"),
         "fitted.h5", held ? "fitted" : "ode", models(), {card_.path, cell_model(), c2p_model()});
  }

  void spice_check(const FlowOptions& o) {
    Stage s = stage("spice_check", "evaluator vs SPICE, " + std::to_string(o.check_keys) + " x " + std::to_string(o.check_dims) + " sub-tile",
                    {"-q", "spice-check", "--keys", std::to_string(o.check_keys), "--dims", std::to_string(o.check_dims)});
    for (auto seed : o.check_seeds) s.args.insert(s.args.end(), {"--seed", std::to_string(seed)});
    const std::vector<std::string> m = models();
    s.args.insert(s.args.end(), m.begin(), m.end());
    s.args.insert(s.args.end(), {"--max-charge-error", format_exact(o.check_max_charge_error_pct), "--min-within-1lsb",
                                 format_exact(o.check_min_within_1lsb_pct), "-o", path("eval/spice_check.json")});
    s.inputs = cell::card_files(card_);
    s.inputs.push_back(cell_model());
    s.inputs.push_back(c2p_model());
    s.outputs = {"eval/spice_check.json"};
    plan_.stages.push_back(s);
  }

  // What the cell does to a language model: the shipped tiny LM's rows
  // (ideal, linear, the authors' cubic, this cell), before and after the
  // authors' adaptation. A precharged line floats: ODE mode, as eval_cell.
  void language_model(const FlowOptions& o) {
    if (!o.lm) return;
    const bool held = card_.scheme == cell::ReadScheme::kHeld;
    const fs::path model = fs::absolute(find_data_file(o.lm_model)).lexically_normal();
    const std::size_t blocks = held ? o.lm_sequences : o.lm_ode_sequences;
    const std::string n = std::to_string(blocks);
    Stage s = stage("lm_eval", "tiny language model, " + n + " blocks" + (held ? "" : " (ODE mode)"),
                    {"-q", "lm-eval", "--table", "--model", model.string(), "--preset", held ? "fitted" : "ode",
                     "--sequences", n, "--calib-sequences", std::to_string(std::min<std::size_t>(16, blocks))});
    const std::vector<std::string> m = models();
    s.args.insert(s.args.end(), m.begin(), m.end());
    s.args.insert(s.args.end(), {"-o", path("eval/lm.json")});
    s.inputs = cell::card_files(card_);
    for (const char* f : {"softmax.h5", "heldout.txt", "calib.txt"}) s.inputs.push_back(model.parent_path() / f);
    s.inputs.insert(s.inputs.end(), {model, cell_model(), c2p_model()});
    s.outputs = {"eval/lm.json"};
    plan_.stages.push_back(s);
  }

  void energy_and_report() {
    Stage e = stage("energy", "energy and latency per token per head",
                    {"-q", "energy", "--card", card_.path.string(), "--cell-data", path("sweeps/energy.h5"), "--c2p-data",
                     path("sweeps/c2p.h5"), "-o", path("eval/energy.json")});
    e.inputs = {card_.path, plan_.out / "sweeps/energy.h5", plan_.out / "sweeps/c2p.h5"};
    e.outputs = {"eval/energy.json"};
    plan_.stages.push_back(e);
    Stage r = stage("report", "report.html", {"-q", "report", plan_.out.string(), "-o", path("report.html")});
    r.outputs = {"report.html"};
    plan_.stages.push_back(r);
  }

 private:
  static Stage stage(const std::string& name, const std::string& what, std::vector<std::string> args) {
    Stage s;
    s.name = name;
    s.what = what;
    s.args = std::move(args);
    return s;
  }
  std::string path(const fs::path& rel) const { return (plan_.out / rel).string(); }
  fs::path cell_model() const { return plan_.out / "fits/read_current.lut.json"; }
  fs::path c2p_model() const { return plan_.out / "fits/c2p.hardsigmoid.json"; }
  std::vector<std::string> models() const {
    return {"--card", card_.path.string(), "--set", "cell_model=" + cell_model().string(), "--set",
            "c2p_model=" + c2p_model().string()};
  }

  void fit_stage(const std::string& name, Role data, const std::vector<std::string>& extra) {
    const fs::path in = plan_.out / ("sweeps/" + cell::role_name(data) + ".h5");
    Stage s = stage("fit_" + name, "fit " + name, {"-q", "fit", in.string()});
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.args.insert(s.args.end(), {"-o", path("fits/" + name + ".json")});
    s.inputs = {in};
    s.outputs = {"fits/" + name + ".json"};
    plan_.stages.push_back(s);
  }

  void export_stage(const std::string& model, const std::string& format, const std::vector<std::string>& extra) {
    Stage s = stage("export_" + model + "_" + format, "export " + model + " as " + format,
                    {"-q", "export", path("fits/" + model + ".json"), "--format", format, "-o", path("exports/" + format)});
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.inputs = {plan_.out / ("fits/" + model + ".json")};
    s.outputs = {"exports/" + format};
    plan_.stages.push_back(s);
  }

  void eval_stage(const std::string& name, const std::string& what, const std::string& output, const std::string& preset,
            const std::vector<std::string>& extra, const std::vector<fs::path>& inputs) {
    Stage s = stage(name, what, {"-q", "eval", "-i", plan_.sample.string(), "-o", path("eval/" + output), "--preset", preset,
                                 "--intermediates"});
    s.args.insert(s.args.end(), extra.begin(), extra.end());
    s.inputs = {plan_.sample};
    s.inputs.insert(s.inputs.end(), inputs.begin(), inputs.end());
    s.outputs = {"eval/" + output};
    plan_.stages.push_back(s);
  }

  FlowPlan& plan_;
  const cell::CellCard& card_;
  std::map<Role, sweep::SweepSpec> loaded_;
};

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
  throw InputError("GC-1901", spec_file.string() +
                                  ": the flow cannot tell which sweep this is from its measures; a spec takes a role by measuring:" + help);
}

void set_inputs(FlowOptions& options, const std::vector<std::string>& inputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const fs::path p = fs::absolute(inputs[i]);
    if (i == 0 && cell::is_card_file(p)) {
      options.card = p;
    } else if (cell::is_card_file(p)) {
      throw InputError("GC-1905", "flow: " + inputs[i] + " is a second cell card; a flow is about one cell "
                                  "(give the card first, then specs)");
    } else {
      options.specs.push_back(p);
    }
  }
}

FlowPlan plan_flow(const FlowOptions& o) {
  FlowPlan plan;
  plan.card = cell::load_card(o.card.empty() ? cell::default_card_path() : o.card);
  plan.out = fs::absolute(o.out).lexically_normal();
  plan.sample = fs::absolute(find_data_file(o.sample)).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(plan.sample, ec)) {
    throw InputError("GC-1906", "flow: the Q/K/V sample " + o.sample.string() + " does not exist");
  }
  const std::map<Role, sweep::SweepSpec> given = accept_given_specs(o, plan.card);
  fs::create_directories(plan.out / "logs");
  plan.derived = cell::write_derived(plan.card, plan.out / "derived");
  choose_specs(plan, given);
  StagePlanner stages(plan);
  stages.derive();
  stages.sweeps();
  stages.fits();
  stages.exports();
  stages.evaluator();
  stages.spice_check(o);
  stages.language_model(o);
  stages.energy_and_report();
  return plan;
}

std::string headline(const FlowPlan& plan) {
  const cell::CellCard& c = plan.card;
  return "cell " + c.name + " (" + c.cell.name + " of " + c.cell.file.filename().string() + "; " + cell::to_string(c.scheme) +
         " line at " + format_exact(c.line_v) + " V, " + cell::to_string(c.sign) + ") -> " + plan.out.string();
}

std::string outcome_text(const StageOutcome& r) {
  if (r.status == "ran") {
    char buf[64];
    std::snprintf(buf, sizeof buf, "ran (%.1f s)", r.duration_s);
    return buf + std::string(r.points_failed ? ", some points failed (recorded)" : "");
  }
  if (r.status == "reused") return "reused";
  if (r.status == "skipped") return "skipped: " + r.reason;
  // A reason of several lines (a log's tail) is indented under the stage.
  std::string reason = r.reason;
  for (std::size_t p = reason.find('\n'); p != std::string::npos && p + 1 < reason.size(); p = reason.find('\n', p + 1)) {
    reason.insert(p + 1, "    ");
  }
  if (!reason.empty() && reason.back() == '\n') reason.pop_back();
  return "FAILED: " + reason;
}

namespace {

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

// The manifest of the previous run in `out`, for reuse (an empty object if none).
nlohmann::json previous_manifest(const fs::path& out, bool reuse) {
  std::error_code ec;
  if (!reuse || !fs::exists(out / "flow.json", ec)) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(read_text_file(out / "flow.json"));
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

nlohmann::json cell_record(const cell::CellCard& card) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : cell::card_files(card)) files.push_back({{"path", f.string()}, {"sha256", hash_or_missing(f)}});
  return {{"name", card.name},
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
          {"files", files}};
}

// OUT/flow.json before any stage: the build, the cell, the sample and the specs.
nlohmann::json manifest_header(const FlowPlan& plan, const std::string& build) {
  nlohmann::json manifest{{"format", "gaincell-flow/2"},
                          {"gaincell_version", build},
                          {"output", plan.out.string()},
                          {"cell", cell_record(plan.card)},
                          {"sample", plan.sample.string()},
                          {"specs", nlohmann::json::object()},
                          {"stages", nlohmann::json::array()}};
  for (const auto& [role, spec] : plan.spec_of) {
    manifest["specs"][cell::role_name(role)] = {{"path", spec.string()}, {"given", plan.given.at(role)}};
  }
  for (const auto& [role, why] : plan.derived.unavailable) {
    if (plan.spec_of.count(role) == 0) manifest["specs"][cell::role_name(role)] = {{"unavailable", why}};
  }
  return manifest;
}

// The record of a stage before it runs: its command, inputs and outputs.
nlohmann::json stage_record(const Stage& st) {
  nlohmann::json rec{{"name", st.name}, {"what", st.what}, {"command", nlohmann::json::array()}};
  if (!st.args.empty()) rec["command"].push_back("gaincell");
  for (const auto& a : st.args) rec["command"].push_back(a);
  rec["inputs_sha256"] = record_files(st.inputs);
  rec["outputs"] = nlohmann::json::array();
  for (const auto& p : st.outputs) rec["outputs"].push_back(p.string());
  return rec;
}

// The hashes of what a stage wrote: a file's, or each file's of a directory (exports).
nlohmann::json output_hashes(const fs::path& out, const Stage& st) {
  nlohmann::json hashes = nlohmann::json::object();
  std::error_code ec;
  for (const auto& p : st.outputs) {
    if (fs::is_regular_file(out / p, ec)) hashes[p.string()] = sha256_file(out / p);
    if (!fs::is_directory(out / p, ec)) continue;
    for (const auto& e : fs::recursive_directory_iterator(out / p)) {
      if (e.is_regular_file()) hashes[fs::relative(e.path(), out).string()] = sha256_file(e.path());
    }
  }
  return hashes;
}

// Runs a plan's stages in order, recording each in OUT/flow.json.
class Runner {
 public:
  Runner(const FlowPlan& plan, const FlowOptions& o, const FlowEvents& events)
      : plan_(plan), o_(o), events_(events), build_(build_info().version + " (" + build_info().git_sha + ")"),
        previous_(previous_manifest(plan.out, o.reuse)), manifest_(manifest_header(plan, build_)),
        start_(std::chrono::steady_clock::now()) {}

  FlowResult run() {
    for (std::size_t i = 0; i < plan_.stages.size(); ++i) run_stage(i, plan_.stages[i]);
    result_.wall_time_s = elapsed_s();
    manifest_["wall_time_s"] = result_.wall_time_s;
    manifest_["failed_stages"] = result_.failures;
    write_manifest();
    result_.report = plan_.out / "report.html";
    result_.manifest = manifest_;
    return result_;
  }

 private:
  void run_stage(std::size_t i, const Stage& st) {
    if (events_.started) events_.started(i, plan_.stages.size(), st);
    nlohmann::json rec = stage_record(st);
    StageOutcome outcome;
    const std::string blocked = blocked_by(st);
    if (!st.error.empty()) {
      outcome.status = "failed";
      outcome.reason = st.error;
    } else if (!blocked.empty()) {
      outcome.status = "skipped";
      outcome.reason = "needs " + blocked + ", which a failed stage did not write";
    } else if (st.args.empty()) {  // derive: done by plan_flow
      outcome.status = "ran";
      rec["duration_s"] = 0.0;
    } else if (reused(i, st, rec)) {
      return;
    } else {
      outcome = execute(st, rec);
    }
    finish(i, st, rec, outcome);
  }

  // The output of a failed or skipped stage this stage needs ("" if none).
  std::string blocked_by(const Stage& st) const {
    std::string blocked;
    for (const auto& in : st.inputs) {
      for (const auto& fo : failed_outputs_) {
        if (in == plan_.out / fo) blocked = fo;
      }
    }
    return blocked;
  }

  // With reuse: records the previous run of the stage if its outputs exist
  // and its command, inputs and build are unchanged.
  bool reused(std::size_t i, const Stage& st, const nlohmann::json& rec) {
    if (!o_.reuse || st.name == "report") return false;
    std::error_code ec;
    for (const auto& p : st.outputs) {
      if (!fs::exists(plan_.out / p, ec)) return false;
    }
    nlohmann::json old;
    if (previous_.contains("stages") && previous_["stages"].is_array()) {
      for (const auto& s : previous_["stages"]) {
        if (s.is_object() && s.value("name", "") == st.name) old = s;
      }
    }
    const bool same = old.is_object() && old.value("status", "") == "ran" &&
                      old.value("command", nlohmann::json()) == rec["command"] &&
                      old.value("inputs_sha256", nlohmann::json()) == rec["inputs_sha256"] &&
                      previous_.value("gaincell_version", "") == build_;
    if (!same) return false;
    old["status"] = "ran";
    old["reused"] = true;
    StageOutcome outcome;
    outcome.status = "reused";
    record(i, st, old, outcome);
    return true;
  }

  // Runs the stage's command, its output in OUT/logs/<stage>.log.
  StageOutcome execute(const Stage& st, nlohmann::json& rec) const {
    const fs::path log = plan_.out / "logs" / (st.name + ".log");
    for (const auto& p : st.outputs) fs::create_directories((plan_.out / p).parent_path());
    std::vector<std::string> argv = {o_.gaincell.string()};
    argv.insert(argv.end(), st.args.begin(), st.args.end());
    const auto t0 = std::chrono::steady_clock::now();
    int rc = 0;
    try {
      rc = run_process(argv, log);
    } catch (const IoError& e) {
      rc = 127;
      std::ofstream(log, std::ios::app) << e.what() << "\n";
    }
    StageOutcome outcome;
    outcome.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    outcome.exit_code = rc;
    outcome.log = "logs/" + st.name + ".log";
    rec["duration_s"] = outcome.duration_s;
    rec["exit_code"] = rc;
    rec["log"] = outcome.log;
    judge(st, log, outcome, rec);
    return outcome;
  }

  // A sweep with failed points (exit 4) finished: its failures are results,
  // unless no point at all succeeded (nothing downstream can use it).
  void judge(const Stage& st, const fs::path& log, StageOutcome& outcome, nlohmann::json& rec) const {
    const int rc = outcome.exit_code;
    bool ok = rc == 0 || (rc == 4 && st.points_may_fail);
    outcome.points_failed = ok && rc == 4;
    if (outcome.points_failed) {
      const std::string why = every_point_failed(plan_.out / st.outputs.at(0));
      if (!why.empty()) {
        ok = false;
        outcome.reason = why;
      }
    }
    outcome.status = ok ? "ran" : "failed";
    if (ok) return;
    if (outcome.reason.empty()) outcome.reason = "exit " + std::to_string(rc) + "; the end of " + outcome.log + ":\n" + last_lines(log, 6);
    rec["log_tail"] = last_lines(log, 12);
  }

  void finish(std::size_t i, const Stage& st, nlohmann::json& rec, const StageOutcome& outcome) {
    if (outcome.status == "ran") rec["outputs_sha256"] = output_hashes(plan_.out, st);
    rec["status"] = outcome.status;
    if (!outcome.reason.empty()) rec["reason"] = outcome.reason;
    if (outcome.status == "failed" || outcome.status == "skipped") {
      for (const auto& p : st.outputs) failed_outputs_.insert(p.string());
    }
    if (outcome.status == "failed") ++result_.failures;
    record(i, st, rec, outcome);
  }

  // The manifest after every stage: a killed flow keeps its record.
  void record(std::size_t i, const Stage& st, const nlohmann::json& rec, const StageOutcome& outcome) {
    manifest_["stages"].push_back(rec);
    if (events_.finished) events_.finished(i, st, outcome);
    manifest_["wall_time_s"] = elapsed_s();
    write_manifest();
  }

  double elapsed_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  void write_manifest() const { write_text_file(plan_.out / "flow.json", manifest_.dump(1) + "\n"); }

  const FlowPlan& plan_;
  const FlowOptions& o_;
  const FlowEvents& events_;
  const std::string build_;
  const nlohmann::json previous_;
  nlohmann::json manifest_;
  const std::chrono::steady_clock::time_point start_;
  std::set<std::string> failed_outputs_;
  FlowResult result_;
};

}  // namespace

FlowResult run_flow(const FlowPlan& plan, const FlowOptions& options, const FlowEvents& events) {
  return Runner(plan, options, events).run();
}

}  // namespace gaincell::flow
