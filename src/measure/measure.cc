// SPDX-License-Identifier: MIT
#include "gaincell/measure/measure.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gaincell/core/strings.h"

namespace gaincell::measure {
namespace {

struct KindName {
  MeasureKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {MeasureKind::kIntegral, "integral"}, {MeasureKind::kValueAt, "value_at"},
    {MeasureKind::kEnergy, "energy"},     {MeasureKind::kAverage, "average"},
    {MeasureKind::kMin, "min"},           {MeasureKind::kMax, "max"},
    {MeasureKind::kTimeAbove, "time_above"}, {MeasureKind::kTrace, "trace"},
};

// A time or value in a message: 6 significant digits, any magnitude (5e-08, not 0.000000).
std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

void check_lengths(const std::vector<double>& t, const std::vector<double>& y) {
  if (t.size() != y.size()) {
    throw MeasureError("vector length " + std::to_string(y.size()) + " differs from time length " +
                       std::to_string(t.size()));
  }
  if (t.empty()) throw MeasureError("no time points");
}

// Index i such that t[i] <= x < t[i+1], clamped to [0, n-2].
std::size_t segment(const std::vector<double>& t, double x) {
  auto it = std::upper_bound(t.begin(), t.end(), x);
  std::size_t i = it == t.begin() ? 0 : static_cast<std::size_t>(it - t.begin()) - 1;
  return std::min(i, t.size() >= 2 ? t.size() - 2 : 0);
}

// Clips [from, to] to the simulated span; throws if nothing is left.
std::pair<double, double> clip_window(const std::vector<double>& t, double from, double to) {
  const double lo = std::max(from, t.front());
  const double hi = std::min(to, t.back());
  if (!(hi >= lo)) {
    throw MeasureError("window [" + num(from) + ", " + num(to) + "] s is outside the simulated span [" + num(t.front()) +
                       ", " + num(t.back()) + "] s");
  }
  return {lo, hi};
}

}  // namespace

const char* to_string(MeasureKind kind) {
  for (const auto& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "unknown";
}

bool measure_kind_from_string(const std::string& name, MeasureKind* kind) {
  for (const auto& k : kKindNames) {
    if (name == k.name) {
      *kind = k.kind;
      return true;
    }
  }
  return false;
}

const std::vector<double>& Waveforms::at(const std::string& name) const {
  if (name == "time") return time;
  auto it = vectors.find(name);
  if (it == vectors.end()) throw MeasureError("vector '" + name + "' was not simulated");
  return it->second;
}

double interpolate(const std::vector<double>& t, const std::vector<double>& y, double at) {
  check_lengths(t, y);
  if (t.size() == 1 || at <= t.front()) return y.front();
  if (at >= t.back()) return y.back();
  const std::size_t i = segment(t, at);
  const double h = t[i + 1] - t[i];
  if (h <= 0) return y[i + 1];
  const double s = (at - t[i]) / h;
  return y[i] + s * (y[i + 1] - y[i]);
}

namespace {

// Value of y at x on segment i (t[i] <= x <= t[i+1]), linear in between.
double on_segment(const std::vector<double>& t, const std::vector<double>& y, std::size_t i, double x) {
  const double h = t[i + 1] - t[i];
  if (h <= 0) return y[i + 1];
  return y[i] + (x - t[i]) / h * (y[i + 1] - y[i]);
}

// Calls f(x0, x1, i) for each part [x0, x1] of segment i inside [lo, hi],
// walking the samples once (ngspice's time vectors are non-decreasing).
template <typename F>
void for_each_piece(const std::vector<double>& t, double lo, double hi, F&& f) {
  for (std::size_t i = segment(t, lo); i + 1 < t.size() && t[i] < hi; ++i) {
    const double x0 = std::max(t[i], lo);
    const double x1 = std::min(t[i + 1], hi);
    if (x1 > x0) f(x0, x1, i);
  }
}

// The sum of f(x0, x1, i) over the pieces of [from, to], clipped to the
// simulated span (throws MeasureError if nothing of it is left).
template <typename F>
double sum_over_window(const std::vector<double>& t, double from, double to, F&& f) {
  const auto [lo, hi] = clip_window(t, from, to);
  double sum = 0.0;
  for_each_piece(t, lo, hi, [&](double x0, double x1, std::size_t i) { sum += f(x0, x1, i); });
  return sum;
}

}  // namespace

double integrate(const std::vector<double>& t, const std::vector<double>& y, double from, double to) {
  check_lengths(t, y);
  return sum_over_window(t, from, to, [&](double x0, double x1, std::size_t i) {
    return 0.5 * (x1 - x0) * (on_segment(t, y, i, x0) + on_segment(t, y, i, x1));
  });
}

double time_above(const std::vector<double>& t, const std::vector<double>& y, double threshold, double from,
                  double to) {
  check_lengths(t, y);
  return sum_over_window(t, from, to, [&](double x0, double x1, std::size_t i) {
    const double y0 = on_segment(t, y, i, x0) - threshold;
    const double y1 = on_segment(t, y, i, x1) - threshold;
    if (y0 > 0 && y1 > 0) return x1 - x0;
    if (!(y0 > 0 || y1 > 0)) return 0.0;
    // One crossing on the piece: keep the part above the threshold.
    const double cross = x0 + (x1 - x0) * y0 / (y0 - y1);
    return y0 > 0 ? cross - x0 : x1 - cross;
  });
}

double integrate_product(const std::vector<double>& t, const std::vector<double>& a,
                         const std::vector<double>& b, double from, double to) {
  check_lengths(t, a);
  check_lengths(t, b);
  return sum_over_window(t, from, to, [&](double x0, double x1, std::size_t i) {
    // Both factors are linear on the piece: integrate (a0 + da s)(b0 + db s) exactly.
    const double a0 = on_segment(t, a, i, x0), a1 = on_segment(t, a, i, x1);
    const double b0 = on_segment(t, b, i, x0), b1 = on_segment(t, b, i, x1);
    const double da = a1 - a0, db = b1 - b0;
    return (x1 - x0) * (a0 * b0 + 0.5 * (a0 * db + b0 * da) + da * db / 3.0);
  });
}

double evaluate(const ResolvedMeasure& m, const Waveforms& w) {
  const auto& t = w.time;
  if (t.empty()) throw MeasureError("no time points");
  switch (m.kind) {
    case MeasureKind::kIntegral:
      return m.scale * integrate(t, w.at(m.of), m.t_from_s, m.t_to_s);
    case MeasureKind::kValueAt: {
      const double at = std::isinf(m.t_at_s) ? t.back() : m.t_at_s;
      if (at < t.front() || at > t.back()) {
        throw MeasureError("time " + num(at) + " s is outside the simulated span [" + num(t.front()) + ", " + num(t.back()) + "] s");
      }
      return m.scale * interpolate(t, w.at(m.of), at);
    }
    case MeasureKind::kEnergy:
      return -m.scale * integrate_product(t, w.at(m.voltage), w.at(m.current), m.t_from_s, m.t_to_s);
    case MeasureKind::kAverage: {
      auto [lo, hi] = clip_window(t, m.t_from_s, m.t_to_s);
      if (hi <= lo) throw MeasureError("empty averaging window");
      return m.scale * integrate(t, w.at(m.of), lo, hi) / (hi - lo);
    }
    case MeasureKind::kMin:
    case MeasureKind::kMax: {
      const auto& y = w.at(m.of);
      check_lengths(t, y);
      auto [lo, hi] = clip_window(t, m.t_from_s, m.t_to_s);
      double best = interpolate(t, y, lo);
      auto take = [&](double v) { best = m.kind == MeasureKind::kMin ? std::min(best, v) : std::max(best, v); };
      take(interpolate(t, y, hi));
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] > lo && t[i] < hi) take(y[i]);
      }
      return m.scale * best;
    }
    case MeasureKind::kTimeAbove:
      return m.scale * time_above(t, w.at(m.of), m.threshold, m.t_from_s, m.t_to_s);
    case MeasureKind::kTrace:
      throw MeasureError("a trace has several values; use evaluate_into");
  }
  throw MeasureError("unknown measure kind");
}

