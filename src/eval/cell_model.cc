// SPDX-License-Identifier: MIT
#include "gaincell/eval/cell_model.h"

#include <cmath>
#include <functional>
#include <numbers>
#include <sstream>

#include <Eigen/Dense>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"

namespace gaincell::eval {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void wrong_model(const fs::path& file, const std::string& expected, const std::string& found) {
  throw InputError("GC-1706", file.string() + ": expected " + expected + "; found " + found);
}

}  // namespace

double ReadCurrentModel::evaluate(double v_store_v, double v_line_v) const {
  if (const auto* pp = std::get_if<fit::PaperPolyModel>(&model)) {
    // Charge per second of pulse = current.
    const auto a = pp->collapsed();
    const double x = v_store_v - pp->offset_v();
    return a[0] + x * (a[1] + x * (a[2] + x * a[3]));
  }
  if (two_inputs) {
    const double in[2] = {v_store_v, v_line_v};
    return fit::evaluate(model, in);
  }
  const double in[1] = {v_store_v};
  return fit::evaluate(model, in);
}

ReadCurrentModel load_read_current_model(const fs::path& file) {
  ReadCurrentModel m{fit::load_model_file(file), false};
  const fit::ModelInfo& info = fit::info_of(m.model);
  const std::string kind = fit::kind_name(m.model);
  if (std::holds_alternative<fit::PaperPolyModel>(m.model)) {
    if (info.output.unit != "C") wrong_model(file, "a paper_poly model of charge (unit C)", "unit " + info.output.unit);
    return m;
  }
  if (!std::holds_alternative<fit::LutModel>(m.model) && !std::holds_alternative<fit::PolyModel>(m.model)) {
    wrong_model(file, "a read-current model (kind lut, poly or paper_poly)", "kind " + kind);
  }
  if (info.output.unit != "A") {
    wrong_model(file, "a read current in A as the output", info.output.name + " [" + info.output.unit + "]");
  }
  if (info.inputs.size() == 2) {
    m.two_inputs = true;
  } else if (info.inputs.size() != 1) {
    wrong_model(file, "inputs (v_store) or (v_store, v_line) in V", std::to_string(info.inputs.size()) + " inputs");
  }
  for (const auto& in : info.inputs) {
    if (in.unit != "V") wrong_model(file, "inputs in V (v_store[, v_line])", in.name + " [" + in.unit + "]");
  }
  return m;
}

std::vector<std::string> check_models_for_card(const EvalConfig& c, const cell::CellCard& card) {
  std::vector<std::string> notes;
  const std::pair<const fs::path*, const cell::SubcktBinding*> pairs[] = {{&c.cell_model, &card.cell},
                                                                          {&c.c2p_model, &card.converter}};
  for (const auto& [model_path, binding] : pairs) {
    const char* key = model_path == &c.cell_model ? "cell_model" : "c2p_model";
    if (model_path->empty()) {
      throw InputError("GC-1703", std::string("evaluator configuration: cell ") + card.name + " needs " + key +
                                      ": a model fitted to this cell's sweeps (gaincell flow " + card.path.filename().string() +
                                      " makes them); the presets' models are the default cell's");
    }
    const fit::Model model = fit::load_model_file(*model_path);
    const nlohmann::json& prov = fit::info_of(model).provenance;
    if (!prov.contains("include_sha256") || !prov["include_sha256"].is_string()) {
      notes.push_back(std::string(key) + " " + model_path->string() +
                      " records no hashes of the files its data's netlist read: cannot check it belongs to " + card.name);
      continue;
    }
    const std::string want = sha256_file(binding->file);
    std::istringstream lines(prov["include_sha256"].get<std::string>());
    bool found = false;
    for (std::string line; std::getline(lines, line);) {
      const auto space = line.rfind(' ');
      if (space != std::string::npos && line.substr(space + 1) == want) found = true;
    }
    if (!found) {
      throw InputError("GC-1716", model_path->string() + ": " + key + " was fitted to data whose netlist did not read " +
                                      binding->file.string() + " (the " + (model_path == &c.cell_model ? "cell" : "converter") +
                                      " of card " + card.name + "; compared by SHA-256): it describes another circuit");
    }
  }
  return notes;
}

