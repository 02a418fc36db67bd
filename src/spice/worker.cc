// SPDX-License-Identifier: MIT
#include "gaincell/spice/worker.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <map>
#include <optional>
#include <set>
#include <cstdlib>
#include <limits>
#include <memory>
#include <sstream>
#include <cstring>
#include <iterator>

#include "gaincell/core/error.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/si_value.h"
#include "gaincell/spice/fault_injection.h"
#include "gaincell/spice/ngspice_library.h"
#include "gaincell/spice/protocol.h"
#include "spice/alter_plan.h"

namespace gaincell::spice {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void fail(SimResult& r, SimOutcome outcome, const std::vector<std::string>& log, const std::string& extra) {
  r.outcome = outcome;
  r.message = failure_excerpt(log);
  if (!extra.empty()) r.message = r.message.empty() ? extra : extra + "\n" + r.message;
}

// Error lines go to stderr as they come, so the parent still has them if
// ngspice then crashes the process.
void echo_errors(const std::vector<std::string>& log) {
  for (const auto& l : log) {
    if (l.rfind("stderr ", 0) == 0) {
      const std::string text = l.substr(7) + "\n";
      [[maybe_unused]] ssize_t n = ::write(2, text.data(), text.size());
    }
  }
}

// The compatibility modes of ngspice 39.3: set_compat_mode() (src/frontend/
// inpcom.c) looks for each of these in the value with strstr(). A value made of
// whole tokens means to ngspice exactly what it says (no token ends with the
// start of another), so checking tokens is checking what ngspice will do.
constexpr const char* kModeTokens[] = {"spe", "hs", "ps", "xs", "lt", "ki", "s3", "eg", "a"};

// `set NAME` lines of PDK spinit files that change nothing gaincell relies on.
constexpr const char* kSetFlags[] = {"ng_nomodcheck", "enable_noisy_r", "skywaterpdk", "noinit"};

// ngspice's simulator options (src/spicelib/analysis/cktsopt.c, manual ch. 15)
// that set tolerances, iteration limits, device defaults or printing; none
// names a file.
constexpr const char* kNumberOptions[] = {
    "abstol", "reltol",   "vntol", "chgtol", "trtol",  "pivtol",   "pivrel", "gmin",  "gshunt", "gminsteps", "gminfactor",
    "srcsteps", "itl1",   "itl2",  "itl4",   "itl6",   "maxord",   "xmu",    "rshunt", "cshunt", "ramptime",  "absdv",
    "reldv",  "temp",     "tnom",  "defm",   "defl",   "defw",     "defad",  "defas", "scale",  "bypass",    "minbreak",
    "wnflag"};
constexpr const char* kFlagOptions[] = {"noinit",     "noacct",      "nopage", "nomod", "norefvalue",   "noopiter", "keepopinfo",
                                        "nodedamping", "noopac",     "klu",    "trytocompact", "badmos3", "oldlimit"};

// Lines refused for what they do, whatever their arguments.
struct Refused {
  const char* word;
  const char* why;
};
constexpr Refused kRefusedCommands[] = {
    {"shell", "'shell' runs a program"},
    {"source", "'source' reads and runs a script"},
    {"osdi", "'osdi' loads compiled code (a shared library) into the worker"},
    {"pre_osdi", "'pre_osdi' loads compiled code (a shared library) into the worker"},
    {"codemodel", "'codemodel' loads compiled code (a shared library) into the worker"},
    {"load", "'load' reads a file"},
    {"write", "'write' writes a file"},
    {"wrdata", "'wrdata' writes a file"},
    {"wrs2p", "'wrs2p' writes a file"},
    {"wrnodev", "'wrnodev' writes a file"},
    {"hardcopy", "'hardcopy' writes a file"},
    {"cd", "'cd' leaves the worker's private directory"},
    {"run", "'run' starts a simulation; gaincell runs every point itself"},
    {"tran", "'tran' starts a simulation; gaincell runs every point itself"},
    {"op", "'op' starts a simulation; gaincell runs every point itself"},
    {"bg_run", "'bg_run' starts a simulation; gaincell runs every point itself"},
    {"quit", "'quit' ends the worker"},
    {"exit", "'exit' ends the worker"},
};
constexpr Refused kRefusedVariables[] = {
    {"sourcepath", "set sourcepath changes where ngspice looks for the files it reads"},
    {"rawfile", "set rawfile names a file ngspice writes"},
    {"ngdebug", "set ngdebug makes ngspice write debug-out*.txt files"},
    {"debug", "set debug turns on ngspice's debug output"},
};

const char* find_refused(const Refused* list, std::size_t n, const std::string& word) {
  for (std::size_t i = 0; i < n; ++i) {
    if (word == list[i].word) return list[i].why;
  }
  return nullptr;
}

template <std::size_t N>
bool is_one_of(const char* const (&list)[N], const std::string& word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

// "" if `value` is a set of ngspice compatibility modes, else why not.
std::string mode_problem(const std::string& value) {
  if (value.empty()) return "ngbehavior needs a value (e.g. set ngbehavior=hsa)";
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < value.size();) {
    const char* found = nullptr;
    for (const char* t : kModeTokens) {
      if (value.compare(i, std::strlen(t), t) == 0) {
        found = t;
        break;
      }
    }
    if (found == nullptr) {
      if (value.compare(i, 2, "mc") == 0) {
        return "ngbehavior 'mc' is ngspice's own test-suite mode (it turns every other mode off)";
      }
      if (value.compare(i, 2, "ll") == 0) return "ngbehavior 'll' is reserved by ngspice and does nothing";
      return "ngbehavior=" + value + ": '" + value.substr(i) + "' is not an ngspice compatibility mode";
    }
    if (std::find(tokens.begin(), tokens.end(), found) != tokens.end()) {
      return "ngbehavior=" + value + " names '" + found + "' twice";
    }
    tokens.emplace_back(found);
    i += std::strlen(found);
  }
  auto has = [&](const char* t) { return std::find(tokens.begin(), tokens.end(), t) != tokens.end(); };
  if (has("hs") && has("ps")) {
    return "ngbehavior=" + value + ": hs and ps exclude each other (ngspice would drop hs and keep ps)";
  }
  if (has("spe") && (has("ps") || has("lt") || has("ki") || has("eg"))) {
    return "ngbehavior=" + value + ": spe excludes ps, lt, ki and eg (ngspice would drop them)";
  }
  if (tokens.size() == 1 && tokens.front() == "a") {
    return "ngbehavior=a: 'a' (the whole netlist) goes with a mode, e.g. hsa or psa";
  }
  return "";
}

bool is_number(const std::string& text) { return gaincell::try_parse_si(text).has_value(); }

}  // namespace

