// SPDX-License-Identifier: MIT
#include "spice/alter_plan.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <regex>

#include "gaincell/core/strings.h"

namespace gaincell::spice::alter {
namespace {

// ---- numparam's expression subset (ngspice 39.3 src/frontend/numparam/xpressn.c) ----
//
// numparam evaluates with an accumulator per precedence level: * / (3),
// + - (4), comparisons (5), && (6), || (7), ?: (8, 9), all left to right. A
// formula's leading - or + is a binary operator with 0 on its left (0 - x,
// which is +0 for x = 0), a - after another operator negates only the number
// that follows (-1 * u), and anything else there is an error. Numbers are read
// with sscanf("%lG") and multiplied by the value of their first suffix letter
// (t g k m/meg u n p f; any other letter, "a" too, is 1). min(a, b) is
// b < a ? b : a and max(a, b) is b > a ? b : a (MIN/MAX of its arguments in
// reverse order). Results of comparisons and logic are 1.0 or 0.0.
// Names to values: `over` (the values a point changed), then `base`.
struct Scope {
  const std::map<std::string, double>& base;
  const std::map<std::string, double>* over = nullptr;
  std::optional<double> find(const std::string& name) const {
    if (over != nullptr) {
      if (auto it = over->find(name); it != over->end()) return it->second;
    }
    if (auto it = base.find(name); it != base.end()) return it->second;
    return std::nullopt;
  }
};

class Evaluator {
 public:
  Evaluator(std::string_view text, const Scope& env) : s_(text), env_(env) {}

  std::optional<double> formula_all() {
    auto v = formula();
    skip();
    if (!v || pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  // A formula: what numparam's formula() reads (the whole expression, one
  // argument, or a parenthesized part).
  std::optional<double> formula() { return ternary(true); }

  // c ? a : b. A second ? in the then-branch (outside parentheses of its own)
  // is refused: numparam's accumulators read "c1 ? c2 ? y : z : w" as
  // "c1 ? y : w", which no reader would mean. In the else-branch it nests.
  std::optional<double> ternary(bool start) {
    auto c = logic_or(start);
    if (!c) return std::nullopt;
    if (!eat("?")) return c;
    auto a = logic_or(false);
    if (!a || !eat(":")) return std::nullopt;
    auto b = ternary(false);
    if (!b) return std::nullopt;
    return *c != 0.0 ? *a : *b;
  }

  std::optional<double> logic_or(bool start) {
    auto l = logic_and(start);
    while (l && eat("||")) {
      auto r = logic_and(false);
      if (!r) return std::nullopt;
      l = (*l != 0.0 || *r != 0.0) ? 1.0 : 0.0;
    }
    return l;
  }

  std::optional<double> logic_and(bool start) {
    auto l = compare(start);
    while (l && eat("&&")) {
      auto r = compare(false);
      if (!r) return std::nullopt;
      l = (*l != 0.0 && *r != 0.0) ? 1.0 : 0.0;
    }
    return l;
  }

  std::optional<double> compare(bool start) {
    auto l = additive(start);
    while (l) {
      std::string op;
      for (const char* o : {"==", "!=", "<>", ">=", "<=", ">", "<"}) {
        if (eat(o)) {
          op = o;
          break;
        }
      }
      if (op.empty()) break;
      if (peek() == '=') return std::nullopt;  // "=" alone or "===": numparam reads other things
      auto r = additive(false);
      if (!r) return std::nullopt;
      const double x = *l, y = *r;
      bool t = false;
      if (op == "==") t = x == y;
      else if (op == "!=" || op == "<>") t = x != y;
      else if (op == ">=") t = x >= y;
      else if (op == "<=") t = x <= y;
      else if (op == ">") t = x > y;
      else t = x < y;
      l = t ? 1.0 : 0.0;
    }
    return l;
  }

  std::optional<double> additive(bool start) {
    std::optional<double> l;
    skip();
    if (start && (peek() == '-' || peek() == '+')) {
      l = 0.0;  // the leading sign is a binary operator on 0
    } else {
      l = multiplicative();
    }
    while (l) {
      skip();
      const char c = peek();
      if (c != '+' && c != '-') break;
      ++pos_;
      auto r = multiplicative();
      if (!r) return std::nullopt;
      l = c == '+' ? *l + *r : *l - *r;
    }
    return l;
  }

  std::optional<double> multiplicative() {
    auto l = operand();
    while (l) {
      skip();
      const char c = peek();
      if (c == '*' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') return std::nullopt;  // power
      if (c != '*' && c != '/') break;
      ++pos_;
      auto r = operand();
      if (!r) return std::nullopt;
      l = c == '*' ? *l * *r : *l / *r;
    }
    if (l) {
      skip();
      const char c = peek();
      const bool not_equal = c == '!' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '=';
      if (c == '^' || c == '%' || c == '\\' || (c == '!' && !not_equal)) return std::nullopt;
    }
    return l;
  }

  std::optional<double> operand() {
    skip();
    const char c = peek();
    if (c == '-') {  // after an operator: negates the number that follows, nothing else
      ++pos_;
      skip();
      if (!starts_number()) return std::nullopt;
      auto u = number();
      if (!u) return std::nullopt;
      return -1 * *u;
    }
    if (c == '(') {
      ++pos_;
      auto v = formula();
      if (!v || !eat(")")) return std::nullopt;
      return v;
    }
    if (starts_number()) return number();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return name();
    return std::nullopt;
  }

  bool starts_number() const {
    const char c = peek();
    return std::isdigit(static_cast<unsigned char>(c)) ||
           (c == '.' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])));
  }

