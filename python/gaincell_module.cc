// SPDX-License-Identifier: MIT
// gaincell._core, the extension behind the Python package gaincell
// (python/gaincell/__init__.py, docs/python.md): the evaluator on numpy
// arrays, model files and results files.
//
//   import gaincell
//   ev = gaincell.Evaluator("reference", settings={"window": 256})
//   out = ev.forward(Q, K, V)                      # [B, H, T, D] or [B, T, D]
//   out, S, phi = ev.forward(Q, K, V, intermediates=True)
//   s = ev.decode(batch, heads, dim); y = s.step(q, k, v)   # [B, H, D]
#include <algorithm>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/eval/evaluator.h"
#include "gaincell/eval/io.h"
#include "gaincell/fit/model_file.h"
#include "gaincell/spice/outcome.h"
#include "gaincell/store/results_file.h"

namespace py = pybind11;
using namespace pybind11::literals;
using gaincell::eval::Tensor;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

Tensor to_tensor(const FloatArray& a) {
  Tensor t;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) t.shape.push_back(static_cast<std::size_t>(a.shape(i)));
  t.data.assign(a.data(), a.data() + a.size());
  return t;
}

py::array_t<float> to_array(Tensor&& t) {
  std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end());
  py::array_t<float> a(shape);
  std::copy(t.data.begin(), t.data.end(), a.mutable_data());
  return a;
}

// A settings dict {key: value}: each becomes a --set key=<json value>.
gaincell::eval::EvalConfig make_config(const std::string& preset, const py::object& config_file, const py::dict& settings) {
  py::module_ json = py::module_::import("json");
  std::vector<std::string> sets;
  for (const auto& [k, v] : settings) sets.push_back(py::str(k).cast<std::string>() + "=" + json.attr("dumps")(v).cast<std::string>());
  const std::string file = config_file.is_none() ? std::string() : py::str(config_file).cast<std::string>();
  return gaincell::eval::resolve_config(preset, file, sets);
}

