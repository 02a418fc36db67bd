// SPDX-License-Identifier: MIT
#include "gaincell/netlist/template.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"
#include "gaincell/netlist/deck_check.h"
#include "gaincell/netlist/si_value.h"

namespace gaincell::netlist {
namespace {

// The first word of a line, lower-cased ("" for blank lines).
std::string first_word(std::string_view line) {
  line = trim(line);
  std::size_t end = 0;
  while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
  return lower(line.substr(0, end));
}

// ngspice ends a line's content at " $ " or ";" (inline comments). We split
// there so a parameter's value and its documentation are read apart.
std::pair<std::string_view, std::string_view> split_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const bool dollar = line[i] == '$' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])));
    if (dollar || line[i] == ';') return {line.substr(0, i), line.substr(i + 1)};
  }
  return {line, {}};
}

// Analysis and output cards that gaincell replaces with its own.
bool is_dropped_card(const std::string& word) {
  static const char* const kDropped[] = {".tran", ".op", ".dc", ".ac", ".noise", ".tf", ".pz",
                                         ".sens", ".disto", ".save", ".print", ".plot", ".four",
                                         ".meas", ".measure", ".probe", ".width"};
  return std::any_of(std::begin(kDropped), std::end(kDropped),
                     [&](const char* d) { return word == d; });
}

// The name=value assignments of a .param body ("a=1 b={a*2} c = 3n"): a value
// runs to the next " name=" outside braces, quotes and parentheses.
std::vector<std::pair<std::string, std::string>> split_assignments(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = trim(body);
  while (!rest.empty()) {
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(std::string(trim(rest)), "");  // a bare name: malformed, reported by the caller
      break;
    }
    std::string name = lower(trim(rest.substr(0, eq)));
    rest = trim(rest.substr(eq + 1));
    std::size_t end = rest.size();
    int depth = 0;
    char quote = 0;
    for (std::size_t i = 0; i < rest.size(); ++i) {
      const char c = rest[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '\'' || c == '"') quote = c;
      if (c == '{' || c == '(') ++depth;
      if (c == '}' || c == ')') --depth;
      if (depth == 0 && std::isspace(static_cast<unsigned char>(c))) {
        const auto next_eq = rest.find('=', i);
        const auto next_word = rest.find_first_not_of(" \t", i);
        if (next_eq != std::string_view::npos && next_word != std::string_view::npos && next_word < next_eq &&
            is_identifier(trim(rest.substr(next_word, next_eq - next_word)))) {
          end = i;
          break;
        }
      }
    }
    out.emplace_back(std::move(name), std::string(trim(rest.substr(0, end))));
    rest = end < rest.size() ? trim(rest.substr(end)) : std::string_view{};
  }
  return out;
}

// A parameter line's comment: "[UNIT] [UNIT]... [>= x] [<= y] description".
struct ParamDoc {
  std::vector<std::string> units;
  ParamRange range;
  std::string description;
};

ParamDoc read_doc(std::string_view comment, const SourceLocation& at) {
  ParamDoc d;
  std::string_view doc = trim(comment);
  while (!doc.empty() && doc[0] == '[') {
    const auto close = doc.find(']');
    if (close == std::string_view::npos) break;
    d.units.emplace_back(trim(doc.substr(1, close - 1)));
    doc = trim(doc.substr(close + 1));
  }
  // Comparisons: >= x, > x, <= y, < y (SI numbers).
  std::string range_text;
  while (!doc.empty() && (doc[0] == '>' || doc[0] == '<')) {
    const bool greater = doc[0] == '>';
    const bool inclusive = doc.size() > 1 && doc[1] == '=';
    std::string_view rest = trim(doc.substr(inclusive ? 2 : 1));
    std::size_t len = 0;
    while (len < rest.size() && !std::isspace(static_cast<unsigned char>(rest[len])) && rest[len] != ',') ++len;
    std::string why;
    const auto v = try_parse_si(rest.substr(0, len), &why);
    if (!v) {
      throw_input_error(at, "GC-1109", "the range in this parameter's comment is not a number after '" +
                                           std::string(greater ? ">" : "<") + (inclusive ? "=" : "") + "': " + why,
                        "write e.g. $ [s] >= 0 <= 15n description");
    }
    if (greater) {
      d.range.min = *v;
      d.range.min_inclusive = inclusive;
    } else {
      d.range.max = *v;
      d.range.max_inclusive = inclusive;
    }
    range_text += (range_text.empty() ? "" : " ") + std::string(greater ? ">" : "<") + (inclusive ? "=" : "") + " " +
                  std::string(rest.substr(0, len));
    doc = trim(rest.substr(len));
    if (!doc.empty() && doc[0] == ',') doc = trim(doc.substr(1));
  }
  d.range.text = range_text;
  d.description = std::string(doc);
  return d;
}

