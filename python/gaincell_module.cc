// SPDX-License-Identifier: MIT
// The evaluator for Python (numpy arrays in, numpy arrays out).
//
//   import gaincell
//   ev = gaincell.Evaluator("reference", settings={"window": 256})
//   out = ev.forward(Q, K, V)                      # [B, H, T, D] or [B, T, D]
//   out, S, phi = ev.forward(Q, K, V, intermediates=True)
//   s = ev.decode(batch, heads, dim); y = s.step(q, k, v)   # [B, H, D]
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/eval/evaluator.h"
#include "gaincell/eval/io.h"

namespace py = pybind11;
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
  gaincell::eval::EvalConfig c = gaincell::eval::preset(preset);
  if (!config_file.is_none()) gaincell::eval::apply_config_file(c, py::str(config_file).cast<std::string>());
  py::module_ json = py::module_::import("json");
  for (const auto& [k, v] : settings) {
    const std::string key = py::str(k);
    const std::string value = json.attr("dumps")(v).cast<std::string>();
    gaincell::eval::apply_setting(c, key + "=" + value);
  }
  gaincell::eval::validate(c);
  return c;
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

}  // namespace

PYBIND11_MODULE(gaincell, m) {
  m.doc() = "gaincell: the array-level attention evaluator of analog gain-cell attention (docs/python.md)";
  m.attr("__version__") = gaincell::build_info().version;
  py::register_exception<gaincell::InputError>(m, "InputError", PyExc_ValueError);
  py::register_exception<gaincell::IoError>(m, "IoError", PyExc_OSError);
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

  py::class_<PyDecode>(m, "DecodeSession")
      .def("step", &PyDecode::step, py::arg("q"), py::arg("k"), py::arg("v"), "Write k, v into the window, read with q")
      .def_property_readonly("tokens", &PyDecode::tokens);
}