void evaluate_into(const ResolvedMeasure& m, const Waveforms& w, std::vector<double>& out) {
  if (m.kind != MeasureKind::kTrace) {
    out.push_back(evaluate(m, w));
    return;
  }
  const auto& y = w.at(m.of);
  check_lengths(w.time, y);
  for (double at : m.times_s) {
    if (at < w.time.front() || at > w.time.back() * (1 + 1e-12)) {
      throw MeasureError("trace time " + num(at) + " s is outside the simulated span [" + num(w.time.front()) + ", " +
                         num(w.time.back()) + "] s");
    }
    out.push_back(m.scale * interpolate(w.time, y, at));
  }
}

std::size_t total_width(const std::vector<ResolvedMeasure>& measures) {
  std::size_t n = 0;
  for (const auto& m : measures) n += m.width();
  return n;
}

std::vector<std::string> required_vectors(const std::vector<ResolvedMeasure>& measures) {
  std::vector<std::string> names;
  auto add = [&](const std::string& n) {
    if (!n.empty() && n != "time" && std::find(names.begin(), names.end(), n) == names.end()) {
      names.push_back(n);
    }
  };
  for (const auto& m : measures) {
    add(m.of);
    add(m.voltage);
    add(m.current);
  }
  return names;
}

std::vector<VectorTerm> vector_terms(const std::string& vector) {
  const std::string v = lower(vector);
  if (!v.empty() && v[0] == '@') return {{v, 1.0}};
  if (v.size() < 4 || v[1] != '(' || v.back() != ')') throw MeasureError("'" + vector + "' is not a vector name");
  const std::string inner = v.substr(2, v.size() - 3);
  auto ground = [](const std::string& n) { return n == "0" || n == "gnd"; };
  if (v[0] == 'v') {
    const auto comma = inner.find(',');
    std::vector<VectorTerm> terms;
    const std::string a = inner.substr(0, comma);
    if (!ground(a)) terms.push_back({"v(" + a + ")", 1.0});
    if (comma != std::string::npos) {
      const std::string b = inner.substr(comma + 1);
      if (!ground(b)) terms.push_back({"v(" + b + ")", -1.0});
    }
    return terms;
  }
  if (v[0] != 'i' || inner.empty() || inner.find(',') != std::string::npos) {
    throw MeasureError("'" + vector + "' is not a vector name: expected v(node), v(a,b), i(source) or @device[param]");
  }
  // The element is the last part of a dotted instance path (x1.x2.vs).
  const auto dot = inner.rfind('.');
  const std::string element = dot == std::string::npos ? inner : inner.substr(dot + 1);
  const char letter = element.empty() ? '?' : element[0];
  // Inside a subcircuit, ngspice names the element <letter>.<path>.
  const std::string path = dot == std::string::npos ? inner : std::string(1, letter) + "." + inner;
  switch (letter) {
    case 'v': case 'e': case 'h': case 'l':  // elements with a branch current
      return {{"i(" + path + ")", 1.0}};
    case 'i':
      return {{"@" + path + "[c]", 1.0}};
    case 'r': case 'c':
      return {{"@" + path + "[i]", 1.0}};
    default:
      throw MeasureError("'" + vector + "': ngspice gives no single current for element '" + element +
                         "'; measure the current of a 0 V source in series, or a device parameter (@m1[id])");
  }
}