  std::optional<double> number() {
    const std::size_t start = pos_;
    if (s_.substr(pos_, 2) == "0x") return std::nullopt;  // sscanf would read hex
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == 'e') {
      std::size_t e = pos_ + 1;
      if (e < s_.size() && (s_[e] == '+' || s_[e] == '-')) ++e;
      if (e < s_.size() && std::isdigit(static_cast<unsigned char>(s_[e]))) {
        pos_ = e;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      }
    }
    const std::string digits(s_.substr(start, pos_ - start));
    char* end = nullptr;
    double u = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) return std::nullopt;
    const std::size_t suffix = pos_;
    while (pos_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    if (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) {
      return std::nullopt;  // "2n5": not a number numparam reads
    }
    if (suffix < pos_) {
      switch (s_[suffix]) {
        case 't': u *= 1e12; break;
        case 'g': u *= 1e9; break;
        case 'k': u *= 1e3; break;
        case 'm': u *= s_.substr(suffix, 3) == "meg" ? 1e6 : 1e-3; break;
        case 'u': u *= 1e-6; break;
        case 'n': u *= 1e-9; break;
        case 'p': u *= 1e-12; break;
        case 'f': u *= 1e-15; break;
        default: break;  // numparam: 1 (there is no "a")
      }
    }
    return u;
  }

  std::optional<double> name() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' || s_[pos_] == '.')) {
      ++pos_;
    }
    const std::string id(s_.substr(start, pos_ - start));
    skip();
    if (peek() == '(') {
      ++pos_;
      std::vector<double> args;
      while (true) {
        auto a = formula();
        if (!a) return std::nullopt;
        args.push_back(*a);
        if (eat(",")) continue;
        if (eat(")")) break;
        return std::nullopt;
      }
      if (id == "abs" && args.size() == 1) return std::fabs(args[0]);
      if (id == "min" && args.size() == 2) return args[1] < args[0] ? args[1] : args[0];
      if (id == "max" && args.size() == 2) return args[1] > args[0] ? args[1] : args[0];
      return std::nullopt;
    }
    return env_.find(id);
  }

  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool eat(std::string_view op) {
    skip();
    if (s_.substr(pos_, op.size()) != op) return false;
    pos_ += op.size();
    return true;
  }

  std::string_view s_;
  const Scope& env_;
  std::size_t pos_ = 0;
};