py::object json_to_py(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

class PyDecode {
 public:
  PyDecode(gaincell::eval::Evaluator::DecodeSession s, std::size_t n) : s_(std::move(s)), n_(n) {}
  py::array_t<float> step(const FloatArray& q, const FloatArray& k, const FloatArray& v) {
    for (const auto* a : {&q, &k, &v}) {
      if (static_cast<std::size_t>(a->size()) != n_) {
        throw py::value_error("decode step: q, k and v must each hold batch * heads * dim = " + std::to_string(n_) + " values");
      }
    }
    std::vector<py::ssize_t> shape(q.shape(), q.shape() + q.ndim());
    py::array_t<float> out(shape);
    {
      py::gil_scoped_release release;
      s_.step(q.data(), k.data(), v.data(), out.mutable_data());
    }
    return out;
  }
  std::size_t tokens() const { return s_.tokens(); }

 private:
  gaincell::eval::Evaluator::DecodeSession s_;
  std::size_t n_;
};

// A numpy array of element type T holding the values of v.
template <class T, class U>
py::array_t<T> numpy_array(const std::vector<U>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::transform(v.begin(), v.end(), a.mutable_data(), [](const U& x) { return static_cast<T>(x); });
  return a;
}

py::array_t<double> doubles(const std::vector<double>& v) { return numpy_array<double>(v); }

py::dict variable_dict(const gaincell::fit::Variable& v) {
  return py::dict("name"_a = v.name, "unit"_a = v.unit, "min"_a = v.min, "max"_a = v.max);
}

// A model file (gaincell-model/1) as loaded by the library; the package's
// Model class broadcasts inputs and calls evaluate on rows.
class PyModel {
 public:
  explicit PyModel(const std::string& path) : path_(path), model_(gaincell::fit::load_model_file(path)) {}
  std::string kind() const { return gaincell::fit::kind_name(model_); }
  py::list inputs() const {
    py::list l;
    for (const auto& v : gaincell::fit::info_of(model_).inputs) l.append(variable_dict(v));
    return l;
  }
  py::dict output() const { return variable_dict(gaincell::fit::info_of(model_).output); }
  py::object document() const { return json_to_py(gaincell::fit::to_json(model_)); }
  const std::string& path() const { return path_; }
  // rows: [N, inputs] float64; returns ([N] values, number of inputs clamped).
  py::tuple evaluate(const py::array_t<double, py::array::c_style | py::array::forcecast>& rows) const {
    const std::size_t d = gaincell::fit::info_of(model_).inputs.size();
    if (rows.ndim() != 2 || static_cast<std::size_t>(rows.shape(1)) != d) {
      throw py::value_error("model " + path_ + ": inputs must be an [N, " + std::to_string(d) + "] array");
    }
    const auto n = static_cast<std::size_t>(rows.shape(0));
    py::array_t<double> out(static_cast<py::ssize_t>(n));
    std::size_t clamped = 0;
    const double* x = rows.data();
    double* y = out.mutable_data();
    {
      py::gil_scoped_release release;
      const gaincell::fit::WarningSink count = [&clamped](const std::string&) { ++clamped; };
      for (std::size_t i = 0; i < n; ++i) y[i] = gaincell::fit::evaluate(model_, std::span<const double>(x + i * d, d), count);
    }
    return py::make_tuple(out, clamped);
  }

 private:
  std::string path_;
  gaincell::fit::Model model_;
};

// A results file read by the library, as plain Python objects: the package's
// Results class shapes the flat arrays by the axes.
py::dict read_results(const std::string& path) {
  const gaincell::store::Results r = gaincell::store::read_results(path);
  py::list axes;
  for (const auto& a : r.axes) {
    axes.append(py::dict("name"_a = a.name, "unit"_a = a.unit, "description"_a = a.description,
                         "values"_a = doubles(a.values), "labels"_a = a.labels));
  }
  py::list measures;
  for (const auto& m : r.measures) {
    measures.append(py::dict("name"_a = m.name, "unit"_a = m.unit, "description"_a = m.description,
                             "trace_times_s"_a = doubles(m.trace_times_s), "values"_a = doubles(r.values.at(m.name))));
  }
  return py::dict("axes"_a = axes, "measures"_a = measures, "status"_a = numpy_array<std::uint8_t>(r.status),
                  "messages"_a = r.messages, "parse_time_s"_a = doubles(r.parse_time_s),
                  "run_time_s"_a = doubles(r.run_time_s), "attributes"_a = r.attributes,
                  "point_index"_a = numpy_array<std::int64_t>(r.point_index));
}

py::dict status_names() {
  py::dict d;
  for (auto o : gaincell::spice::all_outcomes()) d[py::int_(static_cast<int>(o))] = std::string(gaincell::spice::to_string(o));
  return d;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "gaincell._core: the extension behind the gaincell package (docs/python.md)";
  m.attr("__version__") = gaincell::build_info().version;
  // Every error names its id, as the CLI prints it ("error GC-1608: ...").
  static py::exception<gaincell::InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<gaincell::IoError> io_error(m, "IoError", PyExc_OSError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gaincell::InputError& e) {
      input_error(e.what());
    } catch (const gaincell::IoError& e) {
      io_error(e.what());
    }
  });
  m.def("presets", &gaincell::eval::preset_names, "Names of the evaluator presets");

  py::class_<gaincell::eval::Evaluator>(m, "Evaluator")
      .def(py::init([](const std::string& preset, const py::object& config, const py::dict& settings) {
             return gaincell::eval::Evaluator(make_config(preset, config, settings));
           }),
           py::arg("preset") = "reference", py::arg("config") = py::none(), py::arg("settings") = py::dict(),
           "An evaluator from a preset, an optional JSON config file and a dict of settings (docs/evaluator.md)")
      .def_property_readonly("config", [](const gaincell::eval::Evaluator& e) { return json_to_py(gaincell::eval::to_json(e.config())); })
      .def_property_readonly("cell", [](const gaincell::eval::Evaluator& e) { return json_to_py(gaincell::eval::cell_json(e.cell())); })
      .def(
          "forward",
          [](const gaincell::eval::Evaluator& e, const FloatArray& q, const FloatArray& k, const FloatArray& v,
             bool intermediates) -> py::object {
            Tensor tq = to_tensor(q), tk = to_tensor(k), tv = to_tensor(v);
            gaincell::eval::EvalResult r;
            {
              py::gil_scoped_release release;
              r = e.forward(tq, tk, tv, intermediates);
            }
            if (!intermediates) return to_array(std::move(r.output));
            return py::make_tuple(to_array(std::move(r.output)), to_array(std::move(r.S)), to_array(std::move(r.phi)));
          },
          py::arg("q"), py::arg("k"), py::arg("v"), py::arg("intermediates") = false,
          "Whole-sequence forward pass; returns output, or (output, S, phi) with intermediates")
      .def(
          "forward_decode",
          [](const gaincell::eval::Evaluator& e, const FloatArray& q, const FloatArray& k, const FloatArray& v) {
            Tensor tq = to_tensor(q), tk = to_tensor(k), tv = to_tensor(v);
            gaincell::eval::EvalResult r;
            {
              py::gil_scoped_release release;
              r = e.forward_decode(tq, tk, tv);
            }
            return to_array(std::move(r.output));
          },
          py::arg("q"), py::arg("k"), py::arg("v"), "The same result computed token by token (decode mode)")
      .def(
          "decode",
          [](const gaincell::eval::Evaluator& e, std::size_t batch, std::size_t heads, std::size_t dim) {
            return PyDecode(e.start_decode(batch, heads, dim), batch * heads * dim);
          },
          py::arg("batch"), py::arg("heads"), py::arg("dim"), py::keep_alive<0, 1>(),
          "A decode session: step(q, k, v) with arrays of batch * heads * dim values per token");

  py::class_<PyModel>(m, "_Model")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def_property_readonly("kind", &PyModel::kind)
      .def_property_readonly("inputs", &PyModel::inputs)
      .def_property_readonly("output", &PyModel::output)
      .def_property_readonly("document", &PyModel::document)
      .def_property_readonly("path", &PyModel::path)
      .def("evaluate", &PyModel::evaluate, py::arg("rows"));
  m.def("_read_results", &read_results, py::arg("path"));
  m.def("_status_names", &status_names);

  py::class_<PyDecode>(m, "DecodeSession")
      .def("step", &PyDecode::step, py::arg("q"), py::arg("k"), py::arg("v"), "Write k, v into the window, read with q")
      .def_property_readonly("tokens", &PyDecode::tokens);
}
