// SPDX-License-Identifier: MIT
// The authors' adaptation loop on the evaluator's per-head scalers
// (docs/calibration.md).
#include "gaincell/eval/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"

namespace gaincell::eval {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Two passes (mean, then squared deviations) for accuracy on offset data.
void head_stats(const Tensor& t, std::size_t head, const std::function<double(float)>& f, double& mean, double& sd) {
  const std::size_t B = t.shape[0], H = t.shape[1], T = t.shape[2], D = t.shape[3];
  const std::size_t block = T * D;
  double sum = 0;
  for (std::size_t b = 0; b < B; ++b) {
    const float* p = t.data.data() + (b * H + head) * block;
    for (std::size_t i = 0; i < block; ++i) sum += f(p[i]);
  }
  const double n = static_cast<double>(B * block);
  mean = sum / n;
  double ss = 0;
  for (std::size_t b = 0; b < B; ++b) {
    const float* p = t.data.data() + (b * H + head) * block;
    for (std::size_t i = 0; i < block; ++i) {
      const double d = f(p[i]) - mean;
      ss += d * d;
    }
  }
  sd = n > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
}

Scaler per_head(const Scaler& s, std::size_t heads) {
  Scaler out;
  out.a.resize(heads);
  out.b.resize(heads);
  for (std::size_t h = 0; h < heads; ++h) {
    out.a[h] = s.a_of(h);
    out.b[h] = s.b_of(h);
  }
  return out;
}

void check_rank4(const Tensor& q) {
  if (q.shape.size() != 4) {
    throw InputError("GC-1731", "calibration needs Q, K, V shaped [batch, head, token, dim] (rank 4), got rank " +
                                    std::to_string(q.shape.size()),
                     "per-head scalers need a head axis; reshape [batch, token, dim] to [batch, 1, token, dim]");
  }
}

std::string error_place(const WorstError& w) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s head %zu %s: measured %.6g, target %.6g, |error| %.3g",
                kScalerNames[static_cast<int>(w.scaler)], w.head, w.is_std ? "std" : "mean", w.measured, w.target,
                w.error);
  return buf;
}

}  // namespace

double damping_alpha(const CalibrationOptions& o, int k) {
  if (k >= o.damping_iterations) return o.alpha_end;
  if (o.damping_iterations <= 1) return o.alpha_start;
  return o.alpha_start + (o.alpha_end - o.alpha_start) * static_cast<double>(k) / (o.damping_iterations - 1);
}

void update_scalers(std::array<Scaler, 4>& scalers, const ScalerStats& m, const ScalerStats& t, double alpha,
                    double tol) {
  for (std::size_t s = 0; s < 4; ++s) {
    Scaler& sc = scalers[s];
    for (std::size_t h = 0; h < sc.a.size(); ++h) {
      const double sd = m.std[s][h], mu = m.mean[s][h];
      if (std::abs(sd - t.std[s][h]) > tol && sd != 0.0) {
        sc.a[h] = alpha * (sc.a[h] * t.std[s][h] / sd) + (1 - alpha) * sc.a[h];
      }
      if (std::abs(mu - t.mean[s][h]) > tol) {
        sc.b[h] = alpha * (sc.b[h] + t.mean[s][h] - mu) + (1 - alpha) * sc.b[h];
      }
    }
  }
}

WorstError worst_error(const ScalerStats& m, const ScalerStats& t) {
  WorstError w;
  w.error = -1;
  for (std::size_t s = 0; s < 4; ++s) {
    for (std::size_t h = 0; h < t.mean[s].size(); ++h) {
      for (bool is_std : {true, false}) {
        const double x = is_std ? m.std[s][h] : m.mean[s][h];
        const double y = is_std ? t.std[s][h] : t.mean[s][h];
        const double e = std::abs(x - y);
        if (e > w.error || std::isnan(e)) {
          w = {static_cast<Which>(s), h, is_std, e, x, y};
          if (std::isnan(e)) return w;
        }
      }
    }
  }
  return w;
}

