// SPDX-License-Identifier: MIT
#include "gaincell/fit/data_source.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/netlist/si_value.h"
#include "gaincell/store/h5.h"
#include "gaincell/store/results_file.h"

#include <hdf5.h>
#include <hdf5_hl.h>

namespace gaincell::fit {
namespace {

[[noreturn]] void unknown(const std::string& file, const std::string& name, const std::string& have) {
  throw InputError("GC-1611", file + ": error GC-1611: no axis, measure or column named '" + name + "'; it has: " + have);
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

}  // namespace

FitData load_results_data(const std::filesystem::path& path, const FitRequest& req, DataReport* report) {
  const store::Results r = store::read_results(path);
  const std::string file = path.string();
  std::string have;
  for (const auto& a : r.axes) have += (have.empty() ? "" : ", ") + a.name + " (axis)";
  for (const auto& m : r.measures) have += (have.empty() ? "" : ", ") + m.name + " (measure)";

  const std::size_t n = r.size();
  std::vector<std::size_t> shape;
  for (const auto& a : r.axes) shape.push_back(a.values.size());
  // Coordinates of point k along axis d.
  auto coordinate = [&](std::size_t k, std::size_t d) {
    for (std::size_t e = shape.size(); e-- > d + 1;) k /= shape[e];
    return r.axes[d].values[k % shape[d]];
  };
  auto axis_of = [&](const std::string& name) -> int {
    for (std::size_t d = 0; d < r.axes.size(); ++d) {
      if (r.axes[d].name == name) return static_cast<int>(d);
    }
    return -1;
  };
  auto measure_of = [&](const std::string& name) -> const store::MeasureInfo* {
    for (const auto& m : r.measures) {
      if (m.name == name) return &m;
    }
    return nullptr;
  };

  const store::MeasureInfo* out = measure_of(req.output);
  if (out == nullptr) unknown(file, req.output, have);
  const bool trace = !out->trace_times_s.empty();

  // Which points pass the `where` filter.
  std::vector<bool> keep(n, true);
  for (const auto& condition : req.where) {
    const std::string& name = condition.first;
    const double value = condition.second;  // (clang 14 cannot capture a structured binding)
    const int d = axis_of(name);
    if (d < 0) unknown(file, name, have);
    const auto& values = r.axes[static_cast<std::size_t>(d)].values;
    if (std::none_of(values.begin(), values.end(), [&](double v) { return std::abs(v - value) <= 1e-12 * std::max(1.0, std::abs(v)); })) {
      throw InputError("GC-1611", file + ": error GC-1611: " + name + " = " + netlist::format_exact(value) +
                                      " is not a value of that axis");
    }
    for (std::size_t k = 0; k < n; ++k) {
      const double c = coordinate(k, static_cast<std::size_t>(d));
      if (std::abs(c - value) > 1e-12 * std::max(1.0, std::abs(c))) keep[k] = false;
    }
  }

  FitData data;
  data.output = {out->name, out->unit, {}};
  std::vector<const std::vector<double>*> sources;  // per input: a measure's values, or null for an axis
  std::vector<int> axes;
  for (const auto& name : req.inputs) {
    const int d = axis_of(name);
    const store::MeasureInfo* m = measure_of(name);
    if (d < 0 && m == nullptr && !(trace && name == req.output + "_time_s")) unknown(file, name, have);
    if (m != nullptr && !m->trace_times_s.empty()) {
      throw InputError("GC-1611", file + ": error GC-1611: '" + name + "' is a trace; only the output may be one");
    }
    axes.push_back(d);
    sources.push_back(m != nullptr ? &r.values.at(name) : nullptr);
    data.inputs.push_back({name, d >= 0 ? r.axes[static_cast<std::size_t>(d)].unit : (m != nullptr ? m->unit : "s"), {}});
  }

  DataReport rep;
  rep.points_total = n;
  const auto& y = r.values.at(out->name);
  const std::size_t width = trace ? out->trace_times_s.size() : 1;
  for (std::size_t k = 0; k < n; ++k) {
    if (!keep[k]) {
      ++rep.points_filtered;
      continue;
    }
    if (r.status[k] != spice::SimOutcome::kOk) {
      ++rep.points_failed;
      continue;
    }
    for (std::size_t s = 0; s < width; ++s) {
      for (std::size_t i = 0; i < req.inputs.size(); ++i) {
        double v;
        if (axes[i] >= 0) {
          v = coordinate(k, static_cast<std::size_t>(axes[i]));
        } else if (sources[i] != nullptr) {
          v = (*sources[i])[k];
        } else {
          v = out->trace_times_s[s];  // the trace's own time
        }
        data.inputs[i].values.push_back(v);
      }
      data.output.values.push_back(y[k * width + s]);
    }
  }
  if (data.output.values.empty()) {
    throw InputError("GC-1611", file + ": error GC-1611: no point left to fit (" + std::to_string(rep.points_failed) +
                                    " failed, " + std::to_string(rep.points_filtered) + " filtered out of " +
                                    std::to_string(n) + ")");
  }
  rep.source_sha256 = sha256_file(path);
  for (const char* key : {"spec_name", "spec_sha256", "template_sha256", "include_sha256", "ngspice_version", "gaincell_version"}) {
    if (r.attributes.count(key)) rep.provenance[key] = r.attributes.at(key);
  }
  if (report != nullptr) *report = rep;
  return data;
}

FitData load_hdf5_data(const std::filesystem::path& path, const FitRequest& req, DataReport* report) {
  const std::string file = path.string();
  h5::Handle f = h5::open_file(file, false);
  if (h5::has_attribute(f.id(), "gaincell_format")) return load_results_data(path, req, report);
  if (H5Lexists(f.id(), req.output.c_str(), H5P_DEFAULT) <= 0) {
    throw InputError("GC-1611", file + ": error GC-1611: no dataset '" + req.output + "'");
  }
  h5::Handle out = h5::open_dataset(f.id(), req.output);
  const auto shape = h5::dataset_shape(out.id());
  auto unit_of = [](hid_t obj) { return h5::has_attribute(obj, "units") ? h5::read_string_attribute(obj, "units") : std::string("1"); };
  // The scales attached to each dimension: name (last path component) and values.
  std::vector<std::pair<std::string, std::vector<double>>> scales(shape.size());
  std::vector<std::string> scale_units(shape.size());
  for (unsigned d = 0; d < shape.size(); ++d) {
    struct Found {
      std::string name, unit;
      std::vector<double> values;
    } found;
    auto visit = [](hid_t, unsigned, hid_t scale, void* data) -> herr_t {
      auto* fnd = static_cast<Found*>(data);
      char name[512] = {};
      H5Iget_name(scale, name, sizeof name);
      std::string full = name;
      fnd->name = full.substr(full.find_last_of('/') + 1);
      fnd->values = h5::read_doubles(scale);
      fnd->unit = h5::has_attribute(scale, "units") ? h5::read_string_attribute(scale, "units") : "1";
      return 1;  // the first scale is enough
    };
    if (H5DSget_num_scales(out.id(), d) <= 0 || H5DSiterate_scales(out.id(), d, nullptr, visit, &found) < 0) {
      throw InputError("GC-1611", file + ": error GC-1611: dimension " + std::to_string(d) + " of '" + req.output +
                                      "' has no dimension scale attached (name the axes with H5DS / h5py dims)");
    }
    if (found.values.size() != shape[d]) {
      throw InputError("GC-1611", file + ": error GC-1611: dimension " + std::to_string(d) + " of '" + req.output +
                                      "' has " + std::to_string(shape[d]) + " entries but its scale '" + found.name +
                                      "' has " + std::to_string(found.values.size()) + " values");
    }
    scales[d] = {found.name, found.values};
    scale_units[d] = found.unit;
  }
  std::size_t n = 1;
  for (auto s : shape) {
    if (s == 0 || s > limits::kMaxPoints / n) {
      throw InputError("GC-1611", file + ": error GC-1611: '" + req.output + "' is empty or holds more than " +
                                      std::to_string(limits::kMaxPoints) + " points");
    }
    n *= s;
  }
  FitData data;
  data.output = {req.output.substr(req.output.find_last_of('/') + 1), unit_of(out.id()), h5::read_doubles(out.id())};
  for (const auto& name : req.inputs) {
    Column col{name, "1", {}};
    int axis = -1;
    for (std::size_t d = 0; d < scales.size(); ++d) {
      if (scales[d].first == name) axis = static_cast<int>(d);
    }
    if (axis >= 0) {
      col.unit = scale_units[static_cast<std::size_t>(axis)];
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t rest = k;
        for (std::size_t d = shape.size(); d-- > static_cast<std::size_t>(axis) + 1;) rest /= shape[d];
        col.values.push_back(scales[static_cast<std::size_t>(axis)].second[rest % shape[static_cast<std::size_t>(axis)]]);
      }
    } else if (H5Lexists(f.id(), name.c_str(), H5P_DEFAULT) > 0) {
      h5::Handle ds = h5::open_dataset(f.id(), name);
      if (h5::dataset_shape(ds.id()) != shape) {
        throw InputError("GC-1611", file + ": error GC-1611: '" + name + "' is not shaped like '" + req.output + "'");
      }
      col.unit = unit_of(ds.id());
      col.values = h5::read_doubles(ds.id());
    } else {
      std::string have;
      for (const auto& s2 : scales) have += (have.empty() ? "" : ", ") + s2.first;
      throw InputError("GC-1611", file + ": error GC-1611: no axis or dataset named '" + name + "'; the axes of '" +
                                      req.output + "' are: " + have);
    }
    data.inputs.push_back(std::move(col));
  }
  if (!req.where.empty()) {
    throw InputError("GC-1611", file + ": error GC-1611: --where applies to gaincell results files");
  }
  if (report != nullptr) {
    report->points_total = n;
    report->source_sha256 = sha256_file(path);
  }
  return data;
}

FitData load_csv_data(const std::filesystem::path& path, const FitRequest& req, DataReport* report) {
  const std::string file = path.string();
  std::istringstream in(read_text_file(path));
  std::string line;
  int line_no = 0;
  std::vector<std::pair<std::string, std::string>> header;  // name, unit
  std::vector<std::vector<double>> columns;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(t);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(trim(cell));
    if (header.empty()) {
      for (const auto& c : cells) {
        const auto open = c.find('['), close = c.rfind(']');
        if (open != std::string::npos && close != std::string::npos && close > open) {
          header.emplace_back(trim(c.substr(0, open)), trim(c.substr(open + 1, close - open - 1)));
        } else {
          header.emplace_back(c, "1");
        }
        if (header.back().first.empty()) {
          throw_input_error({file, line_no, 0, ""}, "GC-1612", "empty column name in the header",
                            "write the header as name[unit],name[unit],...");
        }
      }
      columns.resize(header.size());
      continue;
    }
    if (cells.size() != header.size()) {
      throw_input_error({file, line_no, 0, ""}, "GC-1612",
                        "expected " + std::to_string(header.size()) + " values, found " + std::to_string(cells.size()));
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string low = [&] {
        std::string s = cells[c];
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        return s;
      }();
      if (low == "nan" || low.empty()) {
        columns[c].push_back(std::nan(""));  // a failed point elsewhere: excluded by the fit
        continue;
      }
      std::string why;
      auto v = netlist::try_parse_si(cells[c], &why);
      if (!v) throw_input_error({file, line_no, static_cast<int>(c + 1), ""}, "GC-1612", "column '" + header[c].first + "': " + why);
      columns[c].push_back(*v);
    }
  }
  if (header.empty()) throw_input_error({file, 0, 0, ""}, "GC-1612", "no header row", "first line: name[unit],...");
  std::string have;
  for (const auto& h : header) have += (have.empty() ? "" : ", ") + h.first;
  auto column = [&](const std::string& name) -> Column {
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (header[c].first == name) return {name, header[c].second, columns[c]};
    }
    unknown(file, name, have);
  };
  FitData data;
  for (const auto& name : req.inputs) data.inputs.push_back(column(name));
  data.output = column(req.output);
  if (!req.where.empty()) {
    throw InputError("GC-1611", file + ": error GC-1611: --where selects axes of results files; filter the CSV instead");
  }
  if (report != nullptr) {
    report->points_total = data.output.values.size();
    report->source_sha256 = sha256_file(path);
  }
  return data;
}

}  // namespace gaincell::fit