// The right side of `.param NAME=...` without braces or quotes: the one
// expression, if the line holds exactly one assignment and maybe a $ comment.
std::optional<std::pair<std::string, std::string>> param_assignment(const std::string& low) {
  if (low.rfind(".param", 0) != 0 || low.size() < 7 || !std::isspace(static_cast<unsigned char>(low[6]))) {
    return std::nullopt;
  }
  const std::string body(trim(std::string_view(low).substr(7)));
  const auto eq = body.find('=');
  if (eq == std::string::npos) return std::nullopt;
  std::string name(trim(std::string_view(body).substr(0, eq)));
  if (!is_identifier(name)) return std::nullopt;
  const std::string rhs(trim(std::string_view(body).substr(eq + 1)));
  std::string expr, rest;
  if (!rhs.empty() && (rhs[0] == '{' || rhs[0] == '\'')) {
    const char close = rhs[0] == '{' ? '}' : '\'';
    const auto end = rhs.find(close, 1);
    if (end == std::string::npos) return std::nullopt;
    expr = rhs.substr(1, end - 1);
    rest = std::string(trim(std::string_view(rhs).substr(end + 1)));
  } else {
    const auto end = rhs.find_first_of(" \t");
    expr = rhs.substr(0, end);
    rest = end == std::string::npos ? std::string() : std::string(trim(std::string_view(rhs).substr(end)));
  }
  if (expr.empty() || (!rest.empty() && rest[0] != '$')) return std::nullopt;
  return std::make_pair(std::move(name), std::move(expr));
}

// Splits a source's value list on white space, commas and parentheses;
// a "{...}" is one token whatever it holds.
std::vector<std::string> value_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '{') {
      const auto end = s.find('}', i);
      if (end == std::string_view::npos) return {};
      cur += s.substr(i, end - i + 1);
      i = end;
    } else if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == '(' || c == ')') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// A number INPevaluate reads the same in the deck and in `alter`'s vector.
bool plain_literal(const std::string& t) {
  static const std::regex re(R"([+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?[a-z]*)");
  return std::regex_match(t, re);
}

// `NAME N1 N2 [dc] VALUE` or `NAME N1 N2 PULSE(...)` / `PWL(...)`, lower case.
std::optional<Source> parse_source(const std::string& low) {
  if (low.empty() || (low[0] != 'v' && low[0] != 'i')) return std::nullopt;
  std::size_t pos = 0;
  std::vector<std::string> head;
  for (int k = 0; k < 3; ++k) {
    while (pos < low.size() && std::isspace(static_cast<unsigned char>(low[pos]))) ++pos;
    const auto end = low.find_first_of(" \t", pos);
    if (end == std::string::npos) return std::nullopt;
    head.push_back(low.substr(pos, end - pos));
    pos = end;
  }
  if (head[0].find_first_of("{}(") != std::string::npos) return std::nullopt;
  std::string rest(trim(std::string_view(low).substr(pos)));
  Source src;
  src.name = head[0];
  static const std::regex fn(R"(^(pulse|pwl)\s*\((.*)\)$)");
  std::smatch m;
  if (std::regex_match(rest, m, fn)) {
    src.param = m[1];
    src.tokens = value_tokens(m[2].str());
  } else {
    if (rest.rfind("dc", 0) == 0 && rest.size() > 2 && std::isspace(static_cast<unsigned char>(rest[2]))) {
      rest = std::string(trim(std::string_view(rest).substr(2)));
    }
    src.param = "dc";
    src.tokens = value_tokens(rest);
    if (src.tokens.size() != 1) return std::nullopt;
  }
  if (src.tokens.empty()) return std::nullopt;
  for (const auto& t : src.tokens) {
    if (t.front() == '{' ? t.back() != '}' || t.find('{', 1) != std::string::npos : !plain_literal(t)) return std::nullopt;
  }
  return src;
}

std::map<std::string, double> environment(const std::vector<std::pair<std::string, std::string>>& params) {
  std::map<std::string, double> env;
  for (const auto& [name, expr] : params) {
    if (auto v = evaluate(expr, env)) env[name] = *v;
    else env.erase(name);  // later references fail
  }
  return env;
}

std::optional<std::vector<std::string>> render(const Source& src, const Scope& env) {
  std::vector<std::string> out;
  out.reserve(src.tokens.size());
  for (const auto& t : src.tokens) {
    if (t.front() != '{') {
      out.push_back(t);
      continue;
    }
    const auto v = Evaluator(std::string_view(t).substr(1, t.size() - 2), env).formula_all();
    if (!v || !std::isfinite(*v)) return std::nullopt;
    out.push_back(numparam_text(*v));
  }
  return out;
}

// Every identifier-like word of a line (a-z, 0-9, _), for the reference scan:
// node names and keywords too, which only makes the scan more cautious.
std::set<std::string> words(const std::string& low) {
  std::set<std::string> out;
  std::string cur;
  for (const char c : low + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      cur += c;
    } else if (!cur.empty()) {
      out.insert(cur);
      cur.clear();
    }
  }
  return out;
}