std::string CalibrationResult::summary() const {
  char buf[120];
  if (converged) {
    std::snprintf(buf, sizeof buf, "converged after %d iterations; largest error ", iterations);
  } else {
    std::snprintf(buf, sizeof buf, "not converged after %d iterations; largest error ", iterations);
  }
  return buf + error_place(worst);
}

CalibrationResult calibrate_loop(const Measure& measure, std::array<Scaler, 4> initial, const ScalerStats& targets,
                                 const CalibrationOptions& options, const CalibrationProgress& progress) {
  const std::size_t heads = targets.heads();
  for (std::size_t s = 0; s < 4; ++s) {
    if (targets.mean[s].size() != heads || targets.std[s].size() != heads) {
      throw InputError("GC-1730", std::string("calibration targets of ") + kScalerNames[s] + " have " +
                                      std::to_string(targets.mean[s].size()) + " means and " +
                                      std::to_string(targets.std[s].size()) + " stds, expected " +
                                      std::to_string(heads) + " (one per head)");
    }
    initial[s] = per_head(initial[s], heads);
  }
  CalibrationResult r;
  r.scalers = initial;
  r.targets = targets;
  for (int k = 0;; ++k) {
    const ScalerStats m = measure(r.scalers);
    for (std::size_t s = 0; s < 4; ++s) {
      if (m.mean[s].size() != heads || m.std[s].size() != heads) {
        throw InputError("GC-1730", std::string("the model has ") + std::to_string(m.mean[s].size()) + " heads at " +
                                        kScalerNames[s] + ", the calibration targets " + std::to_string(heads),
                         "record the targets on inputs with the same number of heads");
      }
    }
    r.final_stats = m;
    r.worst = worst_error(m, targets);
    r.iterations = k;
    r.converged = r.worst.error <= options.tolerance;
    const double alpha = damping_alpha(options, k);
    if (progress) progress(k, alpha, r.worst);
    if (r.converged || k >= options.max_iterations) return r;
    update_scalers(r.scalers, m, targets, alpha, options.tolerance);
  }
}

ScalerStats record_stats(const EvalConfig& config, const Tensor& q, const Tensor& k, const Tensor& v,
                         Tensor* output) {
  check_rank4(q);
  const Evaluator ev(config);
  EvalResult out = ev.forward(q, k, v, false);
  const std::size_t H = q.shape[1];
  ScalerStats st;
  const Scaler* in[3] = {&config.scaler_q, &config.scaler_k, &config.scaler_v};
  const Tensor* x[3] = {&q, &k, &v};
  for (std::size_t s = 0; s < 4; ++s) {
    st.mean[s].resize(H);
    st.std[s].resize(H);
    for (std::size_t h = 0; h < H; ++h) {
      if (s < 3) {
        // As prepare_input forms it: float32 a x + b, before the clamp.
        const float a = static_cast<float>(std::max(in[s]->a_of(h), 1e-20));
        const float b = static_cast<float>(in[s]->b_of(h));
        head_stats(*x[s], h, [a, b](float xi) { return static_cast<double>(a * xi + b); }, st.mean[s][h],
                   st.std[s][h]);
      } else {
        head_stats(out.output, h, [](float y) { return static_cast<double>(y); }, st.mean[s][h], st.std[s][h]);
      }
    }
  }
  if (output != nullptr) *output = std::move(out.output);
  return st;
}

EvalConfig with_scalers(EvalConfig config, const std::array<Scaler, 4>& scalers) {
  config.scaler_q = scalers[0];
  config.scaler_k = scalers[1];
  config.scaler_v = scalers[2];
  config.scaler_out = scalers[3];
  return config;
}

CalibrationResult calibrate(const EvalConfig& config, const Tensor& q, const Tensor& k, const Tensor& v,
                            const ScalerStats& targets, const CalibrationOptions& options,
                            const CalibrationProgress& progress, bool from_config) {
  check_rank4(q);
  std::array<Scaler, 4> initial;
  if (from_config) initial = {config.scaler_q, config.scaler_k, config.scaler_v, config.scaler_out};
  const Measure measure = [&](const std::array<Scaler, 4>& s) { return record_stats(with_scalers(config, s), q, k, v); };
  return calibrate_loop(measure, initial, targets, options, progress);
}