std::string allowed_init_forms() {
  std::string numbers;
  for (const char* o : kNumberOptions) numbers += std::string(numbers.empty() ? "" : " ") + o;
  std::string flags;
  for (const char* o : kFlagOptions) flags += std::string(flags.empty() ? "" : " ") + o;
  return "one per line: 'set ngbehavior=MODE' (MODE: hs ps lt ki spe eg s3 xs, alone or combined, with 'a' for "
         "the whole netlist: hsa, psa, ltpsa, ...), 'set ng_nomodcheck', 'set enable_noisy_r', 'set skywaterpdk', "
         "'set noinit', 'set wnflag=0|1', 'option NAME=NUMBER ...' (NAME: " + numbers +
         "), 'option method=gear|trap', 'option FLAG' (FLAG: " + flags +
         "), 'optran' with 6 numbers (docs/pdk.md)";
}

namespace {

// Why an init line is refused: its error id and the reason.
struct Refusal {
  const char* id;
  std::string why;
};
using Verdict = std::optional<Refusal>;  // nullopt: allowed

// What a deck or the command shell would run before words are looked at:
// comments that are commands, .control blocks, refused commands, characters
// the shell gives a meaning.
Verdict check_shell_syntax(const std::string& low) {
  if (low.empty()) return Refusal{"GC-1215", "an empty line"};
  if (low.rfind("*#", 0) == 0) return Refusal{"GC-1216", "ngspice runs a line starting '*#' as a command"};
  if (low.rfind("*ng_script", 0) == 0) return Refusal{"GC-1216", "'*ng_script' makes a file a command script"};
  if (low.rfind(".control", 0) == 0 || low.rfind(".endc", 0) == 0) {
    return Refusal{"GC-1216", "a .control block holds ngspice commands"};
  }
  if (low[0] == '*') return Refusal{"GC-1215", "a comment line (put notes in the spec's or card's description)"};
  // A command refused for what it does, whatever follows it.
  const std::string first = low.substr(0, low.find_first_of(" \t\n\r;"));
  if (const char* why = find_refused(kRefusedCommands, std::size(kRefusedCommands), first)) return Refusal{"GC-1216", why};
  for (const char ch : low) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '_' || ch == '.' || ch == '=' || ch == '+' || ch == '-' || ch == ' ' || ch == '\t') continue;
    std::string shown = ch == '\n' || ch == '\r' ? std::string("a line break") : "'" + std::string(1, ch) + "'";
    return Refusal{"GC-1216", shown + ": init lines are plain words and numbers; ngspice's command shell gives other "
                                      "characters a meaning (';' separates commands, '`' runs one, '<' and '>' redirect "
                                      "to files, '$' substitutes variables)"};
  }
  return std::nullopt;
}