// Identifiers used inside {...} and '...' expressions of a line (not in its
// comment), with the expression they appear in. A name followed by '(' is a
// function call (ngspice's own or a .func) and is not returned.
std::vector<std::pair<std::string, std::string>> expression_names(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto [code, comment] = split_comment(line);
  (void)comment;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char open = code[i];
    if (open != '{' && open != '\'') continue;
    const char close = open == '{' ? '}' : '\'';
    const auto end = code.find(close, i + 1);
    if (end == std::string_view::npos) break;
    const std::string_view expr = code.substr(i + 1, end - i - 1);
    for (std::size_t k = 0; k < expr.size();) {
      const unsigned char c = static_cast<unsigned char>(expr[k]);
      if (std::isdigit(c) || c == '.') {  // a number, its exponent and SPICE suffix
        while (k < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[k])) || expr[k] == '.' ||
                                   ((expr[k] == '+' || expr[k] == '-') && k > 0 && (expr[k - 1] == 'e' || expr[k - 1] == 'E')))) {
          ++k;
        }
        continue;
      }
      if (std::isalpha(c) || c == '_') {
        std::size_t j = k;
        while (j < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[j])) || expr[j] == '_')) ++j;
        std::size_t after = j;
        while (after < expr.size() && std::isspace(static_cast<unsigned char>(expr[after]))) ++after;
        const std::string word = lower(expr.substr(k, j - k));
        if (after >= expr.size() || expr[after] != '(') {
          out.emplace_back(word, std::string(1, open) + std::string(expr) + std::string(1, close));
        } else if (word == "v" || word == "i") {
          // v(node), i(source): names of the circuit, not parameters.
          const auto shut = expr.find(')', after);
          j = shut == std::string_view::npos ? expr.size() : shut + 1;
        }
        k = j;
        continue;
      }
      ++k;
    }
    i = end;
  }
  return out;
}

// Names that need no declaration in an expression.
bool is_builtin_name(const std::string& name) {
  static const char* const kBuiltins[] = {"pi", "e", "time", "temper", "hertz", "true", "false", "boltz", "echarge",
                                          "kelvin", "planck"};
  return std::any_of(std::begin(kBuiltins), std::end(kBuiltins), [&](const char* b) { return name == b; });
}

// The parameter names a file defines: `.param`, `.subckt ... params:` and the
// arguments of `.func`, anywhere in it.
void collect_defined_names(std::string_view text, std::set<std::string>& names) {
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    const std::string word = first_word(raw);
    const auto [code, comment] = split_comment(raw);
    (void)comment;
    if (word == ".param") {
      for (const auto& [n, v] : split_assignments(trim(code).substr(6))) names.insert(n);
    } else if (word == ".subckt" || word == ".func") {
      std::string s(code);
      for (char& ch : s) {
        if (ch == '(' || ch == ')' || ch == ',' || ch == '=' || ch == '{' || ch == '}') ch = ' ';
      }
      std::istringstream words(s);
      for (std::string w; words >> w;) {
        if (is_identifier(w)) names.insert(lower(w));
      }
    }
  }
}

}  // namespace

NetlistTemplate NetlistTemplate::load(const std::filesystem::path& path,
                                      const std::vector<std::filesystem::path>& extra_roots) {
  NetlistTemplate tpl = parse(read_text_file(path), path);
  std::vector<std::filesystem::path> given{std::filesystem::absolute(path).parent_path()};
  given.insert(given.end(), extra_roots.begin(), extra_roots.end());
  tpl.check_files(include_roots(given));
  tpl.check_names();
  return tpl;
}