// The plan's base: its parameters' values, every source's values, and who
// reads which name. False if a source cannot be computed.
bool set_base(Plan& plan) {
  plan.base_env = environment(plan.params);
  plan.base_values.clear();
  plan.users.clear();
  plan.source_refs.clear();
  for (const auto& [name, expr] : plan.params) {
    for (const auto& w : words(expr)) plan.users[w].insert(name);
  }
  const Scope scope{plan.base_env};
  for (const auto& src : plan.sources) {
    auto v = render(src, scope);
    if (!v) return false;
    plan.base_values.emplace(src.name, std::move(*v));
    std::set<std::string> refs;
    for (const auto& t : src.tokens) {
      if (t.front() == '{') refs.merge(words(t));
    }
    plan.source_refs.push_back(std::move(refs));
  }
  plan.current = plan.base_values;
  return true;
}

}  // namespace

std::optional<double> evaluate(std::string_view expr, const std::map<std::string, double>& env) {
  return Evaluator(expr, Scope{env}).formula_all();
}

std::string numparam_text(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15e", value);
  return buf;
}

std::optional<Plan> build_plan(const std::vector<std::string>& lines, const std::vector<std::string>& listing,
                               const std::vector<std::string>& expanded, const std::set<std::string>& alterable,
                               std::string* why) {
  auto refuse = [&](const std::string& w) -> std::optional<Plan> {
    if (why != nullptr) *why = w;
    return std::nullopt;
  };
  // Random draws happen while numparam evaluates: a fresh parse draws again
  // with the point's seed, an alter would keep the last point's numbers.
  static const std::regex random_fn(R"(\b(gauss|agauss|unif|aunif|limit|sgauss|rand)\s*\()");
  for (const auto& l : listing) {
    if (std::regex_search(lower(l), random_fn)) return refuse("the deck draws random numbers: " + l);
  }

  Plan plan;
  // Our netlist's top-level .param lines and independent sources. A name
  // given twice (in the two branches of an .if, say) is never a candidate:
  // the deck ngspice parsed holds one of them, an alter would set the other.
  std::vector<Source> candidates;
  std::map<std::string, int> elements;
  int depth = 0;
  for (const auto& raw : lines) {
    const std::string low = lower(trim(raw));
    if (const auto w = first_word(low); !w.empty() && w[0] != '.' && w[0] != '*' && w[0] != '+') ++elements[w];
    if (low.rfind(".if", 0) == 0 || low.rfind(".elseif", 0) == 0 || low.rfind(".else", 0) == 0) {
      return refuse("the netlist has .if branches: " + std::string(trim(raw)));
    }
    if (low.rfind(".subckt", 0) == 0) ++depth;
    if (low.rfind(".ends", 0) == 0) depth = std::max(depth - 1, 0);
    if (depth > 0) continue;
    if (auto p = param_assignment(low)) {
      plan.params.push_back(std::move(*p));
    } else if (auto s = parse_source(low)) {
      candidates.push_back(std::move(*s));
    }
  }
  const auto env = environment(plan.params);

  // A source is handled if its values, computed here, are exactly what
  // numparam wrote into the deck ngspice parsed (`listing expand`).
  std::map<std::string, std::vector<std::string>> deck_values;
  std::map<std::string, int> seen;
  for (const auto& l : expanded) {
    const std::string low = lower(trim(l));
    const auto sp = low.find_first_of(" \t");
    if (sp == std::string::npos) continue;
    const std::string name = low.substr(0, sp);
    if (++seen[name] > 1) continue;
    auto toks = value_tokens(low);
    // name, two nodes, then the keyword if any
    if (toks.size() < 4) continue;
    toks.erase(toks.begin(), toks.begin() + 3);
    if (toks.front() == "dc" || toks.front() == "pulse" || toks.front() == "pwl") toks.erase(toks.begin());
    deck_values[name] = std::move(toks);
  }
  for (auto& src : candidates) {
    if (elements[src.name] != 1) continue;
    const auto it = deck_values.find(src.name);
    auto mine = render(src, Scope{env});
    if (it == deck_values.end() || seen[src.name] != 1 || !mine || *mine != it->second) continue;
    plan.sources.push_back(std::move(src));
  }

  // Who references each name in the deck ngspice holds (`listing`: includes
  // read, before numparam): handled sources and top-level .param lines are
  // followed; any other line that mentions a name makes it unsafe.
  std::set<std::string> handled;
  for (const auto& s : plan.sources) handled.insert(s.name);
  std::set<std::string> hard;                        // mentioned by a line an alter does not redo
  std::map<std::string, std::set<std::string>> dependents;  // name -> params whose right side mentions it
  std::map<std::string, int> definitions;
  depth = 0;
  const std::string title = lines.empty() ? std::string() : lower(trim(lines.front()));
  for (std::size_t i = 0; i < listing.size(); ++i) {
    const std::string low = lower(trim(listing[i]));
    if (low.empty() || low[0] == '*') continue;
    if (i == 0 && low == title) continue;  // the title mentions names without reading them
    const bool opens = low.rfind(".subckt", 0) == 0;
    if (opens) ++depth;
    const bool top = depth == 0;
    if (low.rfind(".ends", 0) == 0) depth = std::max(depth - 1, 0);
    const auto p = top ? param_assignment(low) : std::nullopt;
    if (p) {
      ++definitions[p->first];
      for (const auto& x : words(p->second)) dependents[x].insert(p->first);
      continue;
    }
    const auto sp = low.find_first_of(" \t");
    if (top && handled.count(low.substr(0, sp)) != 0) continue;
    hard.merge(words(low));
  }
  std::map<std::string, bool> memo;
  std::set<std::string> visiting;
  std::function<bool(const std::string&)> safe = [&](const std::string& name) -> bool {
    if (auto it = memo.find(name); it != memo.end()) return it->second;
    if (!visiting.insert(name).second) return false;  // a cycle
    bool ok = hard.count(name) == 0 && definitions[name] == 1 && env.count(name) != 0;
    for (const auto& d : dependents[name]) ok = ok && d != name && safe(d);
    visiting.erase(name);
    return memo[name] = ok;
  };
  for (const auto& name : alterable) {
    if (safe(name)) plan.safe.insert(name);
  }
  if (plan.safe.empty()) return refuse("no parameter feeds only independent sources");
  if (!set_base(plan)) return refuse("a source's values cannot be computed");
  return plan;
}