// The words of a line, with "a = b" written "a=b".
std::vector<std::string> init_words(const std::string& low) {
  std::vector<std::string> words;
  std::istringstream in(low);
  std::string w;
  while (in >> w) {
    if (!words.empty() && (w.front() == '=' || words.back().back() == '=')) {
      words.back() += w;
    } else {
      words.push_back(w);
    }
  }
  return words;
}

// "name=value" -> (name, value); "name" -> (name, "").
std::pair<std::string, std::string> name_value(const std::string& item) {
  const auto eq = item.find('=');
  return eq == std::string::npos ? std::pair<std::string, std::string>{item, ""}
                                 : std::pair<std::string, std::string>{item.substr(0, eq), item.substr(eq + 1)};
}

Verdict check_set(const std::vector<std::string>& words) {
  if (words.size() != 2) return Refusal{"GC-1215", "one variable per 'set' line"};
  const auto [name, value] = name_value(words[1]);
  const bool has_value = words[1].find('=') != std::string::npos;
  if (name == "num_threads") {
    return Refusal{"GC-1217", "num_threads is gaincell's: every worker runs one OpenMP thread (set num_threads=1), "
                              "since parallel workers with ngspice's default of 2 threads ran BSIM4 5-10x slower"};
  }
  if (name == "rndseed") {
    return Refusal{"GC-1217", "the seed is gaincell's: each point seeds ngspice's random generator with its index + 1, "
                              "so agauss() and the like draw the same values in any worker, shard or resumed run"};
  }
  if (name == "noaskquit" || name == "nomoremode") return Refusal{"GC-1217", name + " is set by gaincell already"};
  if (const char* why = find_refused(kRefusedVariables, std::size(kRefusedVariables), name)) return Refusal{"GC-1216", why};
  if (name == "ngbehavior") {
    if (std::string why = mode_problem(value); !why.empty()) return Refusal{"GC-1218", std::move(why)};
    return std::nullopt;
  }
  if (name == "wnflag") {
    if (value != "0" && value != "1") return Refusal{"GC-1218", "wnflag takes 0 or 1"};
    return std::nullopt;
  }
  if (is_one_of(kSetFlags, name)) {
    if (has_value) return Refusal{"GC-1218", name + " is a flag: write 'set " + name + "' without a value"};
    return std::nullopt;
  }
  return Refusal{"GC-1215", "variable '" + name + "' is not on gaincell's list of init settings"};
}

Verdict check_option(const std::vector<std::string>& words) {
  if (words.size() < 2) return Refusal{"GC-1215", "'option' needs at least one NAME or NAME=VALUE"};
  for (std::size_t k = 1; k < words.size(); ++k) {
    const auto [name, value] = name_value(words[k]);
    const bool has_value = words[k].find('=') != std::string::npos;
    if (name == "seed") {
      return Refusal{"GC-1217", "the seed is gaincell's: each point seeds ngspice's random generator with its index + 1"};
    }
    if (name == "method") {
      if (value != "gear" && value != "trap") return Refusal{"GC-1218", "option method takes gear or trap"};
    } else if (is_one_of(kNumberOptions, name)) {
      if (!has_value || !is_number(value)) {
        return Refusal{"GC-1218", "option " + name + " takes a number (" + name + "=VALUE, SPICE suffixes allowed)"};
      }
    } else if (is_one_of(kFlagOptions, name)) {
      if (has_value) return Refusal{"GC-1218", "option " + name + " is a flag: write it without a value"};
    } else {
      return Refusal{"GC-1215", "option '" + name + "' is not on gaincell's list of init options"};
    }
  }
  return std::nullopt;
}

