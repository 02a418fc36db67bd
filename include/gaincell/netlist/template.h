// SPDX-License-Identifier: MIT
// File: gaincell/netlist/template.h
//
// A netlist template is a plain SPICE file that runs as is under `ngspice -b`.
// Its overridable parameters are the top-level lines
//     .param NAME=VALUE $ [UNIT] description
// with VALUE a number (SPICE scale suffixes allowed). `.param NAME={expr}`
// lines are derived and cannot be set. Rendering replaces parameter values,
// makes `.include`/`.lib` paths absolute, drops the template's own analysis
// and output lines (.tran .op .dc .ac .save .print .plot .meas .end) and
// appends the sweep's options, analysis and `.save` list. Values are only
// ever written by gaincell's number formatter, so no text from a spec can
// reach ngspice as anything but a number. See docs/templates.md.
//
//   auto tpl = gaincell::netlist::NetlistTemplate::load("netlists/pushpull_cell.cir");
//   gaincell::netlist::RenderRequest req;
//   req.values = {{"v_store", 0.9}, {"t_pulse", 15e-9}};
//   req.analysis = ".tran 1e-10 3e-08";
//   std::string text = tpl.render(req);
#pragma once

#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gaincell {
struct SourceLocation;  // core/error.h
}  // namespace gaincell

namespace gaincell::netlist {

struct IncludeLine;  // netlist/deck_check.h

// A declared range: `$ [s] >= 0`, `$ [V] >= 0 <= 0.9` after the unit.
struct ParamRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_inclusive = true, max_inclusive = true;
  std::string text;         // as written, for messages ("" = no range)
  bool contains(double v) const {
    return (min_inclusive ? v >= min : v > min) && (max_inclusive ? v <= max : v < max);
  }
};

struct TemplateParam {
  std::string name;         // lower-case, as ngspice sees it
  double default_value = 0; // SI base units
  std::string unit;         // from the "$ [UNIT]" comment; "" if none
  std::string description;  // rest of the comment
  ParamRange range;         // from the comment; unbounded if none
  int line = 0;             // 1-based line in the template
  int column = 0;           // 1-based column of its name on that line
};

struct DerivedParam {
  std::string name;
  std::string expression;
  int line = 0;
  int column = 0;           // 1-based column of its name on that line
};

struct RenderRequest {
  std::map<std::string, double> values;                         // parameter overrides, SI units
  std::vector<std::string> comments;                            // written as "* ..." after the title
  std::vector<std::pair<std::string, std::string>> options;     // .options name=value (validated by caller)
  std::string analysis;                                         // e.g. ".tran 1e-10 3e-08"
  std::vector<std::string> saves;                               // e.g. "v(sn)", "i(vsense)"
  // Section to use for a `.lib FILE SECTION` line, keyed by FILE's absolute
  // path (process corners). Unlisted .lib lines keep the template's section.
  std::map<std::filesystem::path, std::string> lib_sections;
};

struct LibReference {
  std::filesystem::path file;  // absolute
  std::string section;         // the template's default section
  int line = 0;
};

class NetlistTemplate {
 public:
  // Reads and parses a template, and checks every file it reads
  // (check_files) and that every {name} is defined (check_names). The
  // template's own directory is an include root; `extra_roots` adds more
  // (a spec's include_roots). Throws IoError if unreadable, InputError
  // (GC-11xx, with file:line) if malformed.
  static NetlistTemplate load(const std::filesystem::path& path,
                              const std::vector<std::filesystem::path>& extra_roots = {});
  // netlist::check_deck on the template: throws InputError GC-1108 (a file it
  // reads, or one those read, does not exist), GC-1111 (outside `roots`),
  // GC-1103 (a script entry point in any of them), naming the reading line.
  void check_files(const std::vector<std::filesystem::path>& roots) const;
  // Throws InputError GC-1107 naming the line of a {name} (or 'name'
  // expression) that neither the template, a file it reads, nor a
  // subcircuit's params defines.
  void check_names() const;
  // Parses template text; `origin` names it in diagnostics and anchors relative includes.
  static NetlistTemplate parse(std::string text, const std::filesystem::path& origin);

