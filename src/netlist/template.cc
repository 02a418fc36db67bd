// SPDX-License-Identifier: MIT
#include "gaincell/netlist/template.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"

namespace gaincell::netlist {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

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

}  // namespace

NetlistTemplate NetlistTemplate::load(const std::filesystem::path& path) {
  return parse(read_text_file(path), path);
}

NetlistTemplate NetlistTemplate::parse(std::string text, const std::filesystem::path& origin) {
  NetlistTemplate tpl;
  tpl.path_ = origin;
  tpl.text_ = std::move(text);
  const std::string file = origin.string();
  const std::filesystem::path base = std::filesystem::absolute(origin).parent_path();

  std::istringstream in(tpl.text_);
  std::string raw;
  int line_no = 0;
  bool in_control = false;
  while (std::getline(in, raw)) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (line_no == 1) {
      tpl.title_ = raw;
      continue;
    }
    const std::string word = first_word(raw);
    if (word == ".control") in_control = true;
    if (in_control) {
      throw_input_error({file, line_no, 1, ""}, "GC-1103",
                        "templates must not contain .control blocks",
                        "gaincell drives ngspice itself; put analyses and measures in the sweep spec");
    }
    if (word == ".end") break;
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
      if (target.empty()) {
        throw_input_error({file, line_no, 1, ""}, "GC-1105", word + " without a file name");
      }
      std::filesystem::path p(target);
      if (p.is_relative()) p = (base / p).lexically_normal();
      tpl.includes_.push_back(p);
      line.kind = Line::Kind::kInclude;
      line.text = word + " \"" + p.string() + "\"" + tail;
      const std::string section(trim(tail));
      if (word == ".lib" && !section.empty() && section.find_first_of(" \t") == std::string::npos) {
        line.lib = tpl.libs_.size();
        tpl.libs_.push_back({p, section, line_no});
      }
      tpl.lines_.push_back(line);
      continue;
    }
    if (word == ".param") {
      auto [body, comment] = split_comment(raw);
      body = trim(body);
      body.remove_prefix(std::string_view(".param").size());
      body = trim(body);
      const auto eq = body.find('=');
      const std::string name = lower(trim(body.substr(0, eq == std::string_view::npos ? 0 : eq)));
      const std::string_view value = eq == std::string_view::npos ? std::string_view{} : trim(body.substr(eq + 1));
      const bool single = eq != std::string_view::npos && is_identifier(name) &&
                          value.find_first_of(" \t=") == std::string_view::npos;
      if (single && !value.empty() && value[0] != '{' && value[0] != '\'') {
        std::string why;
        auto number = try_parse_si(value, &why);
        if (!number) {
          throw_input_error({file, line_no, 1, ""}, "GC-1101",
                            "parameter '" + name + "': " + why,
                            "write derived values as .param " + name + "={expression}");
        }
        if (tpl.find_param(name) != nullptr) {
          throw_input_error({file, line_no, 1, ""}, "GC-1106", "parameter '" + name + "' declared twice");
        }
        TemplateParam param;
        param.name = name;
        param.default_value = *number;
        param.line = line_no;
        std::string_view doc = trim(comment);
        if (!doc.empty() && doc[0] == '[') {
          const auto close = doc.find(']');
          if (close != std::string_view::npos) {
            param.unit = std::string(trim(doc.substr(1, close - 1)));
            doc = trim(doc.substr(close + 1));
          }
        }
        param.description = std::string(doc);
        line.kind = Line::Kind::kParam;
        line.param = tpl.params_.size();
        line.comment = std::string(trim(comment));
        tpl.params_.push_back(std::move(param));
        tpl.lines_.push_back(line);
        continue;
      }
      // Derived (or several assignments on one line): kept verbatim, names recorded.
      std::string_view rest = body;
      while (!rest.empty()) {
        const auto e = rest.find('=');
        if (e == std::string_view::npos) break;
        std::string n = lower(trim(rest.substr(0, e)));
        rest = rest.substr(e + 1);
        // The expression runs to the next " name=" or the end.
        std::size_t end = rest.size();
        int depth = 0;
        for (std::size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '{' || rest[i] == '(') ++depth;
          if (rest[i] == '}' || rest[i] == ')') --depth;
          if (depth == 0 && std::isspace(static_cast<unsigned char>(rest[i]))) {
            const auto next_eq = rest.find('=', i);
            const auto next_space = rest.find_first_not_of(" \t", i);
            if (next_eq != std::string_view::npos && next_space != std::string_view::npos &&
                is_identifier(trim(rest.substr(next_space, next_eq - next_space)))) {
              end = i;
              break;
            }
          }
        }
        if (is_identifier(n)) tpl.derived_.push_back({n, std::string(trim(rest.substr(0, end))), line_no});
        rest = end < rest.size() ? rest.substr(end) : std::string_view{};
      }
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
    values[key] = value;
  }
  return values;
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
        const auto& p = params_[line.param];
        out += ".param " + p.name + "=" + format_exact(values.at(p.name));
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
  return dependency_closure(tpl.includes());
}

std::vector<std::filesystem::path> dependency_closure(const std::vector<std::filesystem::path>& roots) {
  std::vector<std::filesystem::path> files;
  std::vector<std::filesystem::path> todo(roots.rbegin(), roots.rend());
  while (!todo.empty()) {
    const std::filesystem::path file = todo.back().lexically_normal();
    todo.pop_back();
    if (std::find(files.begin(), files.end(), file) != files.end()) continue;
    files.push_back(file);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) continue;
    std::istringstream in(read_text_file(file));
    std::string raw;
    std::vector<std::filesystem::path> nested;
    while (std::getline(in, raw)) {
      std::istringstream words(raw);
      std::string first, target, section;
      words >> first >> target >> section;
      first = lower(first);
      // ".lib NAME" opens a section; only ".lib FILE SECTION" and ".include FILE" read files.
      if (!(first == ".include" || first == ".inc" || (first == ".lib" && !section.empty()))) continue;
      if (target.size() >= 2 && (target.front() == '"' || target.front() == '\'')) {
        target = target.substr(1, target.size() - 2);
      }
      std::filesystem::path p(target);
      if (p.is_relative()) p = file.parent_path() / p;
      nested.push_back(p.lexically_normal());
    }
    todo.insert(todo.end(), nested.rbegin(), nested.rend());
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
