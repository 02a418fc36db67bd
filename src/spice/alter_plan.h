// SPDX-License-Identifier: MIT
// Circuit reuse by `alter` (docs/architecture.md, "Circuit reuse"): library-internal.
//
// When the points of a sweep differ only in top-level `.param` values that feed
// nothing but independent sources, the worker changes those sources in the
// circuit ngspice already holds (`alter @v1[pulse] = [ ... ]`) instead of
// rebuilding it. The values must be the ones a fresh parse of the point gives,
// bit for bit, so this file evaluates the `.param` expressions as ngspice 39's
// numparam does (its operators, precedence, number and suffix rules, min/max
// argument order), writes each value the way numparam substitutes it
// ("% 23.15e") and lets ngspice read it back with the parser a fresh parse
// uses (`alter` reads a bracketed vector with INPevaluate, as inp2v does).
// Anything outside that subset makes the plan refuse, and the worker falls
// back to `alterparam` + `reset`.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gaincell::spice::alter {

// The value of a numparam expression (without braces) under `env` (lowercase
// names), or nullopt if it uses anything outside the supported subset: numbers
// with SPICE suffixes, names, + - * /, comparisons, && ||, c ? a : b (not
// bare in another's then-branch), parentheses, min(), max(), abs().
std::optional<double> evaluate(std::string_view expr, const std::map<std::string, double>& env);

// A value as numparam writes it into the netlist line ("% 23.15e", trimmed).
std::string numparam_text(double value);

// A top-level independent source whose values the plan can set.
struct Source {
  std::string name;                 // lowercase instance name ("vwlr")
  std::string param;                // "dc", "pulse" or "pwl"
  std::vector<std::string> tokens;  // each a literal number or a "{expression}"
};

struct Plan {
  std::vector<std::pair<std::string, std::string>> params;  // top-level .param name -> right side, in order
  std::vector<Source> sources;
  std::set<std::string> safe;  // params whose change an alter of `sources` covers entirely
  std::map<std::string, std::vector<std::string>> current;  // source -> the values the circuit holds now
  // The deck's values, and who reads which name (set by build_plan and rebase):
  std::map<std::string, double> base_env;                        // param -> value
  std::map<std::string, std::vector<std::string>> base_values;   // source -> values
  std::map<std::string, std::set<std::string>> users;            // name -> params whose right side reads it
  std::vector<std::set<std::string>> source_refs;                // per source: the names its values read
};

// Built after a full parse of `lines` from ngspice's `listing` and `listing
// expand` (the text of each line, without ngspice's "stdout N : " prefix);
// `alterable` are the names alterparam may change (worker.cc). nullopt with
// `why` set if the deck draws random numbers, has .if branches, or nothing
// can be altered.
std::optional<Plan> build_plan(const std::vector<std::string>& lines, const std::vector<std::string>& listing,
                               const std::vector<std::string>& expanded, const std::set<std::string>& alterable,
                               std::string* why);

// The alter commands that give the circuit the values of a netlist whose
// `.param` lines are those of the plan with `changed` (name -> number text)
// replaced; nullopt if a changed name is not safe or a value cannot be
// computed. `plan.current` is updated as if the commands ran.
std::optional<std::vector<std::string>> commands(Plan& plan, const std::map<std::string, std::string>& changed);

// After `alterparam` + `reset` rebuilt the circuit from the deck with `changed`
// applied: the plan's `.param` values and `current` become those of the new
// deck. False if they cannot be computed (the plan is then unusable).
bool rebase(Plan& plan, const std::map<std::string, std::string>& changed);

}  // namespace gaincell::spice::alter