void NetlistTemplate::check_names() const {
  const std::string file = path_.string();
  // Every {name} must be defined: by the template, a file it reads, or a subcircuit.
  std::set<std::string> defined;
  collect_defined_names(text_, defined);
  for (const auto& f : dependency_files(*this)) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(f, ec)) collect_defined_names(read_text_file(f), defined);
  }
  std::istringstream again(text_);
  std::string raw;
  int line_no = 0;
  while (std::getline(again, raw)) {
    ++line_no;
    if (line_no == 1) continue;
    const std::string word = first_word(raw);
    if (word == ".end") break;
    if (!word.empty() && word[0] == '*') continue;
    for (const auto& [name, expr] : expression_names(raw)) {
      if (defined.count(name) != 0 || is_builtin_name(name)) continue;
      std::vector<std::string> declared;
      for (const auto& p : params_) declared.push_back(p.name);
      for (const auto& d : derived_) declared.push_back(d.name);
      std::string list;
      for (const auto& d : declared) list += (list.empty() ? "" : ", ") + d;
      const auto close = closest_names(name, declared, 1);
      throw_input_error({file, line_no, 1, ""}, "GC-1107",
                        "undefined parameter '" + name + "' in " + expr + "; the template declares: " + list,
                        close.empty() ? "declare it with .param " + name + "=VALUE $ [UNIT] description"
                                      : "did you mean '" + close.front() + "'? (else declare it with .param " + name + "=VALUE)");
    }
  }
}

void NetlistTemplate::check_files(const std::vector<std::filesystem::path>& roots) const {
  // Every file it reads must exist now (a missing one would fail every point),
  // lie under a root and hold no script.
  check_deck(text_, path_, roots);
}