// The line's command and its arguments against the allow-list.
Verdict check_command(const std::vector<std::string>& words) {
  const std::string& command = words.front();
  if (command.front() == '.') {
    return Refusal{"GC-1215", "'" + command + "' is a netlist card; init lines are ngspice commands (write 'option', "
                                              "not '.options')"};
  }
  if (command == "set") return check_set(words);
  if (command == "option") return check_option(words);
  if (command == "optran") {
    if (words.size() != 7 || !std::all_of(words.begin() + 1, words.end(), is_number)) {
      return Refusal{"GC-1218", "optran takes 6 numbers (e.g. optran 0 0 0 100p 2n 0)"};
    }
    return std::nullopt;
  }
  return Refusal{"GC-1215", "'" + command + "' is not on gaincell's list of init commands"};
}

}  // namespace

InitLineCheck check_init_line(const std::string& raw) {
  InitLineCheck c;
  const std::string low = lower(trim(raw));
  Verdict refusal = check_shell_syntax(low);
  if (!refusal) {
    const std::vector<std::string> words = init_words(low);
    c.line = join(words, " ");
    refusal = check_command(words);
  }
  if (refusal) {
    c.id = refusal->id;
    c.message = "\"" + raw + "\": " + refusal->why;
    c.hint = allowed_init_forms();
  }
  return c;
}

std::string worker_spiceinit(const std::vector<std::string>& extra) {
  // This file shadows ~/.spiceinit (ngspice reads one or the other), so a
  // user's settings cannot change our results. One OpenMP thread per worker:
  // with several workers the default 2 threads made BSIM4 5-10x slower.
  std::string text =
      "* gaincell worker init (generated; shadows ~/.spiceinit)\n"
      "set num_threads=1\n"
      "set noaskquit\n"
      "set nomoremode\n";
  if (!extra.empty()) {
    text += "* ngspice_init of the spec or cell card (checked: docs/pdk.md)\n";
    for (const auto& l : extra) text += l + "\n";
  }
  return text;
}

namespace {

// False (and `r` failed, with `log`) if libngspice hit a ControlledExit
// (`controlled_exit`: why) or ngspice printed an error among `printed`.
bool ngspice_ok(bool controlled_exit, const char* why, const std::vector<std::string>& printed,
                const std::vector<std::string>& log, SimResult& r) {
  if (controlled_exit) {
    fail(r, SimOutcome::kControlledExit, log, why);
    return false;
  }
  if (SimOutcome o = classify_log(printed); o != SimOutcome::kOk) {
    fail(r, o, log, "");
    return false;
  }
  return true;
}

// A job's result before it ran: not run, every value NaN.
SimResult empty_result(const SimJob& job) {
  SimResult r;
  r.id = job.id;
  r.worker_pid = static_cast<int>(::getpid());
  r.values.assign(measure::total_width(job.measures), std::numeric_limits<double>::quiet_NaN());
  return r;
}

// Loads the job's netlist on a clean slate. False (and `r` failed) if ngspice
// could not: a ControlledExit or the errors it printed.
bool load_netlist(NgspiceLibrary& ng, const SimJob& job, const std::vector<std::string>& lines, SimResult& r,
                  std::vector<std::string>& log) {
  // Clean slate: stale plots survive failed runs and would be read as ours.
  ng.command("destroy all");
  ng.command("remcirc");
  // ngspice draws agauss() and the like while it parses, from one generator per
  // process that every earlier circuit advanced: seed it per point, so a
  // statistical model section gives the same values in any worker, shard or
  // resumed run (setseed takes 1 .. INT_MAX).
  ng.command("setseed " + std::to_string(1 + job.id % 2147483646ULL));
  ng.take_log();

  const auto t0 = Clock::now();
  const int circ_status = ng.load_circuit(lines);
  r.parse_time_s = seconds_since(t0);
  log = ng.take_log();
  echo_errors(log);
  if (job.keep_log) r.log = log;
  return ngspice_ok(ng.is_poisoned() || circ_status != 0,
                    "libngspice could not load the netlist and must be restarted (ControlledExit)", log, log, r);
}

// ---- Circuit reuse (docs/architecture.md, "Circuit reuse") ----
//
// Points of a sweep that differ only in the values of top-level `.param NAME=NUMBER`
// lines (and in comments) are not parsed again. If the changed names feed only
// independent sources, the worker `alter`s those sources with the values a
// fresh parse would give (spice/alter_plan.h). Otherwise it sends ngspice
// `alterparam NAME=NUMBER` for each changed line and `reset`, which rebuilds
// the circuit from ngspice's own stored copy of the last deck (includes and
// libraries already read, the same numparam and subcircuit expansion). Either
// way the results are bit-identical to a fresh parse of the point's text
// (tested over every shipped spec). Anything else that differs (a .lib
// section, an option, a .meas line, an element) means a full parse.

// GAINCELL_CIRCUIT_REUSE: unset or "1": alter where it is exact, else
// alterparam + reset; "reset": alterparam + reset only; "0": parse every point.
enum class ReuseMode { kNone, kReset, kAlter };
ReuseMode reuse_mode() {
  const char* v = std::getenv("GAINCELL_CIRCUIT_REUSE");
  if (v == nullptr) return ReuseMode::kAlter;
  const std::string s(v);
  return s == "0" ? ReuseMode::kNone : s == "reset" ? ReuseMode::kReset : ReuseMode::kAlter;
}

// A plain decimal number, as gaincell's formatter writes them ("0.45", "1.5e-08", "-2"):
// nothing ngspice's command shell could read as anything else.
bool is_plain_number(const std::string& s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    digits += s[i] != '.' ? 1 : 0;
    ++i;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  return i == s.size() && std::count(s.begin(), s.end(), '.') <= 1;
}

// `.param NAME=VALUE [$ comment]` with one assignment: (name, value, the rest).
struct ParamLine {
  std::string name, value, rest;
};
std::optional<ParamLine> param_line(const std::string& raw) {
  const std::string low = lower(trim(raw));
  if (low.rfind(".param ", 0) != 0) return std::nullopt;
  const std::string body(trim(low.substr(7)));
  const auto eq = body.find('=');
  if (eq == std::string::npos) return std::nullopt;
  ParamLine p;
  p.name = std::string(trim(body.substr(0, eq)));
  std::string after(trim(body.substr(eq + 1)));
  const auto end = after.find_first_of(" \t");
  p.value = after.substr(0, end);
  p.rest = end == std::string::npos ? std::string() : std::string(trim(after.substr(end)));
  if (!p.rest.empty() && p.rest[0] != '$') return std::nullopt;  // a second assignment, or anything else
  return p;
}

// A line ngspice ignores: a comment that is not a command ("*#") or a script marker.
bool is_plain_comment(const std::string& raw) {
  const std::string low = lower(trim(raw));
  return !low.empty() && low[0] == '*' && low.rfind("*#", 0) != 0 && low.rfind("*ng_script", 0) != 0;
}

}  // namespace