std::optional<std::vector<std::string>> commands(Plan& plan, const std::map<std::string, std::string>& changed) {
  // The changed names and every derived one that reads them: only these are
  // computed again, the rest keep the plan's base values.
  std::set<std::string> affected;
  std::vector<std::string> todo;
  for (const auto& [name, value] : changed) {
    if (plan.safe.count(name) == 0) return std::nullopt;
    if (affected.insert(name).second) todo.push_back(name);
  }
  while (!todo.empty()) {
    const std::string name = todo.back();
    todo.pop_back();
    if (auto it = plan.users.find(name); it != plan.users.end()) {
      for (const auto& u : it->second) {
        if (affected.insert(u).second) todo.push_back(u);
      }
    }
  }
  std::map<std::string, double> over;
  const Scope scope{plan.base_env, &over};
  for (const auto& [name, expr] : plan.params) {
    if (affected.count(name) == 0) continue;
    const auto c = changed.find(name);
    const auto v = Evaluator(c != changed.end() ? lower(c->second) : expr, scope).formula_all();
    if (!v) return std::nullopt;
    over[name] = *v;
  }
  std::vector<std::string> out;
  std::map<std::string, std::vector<std::string>> next;
  for (std::size_t i = 0; i < plan.sources.size(); ++i) {
    const Source& src = plan.sources[i];
    const auto& refs = plan.source_refs[i];
    const bool reads = std::any_of(refs.begin(), refs.end(), [&](const std::string& w) { return affected.count(w) != 0; });
    std::optional<std::vector<std::string>> now;
    if (reads) {
      now = render(src, scope);
      if (!now) return std::nullopt;
    }
    const std::vector<std::string>& values = reads ? *now : plan.base_values.at(src.name);
    if (plan.current.at(src.name) != values) {
      out.push_back("alter @" + src.name + "[" + src.param + "] = [ " + join(values, " ") + " ]");
      next[src.name] = values;
    }
  }
  for (auto& [name, values] : next) plan.current[name] = std::move(values);
  return out;
}

bool rebase(Plan& plan, const std::map<std::string, std::string>& changed) {
  for (auto& [name, expr] : plan.params) {
    if (auto it = changed.find(name); it != changed.end()) expr = lower(it->second);
  }
  return set_base(plan);
}

}  // namespace gaincell::spice::alter