std::string ngspice_expression(const std::string& vector) {
  const auto terms = vector_terms(vector);
  if (terms.size() == 1 && terms[0].sign > 0) return terms[0].name;
  std::string e;
  for (const auto& t : terms) e += (t.sign < 0 ? "-" : (e.empty() ? "" : "+")) + t.name;
  return "par('" + (e.empty() ? std::string("0") : e) + "')";
}

std::vector<std::string> save_names(const std::vector<ResolvedMeasure>& measures) {
  std::vector<std::string> names;
  for (const auto& v : required_vectors(measures)) {
    for (const auto& t : vector_terms(v)) {
      if (std::find(names.begin(), names.end(), t.name) == names.end()) names.push_back(t.name);
    }
  }
  return names;
}

// Infinity does not survive JSON; null stands for "end of simulation".
namespace {
nlohmann::json time_to_json(double t) { return std::isinf(t) ? nlohmann::json(nullptr) : nlohmann::json(t); }
double time_from_json(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::infinity() : j.get<double>();
}
}  // namespace

void to_json(nlohmann::json& j, const ResolvedMeasure& m) {
  j = nlohmann::json{{"name", m.name},       {"kind", to_string(m.kind)}, {"unit", m.unit},
                     {"of", m.of},           {"voltage", m.voltage},      {"current", m.current},
                     {"scale", m.scale},     {"from", time_to_json(m.t_from_s)},
                     {"to", time_to_json(m.t_to_s)}, {"at", time_to_json(m.t_at_s)},
                     {"threshold", m.threshold}, {"times", m.times_s}};
}

void from_json(const nlohmann::json& j, ResolvedMeasure& m) {
  m.name = j.at("name").get<std::string>();
  if (!measure_kind_from_string(j.at("kind").get<std::string>(), &m.kind)) {
    throw MeasureError("unknown measure kind " + j.at("kind").dump());
  }
  m.unit = j.at("unit").get<std::string>();
  m.of = j.at("of").get<std::string>();
  m.voltage = j.at("voltage").get<std::string>();
  m.current = j.at("current").get<std::string>();
  m.scale = j.at("scale").get<double>();
  m.t_from_s = time_from_json(j.at("from"));
  m.t_to_s = time_from_json(j.at("to"));
  m.t_at_s = time_from_json(j.at("at"));
  m.threshold = j.at("threshold").get<double>();
  m.times_s = j.at("times").get<std::vector<double>>();
}

}  // namespace gaincell::measure