// What the worker keeps of the circuit ngspice holds.
struct CircuitCache {
  bool valid = false;
  bool use_alter = true;           // false: alterparam + reset only (GAINCELL_CIRCUIT_REUSE=reset)
  std::vector<std::string> lines;  // the netlist ngspice's stored deck holds (alters change only the circuit)
  // `.param` names ngspice's deck defines exactly once, at top level, with one
  // assignment on the line: the ones `alterparam` changes alone.
  std::set<std::string> alterable;
  std::optional<alter::Plan> plan;  // how to reach other .param values by `alter` (spice/alter_plan.h)
};

namespace {

// The top-level `.param` lines of a deck (outside .subckt ... .ends), each
// name with the value of every line that defines it. `text_of` gives a
// line's text, or nullopt for a line to skip.
template <typename Lines, typename TextOf>
std::map<std::string, std::vector<std::string>> top_level_params(const Lines& lines, TextOf text_of,
                                                                 std::set<std::string>& nested) {
  std::map<std::string, std::vector<std::string>> top;
  int depth = 0;
  for (const auto& l : lines) {
    const std::optional<std::string> text = text_of(l);
    if (!text) continue;
    if (text->rfind(".subckt", 0) == 0) ++depth;
    if (text->rfind(".ends", 0) == 0) depth = std::max(depth - 1, 0);
    if (text->rfind(".para", 0) != 0) continue;
    const auto sp = text->find_first_of(" \t");
    const auto eq = text->find('=');
    if (sp == std::string::npos || eq == std::string::npos || eq < sp) continue;
    const std::string name(trim(std::string_view(*text).substr(sp, eq - sp)));
    const auto p = param_line(*text);
    if (depth > 0 || !p) {
      nested.insert(name);  // in a subcircuit, or several assignments on one line
    } else {
      top[name].push_back(p->value);
    }
  }
  return top;
}

// The names `alterparam` may change in the circuit just built from `lines`.
// alterparam rewrites every `.param NAME=` line of ngspice's stored deck (files
// read, preprocessed: `listing` shows it), so a name qualifies only if that
// deck has exactly one such line, at top level, with one assignment, and it is
// the netlist's own line: its only top-level definition, with the same value
// (ngspice keeps one of several definitions, maybe an included file's).
std::set<std::string> alterable_params(const std::vector<std::string>& listing, const std::vector<std::string>& lines) {
  std::set<std::string> nested;
  const auto deck = top_level_params(
      listing, [](const std::string& l) -> std::optional<std::string> { return lower(trim(l)); }, nested);
  std::set<std::string> ours_nested;  // the deck shows what became of these (a subcircuit's params: default)
  const auto ours = top_level_params(
      lines, [](const std::string& l) -> std::optional<std::string> { return lower(trim(l)); }, ours_nested);
  std::set<std::string> out;
  for (const auto& [name, values] : deck) {
    const auto it = ours.find(name);
    if (values.size() == 1 && nested.count(name) == 0 && it != ours.end() && it->second == values) out.insert(name);
  }
  return out;
}

// A `listing` of the deck ngspice holds, one text line per deck line (the
// "stdout N : " ngspice prints before each is dropped).
std::vector<std::string> deck_listing(NgspiceLibrary& ng, const char* command) {
  ng.take_log();
  ng.command(command);
  std::vector<std::string> out;
  for (const auto& l : ng.take_log()) {
    const auto colon = l.find(" : ");
    if (l.rfind("stdout ", 0) == 0 && colon != std::string::npos) out.push_back(l.substr(colon + 3));
  }
  return out;
}

// The `.param` values (name -> number text) that turn the deck ngspice holds
// into `lines`, or nullopt if `lines` differs in anything else.
std::optional<std::map<std::string, std::string>> param_changes(const CircuitCache& cache,
                                                                const std::vector<std::string>& lines) {
  if (!cache.valid || cache.lines.size() != lines.size() || lines.empty() || cache.lines[0] != lines[0]) {
    return std::nullopt;
  }
  std::map<std::string, std::string> changes;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& was = cache.lines[i];
    const std::string& now = lines[i];
    if (was == now) continue;
    if (is_plain_comment(was) && is_plain_comment(now)) continue;
    const auto a = param_line(was);
    const auto b = param_line(now);
    if (!a || !b || a->name != b->name || a->rest != b->rest || !is_identifier(b->name) || !is_plain_number(b->value) ||
        cache.alterable.count(b->name) == 0) {
      return std::nullopt;
    }
    changes[b->name] = b->value;
  }
  return changes;
}