NetlistTemplate NetlistTemplate::parse(std::string text, const std::filesystem::path& origin) {
  NetlistTemplate tpl;
  tpl.path_ = origin;
  tpl.text_ = std::move(text);
  const std::string file = origin.string();
  const std::filesystem::path base = std::filesystem::absolute(origin).parent_path();
  check_script_free(tpl.text_, file);

  std::istringstream in(tpl.text_);
  std::string raw;
  int line_no = 0;
  int subckt_depth = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (line_no == 1) {
      tpl.title_ = raw;
      continue;
    }
    const std::string word = first_word(raw);
    if (word == ".end") break;
    if (word == ".subckt") ++subckt_depth;
    if (word == ".ends" && subckt_depth > 0) --subckt_depth;
    Line line;
    if (is_dropped_card(word)) {
      line.kind = Line::Kind::kDropped;
      tpl.lines_.push_back(line);
      continue;
    }
    if (word == ".include" || word == ".inc" || word == ".lib") {
      std::string_view rest = trim(std::string_view(raw).substr(raw.find_first_not_of(" \t") + word.size()));
      std::string target;
      std::string tail;
      if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
        const auto close = rest.find(rest[0], 1);
        if (close == std::string_view::npos) {
          throw_input_error({file, line_no, 1, ""}, "GC-1105", "unterminated quote in " + word + " path");
        }
        target = std::string(rest.substr(1, close - 1));
        tail = std::string(rest.substr(close + 1));
      } else {
        const auto space = rest.find_first_of(" \t");
        target = std::string(rest.substr(0, space));
        tail = space == std::string_view::npos ? "" : std::string(rest.substr(space));
      }
      // ".lib NAME" opens a section of a library; only ".lib FILE SECTION" reads a file.
      const std::string section(trim(tail));
      if (word == ".lib" && section.empty()) {
        line.kind = Line::Kind::kText;
        line.text = raw;
        tpl.lines_.push_back(line);
        continue;
      }
      if (target.empty()) {
        throw_input_error({file, line_no, 1, ""}, "GC-1105", word + " without a file name");
      }
      std::filesystem::path p = expand_home(target);
      if (p.is_relative()) p = (base / p).lexically_normal();
      tpl.includes_.push_back(p);
      tpl.include_lines_.push_back(line_no);
      line.kind = Line::Kind::kInclude;
      line.text = word + " \"" + p.string() + "\"" + tail;
      if (word == ".lib" && section.find_first_of(" \t") == std::string::npos) {
        line.lib = tpl.libs_.size();
        tpl.libs_.push_back({p, section, line_no});
      }
      tpl.lines_.push_back(line);
      continue;
    }
    if (word == ".param" && subckt_depth == 0) {
      auto [body, comment] = split_comment(raw);
      body = trim(body);
      body.remove_prefix(std::string_view(".param").size());
      const SourceLocation at{file, line_no, 1, ""};
      const auto assignments = split_assignments(body);
      const ParamDoc doc = read_doc(comment, at);
      std::size_t overridable = 0;
      for (const auto& [name, value] : assignments) {
        if (!is_identifier(name) || value.empty()) {
          throw_input_error(at, "GC-1101", "'" + name + (value.empty() ? "" : "=" + value) + "' is not a name=value assignment",
                            "write .param name=value (several per line are fine)");
        }
        if (value[0] != '{' && value[0] != '\'' && try_parse_si(value)) ++overridable;
      }
      if (doc.units.size() > 1 && doc.units.size() != overridable) {
        throw_input_error(at, "GC-1109", "the comment gives " + std::to_string(doc.units.size()) + " units for " +
                                             std::to_string(overridable) + " parameters",
                          "give one unit for every parameter of the line ($ [V]) or one per parameter, in order ($ [V] [s])");
      }
      line.kind = Line::Kind::kParam;
      line.comment = std::string(trim(comment));
      std::size_t k = 0;
      for (const auto& [name, value] : assignments) {
        Assignment a{name, value};
        const bool is_expression = value[0] == '{' || value[0] == '\'';
        std::string why;
        const auto number = is_expression ? std::nullopt : try_parse_si(value, &why);
        if (!is_expression && !number) {
          throw_input_error(at, "GC-1101", "parameter '" + name + "': " + why,
                            "write derived values as .param " + name + "={expression}");
        } else if (is_expression) {
          tpl.derived_.push_back({name, value, line_no});
        } else {
          if (tpl.find_param(name) != nullptr) {
            throw_input_error(at, "GC-1106", "parameter '" + name + "' declared twice");
          }
          TemplateParam param;
          param.name = name;
          param.default_value = *number;
          param.line = line_no;
          param.unit = doc.units.empty() ? "" : (doc.units.size() == 1 ? doc.units[0] : doc.units[k]);
          param.description = doc.description;
          param.range = doc.range;
          if (!param.range.contains(param.default_value)) {
            throw_input_error(at, "GC-1109", "parameter '" + name + "' defaults to " + format_exact(param.default_value) +
                                                 ", outside its own declared range " + param.range.text);
          }
          a.param = tpl.params_.size();
          tpl.params_.push_back(std::move(param));
          ++k;
        }
        line.assignments.push_back(std::move(a));
      }
      tpl.lines_.push_back(line);
      continue;
    }
    line.kind = Line::Kind::kText;
    line.text = raw;
    tpl.lines_.push_back(line);
  }

  return tpl;
}

const TemplateParam* NetlistTemplate::find_param(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& p : params_) {
    if (p.name == key) return &p;
  }
  return nullptr;
}

std::map<std::string, double> NetlistTemplate::resolve(
    const std::map<std::string, double>& overrides) const {
  std::map<std::string, double> values;
  for (const auto& p : params_) values[p.name] = p.default_value;
  for (const auto& [name, value] : overrides) {
    const std::string key = lower(name);
    if (find_param(key) == nullptr) {
      const bool derived = std::any_of(derived_.begin(), derived_.end(),
                                       [&](const DerivedParam& d) { return d.name == key; });
      if (derived) {
        throw_input_error({path_.string(), 0, 0, ""}, "GC-1104",
                          "parameter '" + key + "' is derived (an expression) and cannot be set");
      }
      std::string declared;
      for (const auto& p : params_) declared += (declared.empty() ? "" : ", ") + p.name;
      throw_input_error({path_.string(), 0, 0, ""}, "GC-1102",
                        "unknown parameter '" + key + "'; template declares: " + declared);
    }
    if (!std::isfinite(value)) {
      throw_input_error({path_.string(), 0, 0, ""}, "GC-1004",
                        "parameter '" + key + "' is not a finite number");
    }
    if (const std::string why = range_violation(key, value); !why.empty()) {
      throw_input_error({path_.string(), find_param(key)->line, 1, ""}, "GC-1110", why);
    }
    values[key] = value;
  }
  return values;
}

