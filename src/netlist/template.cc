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
#include "gaincell/core/si_value.h"

namespace gaincell::netlist {
namespace {

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

// Where `name` (lower case) first stands as a whole word in `text` at or
// after `from`, ignoring case; npos if nowhere.
std::size_t find_word(std::string_view text, const std::string& name, std::size_t from = 0) {
  auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  const std::string low = lower(text);
  for (std::size_t at = low.find(name, from); at != std::string::npos; at = low.find(name, at + 1)) {
    const bool starts = at == 0 || !is_word_char(low[at - 1]);
    const bool ends = at + name.size() == low.size() || !is_word_char(low[at + name.size()]);
    if (starts && ends) return at;
  }
  return std::string::npos;
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
      throw InputError("GC-1109", "the range in this parameter's comment is not a number after '" +
                                           std::string(greater ? ">" : "<") + (inclusive ? "=" : "") + "': " + why,
                        "write e.g. $ [s] >= 0 <= 15n description").at(at);
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
  for (const std::string& raw : text_lines(text)) {
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

// Each name=value is well formed, and the comment gives one unit for the
// line or one per overridable parameter.
void check_units(const std::vector<std::pair<std::string, std::string>>& assignments, std::size_t units,
                 const SourceLocation& at) {
  std::size_t overridable = 0;
  for (const auto& [name, value] : assignments) {
    if (!is_identifier(name) || value.empty()) {
      throw InputError("GC-1101", "'" + name + (value.empty() ? "" : "=" + value) + "' is not a name=value assignment",
                        "write .param name=value (several per line are fine)").at(at);
    }
    if (value[0] != '{' && value[0] != '\'' && try_parse_si(value)) ++overridable;
  }
  if (units > 1 && units != overridable) {
    throw InputError("GC-1109", "the comment gives " + std::to_string(units) + " units for " +
                                         std::to_string(overridable) + " parameters",
                      "give one unit for every parameter of the line ($ [V]) or one per parameter, in order ($ [V] [s])").at(at);
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
  const std::vector<std::string> lines = text_lines(text_);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string word = first_word(lines[i]);
    if (word == ".end") break;
    if (!word.empty() && word[0] == '*') continue;
    for (const auto& [name, expr] : expression_names(lines[i])) {
      if (defined.count(name) != 0 || is_builtin_name(name)) continue;
      std::vector<std::string> declared;
      for (const auto& p : params_) declared.push_back(p.name);
      for (const auto& d : derived_) declared.push_back(d.name);
      const auto close = closest_names(name, declared, 1);
      throw InputError("GC-1107",
                        "undefined parameter '" + name + "' in " + expr + "; the template declares: " + join(declared, ", "),
                        close.empty() ? "declare it with .param " + name + "=VALUE $ [UNIT] description"
                                      : "did you mean '" + close.front() + "'? (else declare it with .param " + name + "=VALUE)").at({file, static_cast<int>(i) + 1, 1, ""});
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
  check_script_free(tpl.text_, origin.string());
  const std::vector<std::string> lines = text_lines(tpl.text_);
  if (!lines.empty()) tpl.title_ = lines.front();
  int subckt_depth = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string word = first_word(lines[i]);
    if (word == ".end") break;
    if (word == ".subckt") ++subckt_depth;
    if (word == ".ends" && subckt_depth > 0) --subckt_depth;
    tpl.lines_.push_back(tpl.read_line(lines[i], word, static_cast<int>(i) + 1, subckt_depth == 0));
  }
  return tpl;
}

NetlistTemplate::Line NetlistTemplate::read_line(const std::string& raw, const std::string& word, int line_no, bool top_level) {
  Line line;
  if (is_dropped_card(word)) {
    line.kind = Line::Kind::kDropped;
  } else if (const auto include = parse_include_line(raw)) {
    line = read_include(raw, *include, line_no);
  } else if (word == ".param" && top_level) {
    line = read_param_line(raw, line_no);
  } else {
    line.text = raw;
  }
  return line;
}

NetlistTemplate::Line NetlistTemplate::read_include(const std::string& raw, const IncludeLine& include, int line_no) {
  const SourceLocation at{path_.string(), line_no, 1, ""};
  if (include.unterminated) throw InputError("GC-1105", "unterminated quote in " + include.word + " path").at(at);
  Line line;
  // ".lib NAME" opens a section of a library; only ".lib FILE SECTION" reads a file.
  const std::string section = include.trim_tail();
  if (include.word == ".lib" && section.empty()) {
    line.text = raw;
    return line;
  }
  if (include.target.empty()) throw InputError("GC-1105", include.word + " without a file name").at(at);
  std::filesystem::path p = expand_home(include.target);
  if (p.is_relative()) p = (std::filesystem::absolute(path_).parent_path() / p).lexically_normal();
  includes_.push_back(p);
  include_lines_.push_back(line_no);
  line.kind = Line::Kind::kInclude;
  line.text = include.word + " \"" + p.string() + "\"" + include.tail;
  if (include.word == ".lib" && section.find_first_of(" \t") == std::string::npos) {
    line.lib = libs_.size();
    libs_.push_back({p, section, line_no});
  }
  return line;
}

NetlistTemplate::Line NetlistTemplate::read_param_line(const std::string& raw, int line_no) {
  auto [body, comment] = split_comment(raw);
  body = trim(body);
  body.remove_prefix(std::string_view(".param").size());
  const SourceLocation at{path_.string(), line_no, 1, ""};
  const auto assignments = split_assignments(body);
  const ParamDoc doc = read_doc(comment, at);
  check_units(assignments, doc.units.size(), at);
  Line line;
  line.kind = Line::Kind::kParam;
  line.comment = std::string(trim(comment));
  TemplateParam param;
  param.line = line_no;
  param.description = doc.description;
  param.range = doc.range;
  std::size_t k = 0;  // overridable parameters so far
  std::size_t cursor = raw.find_first_not_of(" \t") + std::string_view(".param").size();  // past the card's name
  for (const auto& [name, value] : assignments) {
    const std::size_t found = find_word(raw, name, cursor);
    param.column = found == std::string::npos ? 1 : static_cast<int>(found) + 1;
    if (found != std::string::npos) cursor = found + name.size();
    param.unit = doc.units.empty() ? "" : (doc.units.size() == 1 ? doc.units[0] : doc.units[k]);
    line.assignments.push_back(read_assignment(name, value, param));
    if (line.assignments.back().param < params_.size()) ++k;
  }
  return line;
}

NetlistTemplate::Assignment NetlistTemplate::read_assignment(const std::string& name, const std::string& value,
                                                             TemplateParam param) {
  const SourceLocation at{path_.string(), param.line, param.column, ""};
  Assignment a{name, value};
  const bool is_expression = value[0] == '{' || value[0] == '\'';
  if (is_expression) {
    derived_.push_back({name, value, param.line, param.column});
    return a;
  }
  std::string why;
  const auto number = try_parse_si(value, &why);
  if (!number) {
    throw InputError("GC-1101", "parameter '" + name + "': " + why, "write derived values as .param " + name + "={expression}").at(at);
  }
  if (find_param(name) != nullptr) throw InputError("GC-1106", "parameter '" + name + "' declared twice").at(at);
  param.name = name;
  param.default_value = *number;
  if (!param.range.contains(param.default_value)) {
    throw InputError("GC-1109", "parameter '" + name + "' defaults to " + format_exact(param.default_value) +
                                         ", outside its own declared range " + param.range.text).at(at);
  }
  a.param = params_.size();
  params_.push_back(std::move(param));
  return a;
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
    const TemplateParam* p = find_param(key);
    if (p == nullptr) {
      std::string declared;
      for (const auto& q : params_) declared += (declared.empty() ? "" : ", ") + q.name;
      const auto derived = std::find_if(derived_.begin(), derived_.end(), [&](const DerivedParam& d) { return d.name == key; });
      if (derived != derived_.end()) {
        throw InputError("GC-1104", "parameter '" + key + "' is derived (" + key + "=" + derived->expression +
                                        ") and cannot be set; template declares: " + declared)
            .at({path_.string(), derived->line, derived->column, ""});
      }
      throw InputError("GC-1102", "unknown parameter '" + key + "'; template declares: " + declared).at(first_use(key));
    }
    const SourceLocation declared_at{path_.string(), p->line, p->column, ""};
    if (!std::isfinite(value)) {
      const std::string shown = std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
      throw InputError("GC-1004", "parameter '" + key + "' = " + shown + " is not a finite number")
          .at(declared_at);
    }
    if (const std::string why = range_violation(key, value); !why.empty()) throw InputError("GC-1110", why).at(declared_at);
    values[key] = value;
  }
  return values;
}

SourceLocation NetlistTemplate::first_use(const std::string& name) const {
  std::istringstream in(text_);
  int line_no = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++line_no;
    if (line_no == 1) continue;  // the title
    const std::string_view code = split_comment(raw).first;
    if (const std::size_t at = find_word(code, name); at != std::string::npos && trim(code)[0] != '*') {
      return {path_.string(), line_no, static_cast<int>(at) + 1, ""};
    }
  }
  return {path_.string(), 0, 0, ""};
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