// Brings the cached circuit to the changed values: by `alter` of the sources
// when `alter` is true, else by `alterparam` and `reset`. False if ngspice
// printed anything that is not silence: the caller then parses in full.
// `start`: when the worker began working out the commands (their time is the point's parse time).
bool reuse_circuit(NgspiceLibrary& ng, const SimJob& job, const std::vector<std::string>& commands, bool alter,
                   Clock::time_point start, SimResult& r, std::vector<std::string>& log) {
  ng.command("destroy all");
  ng.command("setseed " + std::to_string(1 + job.id % 2147483646ULL));  // as before a full parse
  ng.take_log();
  for (const auto& c : commands) ng.command(c);
  if (!alter) ng.command("reset");
  r.parse_time_s = seconds_since(start);
  log = ng.take_log();
  if (ng.is_poisoned()) {
    echo_errors(log);
    fail(r, SimOutcome::kControlledExit, log, "libngspice could not rebuild the circuit and must be restarted (ControlledExit)");
    return false;
  }
  if (classify_log(log) != SimOutcome::kOk ||
      std::any_of(log.begin(), log.end(), [](const std::string& l) { return l.rfind("stderr ", 0) == 0; })) {
    return false;
  }
  if (job.keep_log) r.log = log;
  return true;
}

// Runs the transient. False (and `r` failed) on a ControlledExit, an error
// ngspice printed, or no transient plot.
bool run_transient(NgspiceLibrary& ng, const SimJob& job, SimResult& r, std::vector<std::string>& log) {
  const auto t1 = Clock::now();
  ng.command("run");
  r.run_time_s = seconds_since(t1);
  std::vector<std::string> run_log = ng.take_log();
  echo_errors(run_log);
  log.insert(log.end(), run_log.begin(), run_log.end());
  if (job.keep_log) r.log = log;
  if (!ngspice_ok(ng.is_poisoned(), "libngspice requested ControlledExit during the run", run_log, log, r)) return false;
  const std::string plot = ng.current_plot();
  if (plot.rfind("tran", 0) != 0) {
    fail(r, SimOutcome::kNoConvergence, log, "no transient plot was produced (current plot: '" + plot + "')");
    return false;
  }
  return true;
}