json targets_json(const ScalerStats& st) {
  json t = json::object();
  for (std::size_t s = 0; s < 4; ++s) t[kScalerNames[s]] = {{"mean", st.mean[s]}, {"std", st.std[s]}};
  return {{"format", kTargetsFormat}, {"version", kCalibrationFormatVersion}, {"heads", st.heads()}, {"targets", t}};
}

ScalerStats read_targets_file(const fs::path& file) {
  const std::string text = read_text_file(file);
  const json j = parse_json_text(text, file.string(), "GC-1732");
  auto bad = [&](const std::string& ptr, const std::string& msg) {
    return InputError("GC-1733", msg, "the format is in docs/calibration.md (\"targets file\")")
        .at_pointer(ptr)
        .in_file(file.string(), text);
  };
  if (!j.is_object() || j.value("format", json()) != kTargetsFormat) {
    throw bad(j.is_object() && j.contains("format") ? "/format" : "",
              std::string("expected an object with \"format\": \"") + kTargetsFormat + "\"");
  }
  if (j.value("version", json()) != kCalibrationFormatVersion) {
    throw bad(j.contains("version") ? "/version" : "",
              "expected \"version\": " + std::to_string(kCalibrationFormatVersion));
  }
  if (!j.contains("targets") || !j["targets"].is_object()) throw bad("", "expected an object \"targets\"");
  ScalerStats st;
  std::size_t heads = 0;
  for (std::size_t s = 0; s < 4; ++s) {
    const std::string name = kScalerNames[s];
    const std::string ptr = "/targets/" + name;
    if (!j["targets"].contains(name)) throw bad("/targets", "expected the key \"" + name + "\"");
    const json& e = j["targets"][name];
    for (const char* field : {"mean", "std"}) {
      const std::string fp = ptr + "/" + field;
      if (!e.is_object() || !e.contains(field) || !e[field].is_array() || e[field].empty()) {
        throw bad(e.is_object() && e.contains(field) ? fp : ptr,
                  std::string("expected \"") + field + "\": a non-empty list of numbers, one per head");
      }
      std::vector<double>& out = field[0] == 'm' ? st.mean[s] : st.std[s];
      for (std::size_t i = 0; i < e[field].size(); ++i) {
        const json& x = e[field][i];
        if (!x.is_number() || !std::isfinite(x.get<double>()) || (field[0] == 's' && x.get<double>() < 0)) {
          throw bad(fp + "/" + std::to_string(i), std::string("expected a finite number") +
                                                      (field[0] == 's' ? " >= 0" : "") + ", found " + shown_json(x));
        }
        out.push_back(x.get<double>());
      }
      if (heads == 0) heads = out.size();
      if (out.size() != heads) {
        throw bad(fp, "expected " + std::to_string(heads) + " values (one per head, as " +
                          "/targets/scaler_q/mean), found " + std::to_string(out.size()));
      }
    }
  }
  return st;
}

json scalers_json(const CalibrationResult& r) {
  json j{{"format", kScalersFormat}, {"version", kCalibrationFormatVersion}};
  for (std::size_t s = 0; s < 4; ++s) j[kScalerNames[s]] = {{"a", r.scalers[s].a}, {"b", r.scalers[s].b}};
  j["calibration"] = {{"converged", r.converged},
                      {"iterations", r.iterations},
                      {"summary", r.summary()},
                      {"targets", targets_json(r.targets)["targets"]},
                      {"final", targets_json(r.final_stats)["targets"]}};
  return j;
}

void write_scalers_file(const fs::path& file, const CalibrationResult& r) {
  // In the documented order (nlohmann::json sorts keys).
  const json j = scalers_json(r);
  nlohmann::ordered_json o;
  for (const char* key : {"format", "version", "scaler_q", "scaler_k", "scaler_v", "scaler_out", "calibration"}) {
    o[key] = nlohmann::ordered_json::parse(j.at(key).dump());
  }
  write_text_file(file, o.dump(2) + "\n");
}

}  // namespace gaincell::eval