namespace {

// The authors' cubic (poly) or the linear cell, in the reference's own units.
CellMapping reference_mapping(const EvalConfig& c) {
  CellMapping m;
  m.offset_v = c.offset_v;
  if (c.cell == CellKind::kLinear) {
    m.a = {0.0, c.linear_gain};
    m.note = "linear cell, gain " + std::to_string(c.linear_gain);
    return m;
  }
  // a_i = sum_j C_ij vin^j with vin^j as the reference computes it (vin ** j).
  m.a.assign(4, 0.0);
  int idx = 0;
  for (int i = 0; i <= 3; ++i) {
    for (int j = 0; j <= 3 - i; ++j) m.a[static_cast<std::size_t>(i)] += c.poly_coefficients[static_cast<std::size_t>(idx++)] * std::pow(c.vin_v, j);
  }
  m.note = "the authors' cubic, collapsed at vin = " + std::to_string(c.vin_v) + " V";
  return m;
}

// The physical scale from the C2P's HardSigmoid fit: t_max, Q0, Q_sat, the
// pulse floor, and q_unit = (Q_sat - Q0) / s_sat.
void map_c2p(const EvalConfig& c, CellMapping& m) {
  const fit::Model c2p = fit::load_model_file(c.c2p_model);
  const auto* hs = std::get_if<fit::HardSigmoidModel>(&c2p);
  if (hs == nullptr) wrong_model(c.c2p_model, "a hard_sigmoid C2P model (pulse width vs charge)", "kind " + fit::kind_name(c2p));
  const fit::ModelInfo& hinfo = hs->info();
  if (hinfo.inputs.size() != 1 || hinfo.inputs[0].unit != "C" || hinfo.output.unit != "s") {
    wrong_model(c.c2p_model, "a C2P model with input charge [C] and output pulse width [s]",
                hinfo.inputs.empty() ? "no inputs" : hinfo.inputs[0].unit + " -> " + hinfo.output.unit);
  }
  m.physical = true;
  m.t_max_s = hs->y_sat();
  m.q0_c = hs->x0();
  m.q_sat_c = hs->x_sat();
  m.phi_lo = hs->y_low() / hs->y_sat();
  m.q_unit_c = (m.q_sat_c - m.q0_c) / c.s_sat;
  m.q2_full_scale_c = c.stage2_scale * m.q_unit_c;
  if (!(m.t_max_s > 0) || !(m.q_unit_c > 0)) {
    wrong_model(c.c2p_model, "a rising HardSigmoid (x_sat > x0, y_sat > 0)", "x0 " + std::to_string(m.q0_c) + " C, x_sat " + std::to_string(m.q_sat_c) + " C");
  }
}

// A current I(w) projected by least squares on (w - offset)^i, i <= degree,
// over [lo, hi] (Chebyshev nodes), with its error on a fine grid.
struct Projection {
  std::vector<double> a_amp;  // A / V^i
  double max_error_a = 0, rms_error_a = 0, full_scale_a = 0;
};

Projection project_current(const std::function<double(double)>& current, int degree, double lo, double hi, double offset_v) {
  const int n_nodes = 64 * (degree + 1);
  Eigen::MatrixXd A(n_nodes, degree + 1);
  Eigen::VectorXd b(n_nodes);
  const double half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
  // Columns scaled by half^i for conditioning.
  for (int r = 0; r < n_nodes; ++r) {
    const double w = mid + half * std::cos(std::numbers::pi * (r + 0.5) / n_nodes);
    const double x = (w - offset_v) / half;
    double p = 1.0;
    for (int i = 0; i <= degree; ++i) {
      A(r, i) = p;
      p *= x;
    }
    b(r) = current(w);
  }
  const Eigen::VectorXd sol = A.colPivHouseholderQr().solve(b);
  Projection pr;
  pr.a_amp.resize(static_cast<std::size_t>(degree) + 1);
  for (int i = 0; i <= degree; ++i) pr.a_amp[static_cast<std::size_t>(i)] = sol(i) / std::pow(half, i);
  double sum2 = 0;
  const int n_check = 2001;
  for (int r = 0; r < n_check; ++r) {
    const double w = lo + (hi - lo) * r / (n_check - 1);
    const double truth = current(w);
    double y = 0, x = w - offset_v;
    for (int i = degree; i >= 0; --i) y = y * x + pr.a_amp[static_cast<std::size_t>(i)];
    pr.max_error_a = std::max(pr.max_error_a, std::abs(y - truth));
    sum2 += (y - truth) * (y - truth);
    pr.full_scale_a = std::max(pr.full_scale_a, std::abs(truth));
  }
  pr.rms_error_a = std::sqrt(sum2 / n_check);
  return pr;
}

std::string physical_note(const EvalConfig& c, const CellMapping& m, double line) {
  std::ostringstream note;
  note << "fitted read current (" << m.cell_model_kind << ", " << c.cell_model.filename().string() << ") at v_line = "
       << line << " V" << (c.sign_scheme == cell::SignScheme::kSigned ? std::string() : ", " + cell::to_string(c.sign_scheme) + " around " + std::to_string(c.offset_v) + " V")
       << ", projected on degree " << c.projection_degree << " in (w - " << c.offset_v << " V): max error "
       << m.projection_max_error_a * 1e9 << " nA (" << 100.0 * m.projection_max_error_a / m.current_full_scale_a << " % of "
       << m.current_full_scale_a * 1e6 << " uA); C2P Q_sat " << m.q_sat_c * 1e12 << " pC, t_max " << m.t_max_s * 1e9
       << " ns, q_unit " << m.q_unit_c * 1e15 << " fC";
  return note.str();
}

}  // namespace

CellMapping make_cell_mapping(const EvalConfig& c) {
  if (c.cell == CellKind::kPoly || c.cell == CellKind::kLinear) return reference_mapping(c);
  CellMapping m;
  m.offset_v = c.offset_v;
  const ReadCurrentModel cell = load_read_current_model(c.cell_model);
  map_c2p(c, m);
  m.cell_model_kind = fit::kind_name(cell.model);
  // The signed current a key column contributes at the line level: the
  // cell's, minus its reference cell's (storing offset_v) or its complement's
  // (2 offset_v - w).
  const double line = c.line_level_v();
  auto effective = [&](double w) {
    double i = cell.evaluate(w, line);
    if (c.sign_scheme == cell::SignScheme::kReferenceColumn) i -= cell.evaluate(c.offset_v, line);
    if (c.sign_scheme == cell::SignScheme::kDifferential) i -= cell.evaluate(2.0 * c.offset_v - w, line);
    return i;
  };
  const Projection pr = project_current(effective, c.projection_degree, c.clamp_kv[0], c.clamp_kv[1], c.offset_v);
  m.projection_max_error_a = pr.max_error_a;
  m.projection_rms_error_a = pr.rms_error_a;
  m.current_full_scale_a = pr.full_scale_a;
  const double to_ref = m.t_max_s / m.q_unit_c;  // A -> reference units
  m.a.resize(pr.a_amp.size());
  for (std::size_t i = 0; i < pr.a_amp.size(); ++i) m.a[i] = pr.a_amp[i] * to_ref;
  m.note = physical_note(c, m, line);
  return m;
}

}  // namespace gaincell::eval