// The plot's time vector, if the transient reached t_stop (else `r` failed).
std::optional<std::vector<double>> time_vector(NgspiceLibrary& ng, const SimJob& job, SimResult& r,
                                               const std::vector<std::string>& log) {
  auto time = ng.vector("time");
  if (!time || time->empty()) {
    fail(r, SimOutcome::kNoConvergence, log, "the transient produced no time points");
    return std::nullopt;
  }
  if (time->back() < job.t_stop_s * (1.0 - 1e-9)) {
    std::ostringstream why;
    why << "the transient stopped at " << time->back() << " s of " << job.t_stop_s << " s";
    fail(r, SimOutcome::kNoConvergence, log, why.str());
    return std::nullopt;
  }
  return time;
}

// A measure's vector as the sum of the ngspice vectors it stands for
// (v(a,b) is v(a) - v(b), i(x1.vs) is i(v.x1.vs): measure::vector_terms);
// nullopt if ngspice lacks one of them.
std::optional<std::vector<double>> vector_sum(NgspiceLibrary& ng, const std::string& name, std::size_t length) {
  std::vector<double> sum(length, 0.0);
  try {
    for (const auto& term : measure::vector_terms(name)) {
      auto data = ng.vector(term.name);
      if (!data || data->size() != length) return std::nullopt;
      for (std::size_t k = 0; k < length; ++k) sum[k] += term.sign * (*data)[k];
    }
  } catch (const measure::MeasureError&) {
    return std::nullopt;
  }
  return sum;
}

// Every vector the measures read and the job returns, copied out of ngspice.
// Names ngspice lacks go to r.missing_vectors; nullopt (and `r` failed) if a
// vector holds NaN or Inf.
std::optional<measure::Waveforms> collect_waveforms(NgspiceLibrary& ng, const SimJob& job, std::vector<double> time,
                                                    SimResult& r, const std::vector<std::string>& log) {
  measure::Waveforms waves;
  waves.time = std::move(time);
  std::vector<std::string> wanted = measure::required_vectors(job.measures);
  wanted.insert(wanted.end(), job.return_vectors.begin(), job.return_vectors.end());
  for (const auto& name : wanted) {
    if (name == "time" || waves.vectors.count(name) != 0) continue;
    auto sum = vector_sum(ng, name, waves.time.size());
    if (!sum) {
      r.missing_vectors.push_back(name);
      continue;
    }
    if (!std::all_of(sum->begin(), sum->end(), [](double v) { return std::isfinite(v); })) {
      fail(r, SimOutcome::kNoConvergence, log, "vector '" + name + "' holds NaN or Inf");
      return std::nullopt;
    }
    waves.vectors.emplace(name, std::move(*sum));
  }
  if (!r.missing_vectors.empty()) r.plot_vectors = ng.vector_names();
  return waves;
}

// Each measure on its own: one that cannot be evaluated leaves NaN and a
// message; the others keep their values. Then the vectors the job asked for.
void evaluate_measures(const SimJob& job, const measure::Waveforms& waves, SimResult& r) {
  std::vector<std::string> problems;
  if (!r.missing_vectors.empty()) {
    problems.push_back("not in the plot: " + join(r.missing_vectors, ", ") + "; it has: " + join(r.plot_vectors, ", "));
  }
  std::vector<double> values;
  values.reserve(r.values.size());
  for (const auto& m : job.measures) {
    const std::size_t before = values.size();
    try {
      measure::evaluate_into(m, waves, values);
    } catch (const measure::MeasureError& e) {
      values.resize(before);
      values.insert(values.end(), m.width(), std::numeric_limits<double>::quiet_NaN());
      problems.push_back("measure '" + m.name + "': " + e.what());
    }
  }
  r.values = std::move(values);
  for (const auto& name : job.return_vectors) {
    if (waves.vectors.count(name) != 0) r.vectors[name] = waves.at(name);
  }
  if (!job.return_vectors.empty()) r.vectors["time"] = waves.time;
  r.outcome = problems.empty() ? SimOutcome::kOk : SimOutcome::kMeasureError;
  for (const auto& p : problems) r.message += (r.message.empty() ? "" : "\n") + p;
}

}  // namespace

SimResult simulate(NgspiceLibrary& ng, const SimJob& job) { return simulate(ng, job, nullptr); }

