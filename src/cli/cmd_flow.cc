// SPDX-License-Identifier: MIT
// gaincell flow: from a cell's sweeps to attention in one command, and
// gaincell report: the page a designer reads (docs/flow.md).
//
// The flow is a table of stages, each one gaincell command with its input and
// output files. It runs them in order as child processes of this program
// (each stage's output goes to OUT/logs/<stage>.log), records every command,
// the SHA-256 of its inputs, its outputs and its time in OUT/flow.json, and
// with --reuse skips a stage whose outputs exist and whose command, inputs and
// gaincell build are those recorded. A failed stage is recorded; the stages
// that need its outputs are skipped with the reason; the others still run.
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "commands.h"
#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/sweep/spec.h"

extern char** environ;

namespace gaincell::cli {
namespace {

namespace fs = std::filesystem;

struct Stage {
  std::string name;
  std::string what;                  // one line for the progress display
  std::vector<std::string> args;     // gaincell arguments
  std::vector<fs::path> inputs;      // files whose hashes decide --reuse
  std::vector<fs::path> outputs;     // files it writes (relative to OUT)
  bool python = false;               // run /usr/bin/python3 instead of gaincell
};

// The roles of the flow's sweeps, and the measures that identify a spec's role.
struct Role {
  const char* name;
  const char* default_spec;
  std::vector<const char*> measures;
};

const std::vector<Role>& roles() {
  static const std::vector<Role> r = {
      {"multiply", "characterization/pushpull_multiply.json", {"q_line_c", "v_sn_read_v"}},
      {"read_current", "characterization/pushpull_read_current.json", {"i_read_a"}},
      {"retention", "characterization/pushpull_retention.json", {"v_sn_trace_v"}},
      {"c2p", "characterization/c2p_transfer.json", {"pw_s"}},
      {"energy", "characterization/pushpull_energy.json", {"e_read_vdd_j", "e_write_wbl_j"}},
  };
  return r;
}

std::string role_of(const fs::path& spec_file) {
  const sweep::SweepSpec spec = sweep::load_spec(spec_file);
  std::set<std::string> names;
  for (const auto& m : spec.measures) names.insert(m.name);
  // The most specific role first: energy specs also measure q_line_c.
  for (const char* r : {"energy", "retention", "read_current", "c2p", "multiply"}) {
    for (const auto& role : roles()) {
      if (role.name != std::string(r)) continue;
      bool all = true;
      for (const char* m : role.measures) all = all && names.count(m) > 0;
      if (all) return role.name;
    }
  }
  std::string help;
  for (const auto& role : roles()) {
    help += std::string("\n  ") + role.name + ": measures";
    for (const char* m : role.measures) help += std::string(" ") + m;
  }
  throw InputError("GC-1901", "error GC-1901: " + spec_file.string() +
                                  ": the flow cannot tell which sweep this is from its measures; a spec takes a role "
                                  "by measuring:" + help);
}

std::string hash_or_missing(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec) ? sha256_file(p) : std::string("missing");
}

// Runs argv and waits; with a `log`, its stdout and stderr go there (else they
// are ours). Returns the exit status (128 + signal if killed).
int run(const std::vector<std::string>& argv, const fs::path& log = {}) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw IoError("cannot start " + argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string last_lines(const fs::path& log, std::size_t n) {
  std::ifstream f(log);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += "    " + lines[i] + "\n";
  return out;
}

}  // namespace

Action add_flow(CLI::App& app, const GlobalOptions& global) {
  struct Flags {
    std::vector<std::string> specs;
    std::string out = "out/flow";
    bool reuse = false;
    std::string sample = "data/qkv_sample.h5";
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "flow", "From a cell to attention: sweeps, fits, exports, evaluator, SPICE check, energy, report (docs/flow.md)");
  cmd->add_option("specs", f->specs, "Sweep specs replacing the default cell's (each takes the role its measures say)");
  cmd->add_option("-o,--output", f->out, "Output directory")->capture_default_str();
  cmd->add_flag("--reuse", f->reuse, "Skip stages whose outputs exist and whose inputs and command are unchanged");
  cmd->add_option("--sample", f->sample, "Q/K/V sample for the evaluator (HDF5)")->capture_default_str();
  return [f, &global]() {
    const fs::path out = fs::absolute(f->out).lexically_normal();
    fs::create_directories(out / "logs");
    // The sweeps: the default cell's, replaced role by role by the given specs.
    std::map<std::string, fs::path> spec_of;
    for (const auto& r : roles()) spec_of[r.name] = find_data_file(r.default_spec);
    for (const auto& s : f->specs) spec_of[role_of(s)] = fs::absolute(s);
    const fs::path sample = find_data_file(f->sample);
    auto o = [&](const std::string& rel) { return out / rel; };

    std::vector<Stage> stages;
    for (const auto& r : roles()) {
      const fs::path spec = spec_of[r.name];
      stages.push_back({std::string("sweep_") + r.name, "sweep " + spec.filename().string(),
                        {"-q", "sweep", spec.string(), "-o", o(std::string("sweeps/") + r.name + ".h5").string()},
                        {spec},
                        {std::string("sweeps/") + r.name + ".h5"}});
    }
    auto fit = [&](const std::string& name, const std::string& data, std::vector<std::string> extra) {
      std::vector<std::string> a = {"-q", "fit", o(data).string()};
      a.insert(a.end(), extra.begin(), extra.end());
      a.push_back("-o");
      a.push_back(o("fits/" + name + ".json").string());
      stages.push_back({"fit_" + name, "fit " + name, a, {o(data)}, {"fits/" + name + ".json"}});
    };
    fit("multiply.paper_poly", "sweeps/multiply.h5", {"-m", "q_line_c", "--model", "paper-poly", "-i", "t_pulse,v_sn_read_v"});
    fit("read_current.lut", "sweeps/read_current.h5",
        {"-m", "i_read_a", "--model", "lut", "--interpolation", "cubic", "-i", "v_store,v_line"});
    fit("retention.exp_decay", "sweeps/retention.h5",
        {"-m", "v_sn_trace_v", "--model", "exp-decay", "-i", "v_sn_trace_v_time_s", "--where", "v_store=0.9"});
    fit("c2p.hardsigmoid", "sweeps/c2p.h5", {"-m", "pw_s", "--model", "hardsigmoid", "-i", "q_in"});
    auto exp = [&](const std::string& model, const std::string& format) {
      stages.push_back({"export_" + model + "_" + format, "export " + model + " as " + format,
                        {"-q", "export", o("fits/" + model + ".json").string(), "--format", format, "-o",
                         o("exports/" + format).string()},
                        {o("fits/" + model + ".json")},
                        {"exports/" + format}});
    };
    exp("multiply.paper_poly", "reference");
    exp("read_current.lut", "xspice");
    exp("read_current.lut", "verilog-a");
    exp("read_current.lut", "csv");
    const std::string cell_model = "cell_model=" + o("fits/read_current.lut.json").string();
    const std::string c2p_model = "c2p_model=" + o("fits/c2p.hardsigmoid.json").string();
    stages.push_back({"eval_reference", "evaluator, reference preset", {"-q", "eval", "-i", sample.string(), "-o",
                      o("eval/reference.h5").string(), "--preset", "reference", "--intermediates"},
                      {sample}, {"eval/reference.h5"}});
    stages.push_back({"eval_fitted", "evaluator, this cell's fitted models",
                      {"-q", "eval", "-i", sample.string(), "-o", o("eval/fitted.h5").string(), "--preset", "fitted",
                       "--set", cell_model, "--set", c2p_model, "--intermediates"},
                      {sample, o("fits/read_current.lut.json"), o("fits/c2p.hardsigmoid.json")},
                      {"eval/fitted.h5"}});
    stages.push_back({"spice_check", "evaluator vs SPICE, 8 x 8 sub-tile",
                      {"-q", "spice-check", "--keys", "8", "--dims", "8", "--seed", "1", "--seed", "2", "--set",
                       cell_model, "--set", c2p_model, "-o", o("eval/spice_check.json").string()},
                      {o("fits/read_current.lut.json"), o("fits/c2p.hardsigmoid.json")},
                      {"eval/spice_check.json"}});
    stages.push_back({"energy", "energy and latency per token per head",
                      {"-q", "energy", "--cell-data", o("sweeps/energy.h5").string(), "--c2p-data",
                       o("sweeps/c2p.h5").string(), "-o", o("eval/energy.json").string()},
                      {o("sweeps/energy.h5"), o("sweeps/c2p.h5")},
                      {"eval/energy.json"}});
    stages.push_back({"report", "report.html", {"-q", "report", out.string(), "-o", o("report.html").string()},
                      {}, {"report.html"}});

    // The manifest of the previous run, for --reuse.
    nlohmann::json previous = nlohmann::json::object();
    std::error_code ec;
    if (fs::exists(out / "flow.json", ec)) {
      try {
        previous = nlohmann::json::parse(read_text_file(out / "flow.json"));
      } catch (const std::exception&) {
        previous = nlohmann::json::object();
      }
    }
    const std::string self = fs::canonical("/proc/self/exe").string();
    const std::string build = build_info().version + " (" + build_info().git_sha + ")";
    nlohmann::json manifest{{"format", "gaincell-flow/1"},
                            {"gaincell_version", build},
                            {"output", out.string()},
                            {"sample", sample.string()},
                            {"specs", nlohmann::json::object()},
                            {"stages", nlohmann::json::array()}};
    for (const auto& [role, spec] : spec_of) manifest["specs"][role] = spec.string();
    std::set<std::string> failed_outputs;
    int failures = 0;
    const auto flow_start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < stages.size(); ++i) {
      const Stage& st = stages[i];
      nlohmann::json rec{{"name", st.name}, {"command", nlohmann::json::array()}};
      rec["command"].push_back("gaincell");
      for (const auto& a : st.args) rec["command"].push_back(a);
      nlohmann::json hashes = nlohmann::json::object();
      std::string blocked;
      for (const auto& in : st.inputs) {
        hashes[in.string()] = hash_or_missing(in);
        for (const auto& fo : failed_outputs) {
          if (in == o(fo)) blocked = fo;
        }
      }
      // The report reads everything: it runs even when stages failed (it shows what is missing).
      rec["inputs_sha256"] = hashes;
      rec["outputs"] = nlohmann::json::array();
      for (const auto& p : st.outputs) rec["outputs"].push_back(p.string());
      std::printf("[%2zu/%zu] %-34s ", i + 1, stages.size(), st.what.c_str());
      std::fflush(stdout);
      if (!blocked.empty()) {
        rec["status"] = "skipped";
        rec["reason"] = "needs " + blocked + ", which a failed stage did not write";
        for (const auto& p : st.outputs) failed_outputs.insert(p.string());
        std::printf("skipped: needs %s\n", blocked.c_str());
        manifest["stages"].push_back(rec);
        continue;
      }
      if (f->reuse && st.name != "report") {
        bool same = true;
        for (const auto& p : st.outputs) same = same && fs::exists(out / p, ec);
        nlohmann::json old;  // this stage's record in the previous manifest, if any
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
          std::printf("reused\n");
          manifest["stages"].push_back(rec);
          continue;
        }
      }
      const fs::path log = out / "logs" / (st.name + ".log");
      for (const auto& p : st.outputs) fs::create_directories((out / p).parent_path());
      std::vector<std::string> argv = {self};
      argv.insert(argv.end(), st.args.begin(), st.args.end());
      const auto t0 = std::chrono::steady_clock::now();
      const int rc = run(argv, log);
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rec["duration_s"] = dt;
      rec["exit_code"] = rc;
      rec["log"] = ("logs/" + st.name + ".log");
      // A sweep with failed points (exit 4) finished: its failures are results.
      const bool ok = rc == 0 || (rc == 4 && st.name.rfind("sweep_", 0) == 0);
      rec["status"] = ok ? "ran" : "failed";
      if (ok) {
        std::printf("ran (%.1f s)%s\n", dt, rc == 4 ? ", some points failed (recorded)" : "");
      } else {
        ++failures;
        for (const auto& p : st.outputs) failed_outputs.insert(p.string());
        std::printf("FAILED (exit %d, %.1f s); log %s\n%s", rc, dt, log.c_str(), last_lines(log, 4).c_str());
      }
      nlohmann::json out_hashes = nlohmann::json::object();
      for (const auto& p : st.outputs) {
        if (fs::is_regular_file(out / p, ec)) out_hashes[p.string()] = sha256_file(out / p);
      }
      rec["outputs_sha256"] = out_hashes;
      manifest["stages"].push_back(rec);
      // The manifest after every stage: a killed flow keeps its record.
      std::ofstream(out / "flow.json") << manifest.dump(1) << "\n";
    }
    manifest["wall_time_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - flow_start).count();
    std::ofstream(out / "flow.json") << manifest.dump(1) << "\n";
    (void)global;
    std::printf("flow: %s in %.1f s; report: %s\n", failures == 0 ? "done" : (std::to_string(failures) + " stage(s) failed").c_str(),
                manifest["wall_time_s"].get<double>(), (out / "report.html").c_str());
    return failures == 0 ? 0 : static_cast<int>(ExitCode::kPointsFailed);
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
    std::vector<std::string> argv = {"/usr/bin/python3", script.string(), f->dir, "-o", output};
    if (global.quiet) argv.push_back("-q");
    int rc = 0;
    try {
      rc = run(argv);
    } catch (const IoError&) {
      throw IoError("cannot run /usr/bin/python3 (Debian python3 with python3-matplotlib is needed for reports)");
    }
    if (rc != 0) throw IoError("report: tools/report.py failed (exit " + std::to_string(rc) + ")");
    return 0;
  };
}

}  // namespace gaincell::cli
