// SPDX-License-Identifier: MIT
#include "gaincell/eval/io.h"

#include <hdf5.h>

#include <functional>
#include <map>

#include "gaincell/core/build_info.h"
#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/limits.h"
#include "store/h5.h"

namespace gaincell::eval {
namespace {

namespace fs = std::filesystem;

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

// The named netCDF-4 dimensions of an output file (docs/hdf5_layout.md):
// each is created once, on the root group, at the length of its first use.
class Dimensions {
 public:
  explicit Dimensions(hid_t root) : root_(root) {}
  // [batch, (head,) query, last]: `last` is "dim" for output, "key" for S and phi.
  std::vector<hid_t> of(const Tensor& t, const char* last) {
    GC_CHECK(t.shape.size() == 3 || t.shape.size() == 4) << "an output tensor of rank " << t.shape.size();
    std::vector<const char*> names = {"batch", "head", "query", last};
    if (t.shape.size() == 3) names.erase(names.begin() + 1);
    std::vector<hid_t> ids;
    for (std::size_t d = 0; d < names.size(); ++d) ids.push_back(get(names[d], t.shape[d]));
    return ids;
  }

 private:
  hid_t get(const std::string& name, std::size_t size) {
    auto it = dims_.find(name);
    if (it == dims_.end()) it = dims_.emplace(name, h5::create_dimension(root_, name, size)).first;
    GC_CHECK(h5::dataset_shape(it->second.id()) == std::vector<hsize_t>{size}) << "dimension " << name << " of two lengths";
    return it->second.id();
  }
  hid_t root_;
  std::map<std::string, h5::Handle> dims_;
};

void write_dataset(hid_t file, const std::string& name, const Tensor& t, const std::vector<hid_t>& dimensions = {}) {
  std::vector<hsize_t> dims(t.shape.begin(), t.shape.end());
  h5::Handle space = h5::simple_space(dims);
  h5::Handle dcpl(h5::check(H5Pcreate(H5P_DATASET_CREATE), "dataset properties"), H5Pclose);
  if (t.size() >= 4096) {
    // Chunked by rows of the last two dimensions, gzip level 1: S and phi are
    // mostly zeros outside the window.
    std::vector<hsize_t> chunk(dims.size(), 1);
    chunk.back() = dims.back();
    if (dims.size() >= 2) chunk[dims.size() - 2] = std::min<hsize_t>(dims[dims.size() - 2], 64);
    h5::check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), "chunking");
    h5::check(H5Pset_deflate(dcpl.id(), 1), "compression");
  }
  h5::Handle ds(h5::check(H5Dcreate2(file, name.c_str(), H5T_IEEE_F32LE, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
                          "cannot create dataset " + name),
                H5Dclose);
  h5::check(H5Dwrite(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()), "cannot write " + name);
  h5::attach_dimensions(ds.id(), dimensions, name);
}

// Writes FILE.partial with `write`, then renames it to FILE: a killed process
// leaves the old file (or none), never a truncated one.
void write_file(const fs::path& file, const std::function<void(hid_t)>& write) {
  h5::silence_hdf5_errors();
  check_output_file(file);
  const fs::path partial = file.string() + ".partial";
  {
    h5::Handle f = h5::create_file(partial.string());
    write(f.id());
    f.close();
  }
  fs::rename(partial, file);
}

}  // namespace

Tensor read_tensor(const fs::path& file, const std::string& name) {
  h5::silence_hdf5_errors();
  h5::Handle f = h5::open_file(file.string(), false);
  if (H5Lexists(f.id(), name.c_str(), H5P_DEFAULT) <= 0) {
    std::vector<std::string> names;
    H5Literate(f.id(), H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, collect_name, &names);
    std::string found;
    for (const auto& n : names) found += (found.empty() ? "" : ", ") + n;
    throw InputError("GC-1711", file.string() + ": no dataset \"" + name +
                                    "\" (expected Q, K, V shaped [batch, head, token, dim] or [batch, token, dim]); found: " +
                                    (found.empty() ? "nothing" : found));
  }
  h5::Handle ds = h5::open_dataset(f.id(), name);
  Tensor t;
  std::size_t elements = 1;
  for (auto d : h5::dataset_shape(ds.id())) {
    t.shape.push_back(static_cast<std::size_t>(d));
    if (d != 0 && elements > limits::kMaxTensorElements / d) {
      throw InputError("GC-1707", file.string() + ": dataset " + name + " holds more than " +
                                      std::to_string(limits::kMaxTensorElements) +
                                      " values (limits::kMaxTensorElements, docs/cli.md#limits)");
    }
    elements *= static_cast<std::size_t>(d);
  }
  h5::Handle type(h5::check(H5Dget_type(ds.id()), "H5Dget_type"), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.id());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    throw InputError("GC-1707", file.string() + ": dataset " + name + " is not numeric");
  }
  t.data.resize(t.size());
  h5::check(H5Dread(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()),
            file.string() + ": cannot read dataset " + name + " as float32");
  return t;
}

void write_tensors(const fs::path& file, const std::vector<std::pair<std::string, const Tensor*>>& tensors) {
  write_file(file, [&](hid_t f) {
    for (const auto& [name, t] : tensors) write_dataset(f, name, *t);
  });
}

nlohmann::json cell_json(const CellMapping& c) {
  nlohmann::json j{{"coefficients_ref", c.a}, {"offset_v", c.offset_v}, {"physical", c.physical}, {"note", c.note}};
  if (c.physical) {
    j["t_max_s"] = c.t_max_s;
    j["q_unit_c"] = c.q_unit_c;
    j["q_sat_c"] = c.q_sat_c;
    j["q0_c"] = c.q0_c;
    j["phi_lo"] = c.phi_lo;
    j["q2_full_scale_c"] = c.q2_full_scale_c;
    j["projection_max_error_a"] = c.projection_max_error_a;
    j["projection_rms_error_a"] = c.projection_rms_error_a;
    j["current_full_scale_a"] = c.current_full_scale_a;
    j["cell_model_kind"] = c.cell_model_kind;
  }
  return j;
}

void write_eval_results(const fs::path& file, const EvalResult& r, const Evaluator& ev, const nlohmann::json& meta) {
  write_file(file, [&](hid_t f) {
    {
      Dimensions dims(f);  // closed before the file, so that its close writes everything
      write_dataset(f, "output", r.output, dims.of(r.output, "dim"));
      if (!r.S.data.empty()) write_dataset(f, "S", r.S, dims.of(r.S, "key"));
      if (!r.phi.data.empty()) write_dataset(f, "phi", r.phi, dims.of(r.phi, "key"));
    }
    h5::write_string_attribute(f, "gaincell_format", kEvalFormat);
    h5::write_string_attribute(f, "gaincell_version", build_info().version + " (" + build_info().git_sha + ")");
    h5::write_string_attribute(f, "config", to_json(ev.config()).dump());
    h5::write_string_attribute(f, "cell", cell_json(ev.cell()).dump());
    h5::write_string_attribute(f, "run", meta.dump());
  });
}

}  // namespace gaincell::eval