SimResult simulate(NgspiceLibrary& ng, const SimJob& job, CircuitCache* cache) {
  SimResult r = empty_result(job);
  std::vector<std::string> log;
  const std::vector<std::string> lines = text_lines(job.netlist);
  bool loaded = false;
  if (cache != nullptr) {
    const auto start = Clock::now();
    if (auto changes = param_changes(*cache, lines)) {
      cache->valid = false;  // until this point has run
      std::optional<std::vector<std::string>> alters;
      if (cache->plan) alters = alter::commands(*cache->plan, *changes);
      if (alters) {
        loaded = reuse_circuit(ng, job, *alters, true, start, r, log);
        r.altered = loaded;
      } else {
        std::vector<std::string> commands;
        for (const auto& [name, value] : *changes) commands.push_back("alterparam " + name + "=" + value);
        loaded = reuse_circuit(ng, job, commands, false, start, r, log);
        if (loaded) {
          cache->lines = lines;
          if (cache->plan && !alter::rebase(*cache->plan, *changes)) cache->plan.reset();
        }
      }
      if (ng.is_poisoned()) return r;
      r.reused = loaded;
    }
  }
  if (!loaded) {
    if (cache != nullptr) cache->valid = false;
    if (!load_netlist(ng, job, lines, r, log)) return r;
    if (cache != nullptr) {
      const std::vector<std::string> listing = deck_listing(ng, "listing");
      cache->alterable = alterable_params(listing, lines);
      cache->lines = lines;
      cache->plan.reset();
      if (cache->use_alter) {
        cache->plan = alter::build_plan(lines, listing, deck_listing(ng, "listing expand"), cache->alterable, nullptr);
      }
    }
  }
  if (!run_transient(ng, job, r, log)) return r;
  auto time = time_vector(ng, job, r, log);
  if (!time) return r;
  const auto waves = collect_waveforms(ng, job, std::move(*time), r, log);
  if (waves) evaluate_measures(job, *waves, r);
  // Only a circuit that ran to the end is a base for the next point.
  if (cache != nullptr) cache->valid = r.outcome == SimOutcome::kOk || r.outcome == SimOutcome::kMeasureError;
  return r;
}

namespace {

// GAINCELL_TEST_FAULTS (spice/fault_injection.h): fail this point on purpose.
void inject_fault(InjectedFault fault, SimJob& job) {
  switch (fault) {
    case InjectedFault::kNone:
      return;
    case InjectedFault::kSegfault:
      std::signal(SIGSEGV, SIG_DFL);  // past any handler libngspice installed
      std::raise(SIGSEGV);
      return;
    case InjectedFault::kHang:
      for (;;) ::pause();  // until the pool's timeout kills us
    case InjectedFault::kExit:
      ::_exit(7);
    case InjectedFault::kNgspiceError: {
      // A line ngspice cannot parse, after the title.
      const auto eol = job.netlist.find('\n');
      job.netlist.insert(eol == std::string::npos ? job.netlist.size() : eol + 1, "Xinjected_fault n1 n2 gaincell_injected_no_such_subckt\n");
      return;
    }
  }
}

}  // namespace

int run_worker(int socket_fd, const std::string& library_path) {
  std::unique_ptr<NgspiceLibrary> ng;
  try {
    ng = std::make_unique<NgspiceLibrary>(library_path);
  } catch (const Error& e) {
    protocol::write_frame(socket_fd, {{"type", "fatal"}, {"message", e.what()}});
    return 1;
  }
  protocol::write_frame(socket_fd, {{"type", "hello"},
                                    {"pid", static_cast<int>(::getpid())},
                                    {"ngspice_version", ng->version()}});
  std::size_t commands_since_clear = 0;
  CircuitCache cache;
  const ReuseMode mode = reuse_mode();
  cache.use_alter = mode == ReuseMode::kAlter;
  CircuitCache* reuse = mode != ReuseMode::kNone ? &cache : nullptr;
  const std::optional<FaultPlan> faults = fault_plan_from_env();  // tests only
  while (true) {
    auto message = protocol::read_frame(socket_fd);
    if (!message || message->at("type") == "quit") return 0;
    SimJob job = protocol::job_from_json(*message);
    if (faults) inject_fault(fault_for(*faults, job.id), job);
    SimResult result = simulate(*ng, job, reuse);
    if (!protocol::write_frame(socket_fd, protocol::result_to_json(result))) return 1;
    if (ng->is_poisoned()) return 3;  // the pool replaces us
    commands_since_clear += 8;  // destroy, remcirc or reset, setseed, listing, run, a few alterparam
    if (commands_since_clear > 5000) {
      ng->clear_history();
      commands_since_clear = 0;
    }
  }
}

}  // namespace gaincell::spice