  const std::filesystem::path& path() const { return path_; }
  const std::string& text() const { return text_; }
  const std::string& title() const { return title_; }
  const std::vector<TemplateParam>& params() const { return params_; }
  const std::vector<DerivedParam>& derived() const { return derived_; }
  // Absolute paths of the files named by .include/.lib lines.
  const std::vector<std::filesystem::path>& includes() const { return includes_; }
  // The `.lib FILE SECTION` lines, whose section a sweep may choose.
  const std::vector<LibReference>& lib_references() const { return libs_; }
  const TemplateParam* find_param(std::string_view name) const;
  // Defaults merged with `overrides` (validated as in render()). Errors
  // name the template line and column of the parameter (GC-1104, GC-1004,
  // GC-1110), or for an unknown one (GC-1102) the first place its name
  // appears (a subcircuit's params:), else the file alone.
  std::map<std::string, double> resolve(const std::map<std::string, double>& overrides) const;

  // Produces the netlist text. Throws InputError GC-1102 for an unknown
  // parameter and GC-1104 for a derived one, GC-1004 for a non-finite value,
  // GC-1110 for a value outside the parameter's declared range.
  std::string render(const RenderRequest& request) const;
  // "" if `value` lies in parameter `name`'s declared range, else why not
  // (naming the template line that declares it).
  std::string range_violation(const std::string& name, double value) const;

 private:
  struct Assignment {
    std::string name;
    std::string value;                                // as written (derived: the expression)
    std::size_t param = static_cast<std::size_t>(-1);  // index into params_ if overridable
  };
  struct Line {
    enum class Kind { kText, kParam, kInclude, kDropped };
    Kind kind = Kind::kText;
    std::string text;      // original text (kText) or rewritten include line
    std::vector<Assignment> assignments;  // kParam: every name=value of the .param line
    std::string comment;   // inline comment kept on a param line
    std::size_t lib = static_cast<std::size_t>(-1);  // index into libs_ for a `.lib FILE SECTION` line
  };

  // The pieces of parse(): one template line of each kind, at `line_no`.
  Line read_line(const std::string& raw, const std::string& word, int line_no, bool top_level);
  Line read_include(const std::string& raw, const IncludeLine& include, int line_no);
  Line read_param_line(const std::string& raw, int line_no);
  // Where `name` first appears in the template's text outside comments (a
  // subcircuit's params:, an expression); the file alone if nowhere.
  SourceLocation first_use(const std::string& name) const;
  // One name=value of a .param line; `param` holds the line's unit, description, range and line.
  Assignment read_assignment(const std::string& name, const std::string& value, TemplateParam param);

  std::filesystem::path path_;
  std::string text_;
  std::string title_;
  std::vector<Line> lines_;
  std::vector<TemplateParam> params_;
  std::vector<DerivedParam> derived_;
  std::vector<std::filesystem::path> includes_;
  std::vector<int> include_lines_;  // the template line of each include
  std::vector<LibReference> libs_;
};

// Every file the template reads, directly or through nested .include/.lib
// lines (resolved relative to the including file), each once, in first-use
// order. (A template whose files are missing is refused when it is loaded:
// GC-1108.)
std::vector<std::filesystem::path> dependency_files(const NetlistTemplate& tpl);
// The same closure from a list of files (the files themselves first).
std::vector<std::filesystem::path> dependency_closure(const std::vector<std::filesystem::path>& roots);

// Section names defined in a library file (its `.lib NAME` lines that are not
// `.lib FILE SECTION` references). Throws IoError if unreadable.
std::vector<std::string> library_sections(const std::filesystem::path& file);

}  // namespace gaincell::netlist