std::string NetlistTemplate::range_violation(const std::string& name, double value) const {
  const TemplateParam* p = find_param(name);
  if (p == nullptr || p->range.contains(value)) return "";
  return "parameter '" + p->name + "' = " + format_exact(value) + (p->unit.empty() ? "" : " " + p->unit) +
         " is outside its declared range " + p->range.text + " (" + path_.string() + ":" + std::to_string(p->line) + ")";
}

std::string NetlistTemplate::render(const RenderRequest& request) const {
  const auto values = resolve(request.values);
  std::string out;
  out.reserve(text_.size() + 512);
  out += title_ + "\n";
  for (const auto& c : request.comments) out += "* " + c + "\n";
  for (const auto& line : lines_) {
    switch (line.kind) {
      case Line::Kind::kDropped:
        break;
      case Line::Kind::kText:
        out += line.text + "\n";
        break;
      case Line::Kind::kInclude: {
        if (line.lib < libs_.size()) {
          auto it = request.lib_sections.find(libs_[line.lib].file);
          if (it != request.lib_sections.end()) {
            out += ".lib \"" + libs_[line.lib].file.string() + "\" " + it->second + "\n";
            break;
          }
        }
        out += line.text + "\n";
        break;
      }
      case Line::Kind::kParam: {
        out += ".param";
        for (const auto& a : line.assignments) {
          out += " " + a.name + "=" + (a.param < params_.size() ? format_exact(values.at(a.name)) : a.value);
        }
        if (!line.comment.empty()) out += " $ " + line.comment;
        out += "\n";
        break;
      }
    }
  }
  out += "* --- added by gaincell ---\n";
  if (!request.options.empty()) {
    out += ".options";
    for (const auto& [name, value] : request.options) out += " " + name + "=" + value;
    out += "\n";
  }
  if (!request.analysis.empty()) out += request.analysis + "\n";
  if (!request.saves.empty()) {
    out += ".save";
    for (const auto& s : request.saves) out += " " + s;
    out += "\n";
  }
  out += ".end\n";
  return out;
}

}  // namespace gaincell::netlist

namespace gaincell::netlist {

std::vector<std::filesystem::path> dependency_files(const NetlistTemplate& tpl) {
  std::vector<std::filesystem::path> files;
  for (const auto& f : included_files(tpl.text(), tpl.path())) files.push_back(f.file);
  return files;
}

std::vector<std::filesystem::path> dependency_closure(const std::vector<std::filesystem::path>& roots) {
  std::vector<std::filesystem::path> files;
  auto add = [&](const std::filesystem::path& f) {
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  };
  for (const auto& root : roots) {
    const std::filesystem::path r = std::filesystem::absolute(root).lexically_normal();
    add(r);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(r, ec)) continue;
    for (const auto& f : included_files(read_text_file(r), r)) add(f.file);
  }
  return files;
}

std::vector<std::string> library_sections(const std::filesystem::path& file) {
  std::vector<std::string> sections;
  std::istringstream in(read_text_file(file));
  std::string raw;
  while (std::getline(in, raw)) {
    std::istringstream words(raw);
    std::string first, name, extra;
    words >> first >> name >> extra;
    // ".lib NAME" opens a section; ".lib FILE NAME" (three words) is a reference.
    if (lower(first) == ".lib" && !name.empty() && extra.empty()) sections.push_back(lower(name));
  }
  return sections;
}

}  // namespace gaincell::netlist
