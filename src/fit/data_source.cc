// SPDX-License-Identifier: MIT
#include "gaincell/fit/data_source.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/strings.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/si_value.h"
#include "store/h5.h"
#include "gaincell/store/results_file.h"
#include "grid.h"

#include <hdf5.h>
#include <hdf5_hl.h>

namespace gaincell::fit {
namespace {

[[noreturn]] void unknown(const std::string& file, const std::string& name, const std::string& have) {
  throw InputError("GC-1611", "no axis, measure or column named '" + name + "'; it has: " + have).in_file(file);
}

std::string trim(std::string_view s) { return std::string(gaincell::trim(s)); }

// ---- gaincell results files -------------------------------------------------

// A results file's points on the grid of its axes.
class ResultsGrid {
 public:
  ResultsGrid(const store::Results& r, std::string file) : r_(r), file_(std::move(file)) {
    for (const auto& a : r.axes) shape_.push_back(a.values.size());
    for (const auto& a : r.axes) have_ += (have_.empty() ? "" : ", ") + a.name + " (axis)";
    for (const auto& m : r.measures) have_ += (have_.empty() ? "" : ", ") + m.name + " (measure)";
  }

  // Coordinate of point k along axis d.
  double coordinate(std::size_t k, std::size_t d) const { return r_.axes[d].values[detail::grid_position(k, shape_, d)]; }
  int axis_of(const std::string& name) const {
    for (std::size_t d = 0; d < r_.axes.size(); ++d) {
      if (r_.axes[d].name == name) return static_cast<int>(d);
    }
    return -1;
  }
  const store::MeasureInfo* measure_of(const std::string& name) const {
    for (const auto& m : r_.measures) {
      if (m.name == name) return &m;
    }
    return nullptr;
  }
  [[noreturn]] void unknown_name(const std::string& name) const { unknown(file_, name, have_); }
  const std::string& file() const { return file_; }

 private:
  const store::Results& r_;
  std::string file_;
  std::vector<std::size_t> shape_;
  std::string have_;
};

// Which points pass the `where` filter; refuses a value not on its axis.
std::vector<bool> where_filter(const store::Results& r, const ResultsGrid& grid, const std::map<std::string, double>& where) {
  const std::size_t n = r.size();
  std::vector<bool> keep(n, true);
  for (const auto& condition : where) {
    const std::string& name = condition.first;
    const double value = condition.second;  // (clang 14 cannot capture a structured binding)
    const int d = grid.axis_of(name);
    if (d < 0) grid.unknown_name(name);
    const auto& values = r.axes[static_cast<std::size_t>(d)].values;
    if (std::none_of(values.begin(), values.end(), [&](double v) { return std::abs(v - value) <= 1e-12 * std::max(1.0, std::abs(v)); })) {
      throw InputError("GC-1611", name + " = " + gaincell::format_exact(value) +
                                      " is not a value of that axis").in_file(grid.file());
    }
    for (std::size_t k = 0; k < n; ++k) {
      const double c = grid.coordinate(k, static_cast<std::size_t>(d));
      if (std::abs(c - value) > 1e-12 * std::max(1.0, std::abs(c))) keep[k] = false;
    }
  }
  return keep;
}

// Where each input's values come from: an axis, a scalar measure, or (the
// trace output's "<output>_time_s") the trace's sample times.
struct InputSource {
  int axis = -1;
  const std::vector<double>* measure = nullptr;
};

std::vector<InputSource> input_sources(const store::Results& r, const ResultsGrid& grid, const FitRequest& req,
                                       const store::MeasureInfo& out, FitData& data) {
  const bool trace = !out.trace_times_s.empty();
  std::vector<InputSource> sources;
  for (const auto& name : req.inputs) {
    const int d = grid.axis_of(name);
    const store::MeasureInfo* m = grid.measure_of(name);
    if (d < 0 && m == nullptr && !(trace && name == req.output + "_time_s")) grid.unknown_name(name);
    if (m != nullptr && !m->trace_times_s.empty()) {
      throw InputError("GC-1611", "'" + name + "' is a trace; only the output may be one").in_file(grid.file());
    }
    sources.push_back({d, m != nullptr ? &r.values.at(name) : nullptr});
    data.inputs.push_back({name, d >= 0 ? r.axes[static_cast<std::size_t>(d)].unit : (m != nullptr ? m->unit : "s"), {}});
  }
  return sources;
}

// The rows of the kept, successful points (a trace: one row per sample),
// counting the filtered and failed ones in `rep`.
void gather_rows(const store::Results& r, const ResultsGrid& grid, const store::MeasureInfo& out,
                 const std::vector<InputSource>& sources, const std::vector<bool>& keep, FitData& data, DataReport& rep) {
  const auto& y = r.values.at(out.name);
  const std::size_t width = out.width();
  for (std::size_t k = 0; k < r.size(); ++k) {
    if (!keep[k]) {
      ++rep.points_filtered;
      continue;
    }
    if (r.status[k] != spice::SimOutcome::kOk) {
      ++rep.points_failed;
      continue;
    }
    for (std::size_t s = 0; s < width; ++s) {
      for (std::size_t i = 0; i < sources.size(); ++i) {
        double v;
        if (sources[i].axis >= 0) {
          v = grid.coordinate(k, static_cast<std::size_t>(sources[i].axis));
        } else if (sources[i].measure != nullptr) {
          v = (*sources[i].measure)[k];
        } else {
          v = out.trace_times_s[s];  // the trace's own time
        }
        data.inputs[i].values.push_back(v);
      }
      data.output.values.push_back(y[k * width + s]);
    }
  }
}

// ---- any HDF5 file with dimension scales ---------------------------------------

std::string units_of(hid_t obj) {
  return h5::has_attribute(obj, "units") ? h5::read_string_attribute(obj, "units") : std::string("1");
}

// A dimension scale: name (the last path component), unit and values.
struct Scale {
  std::string name, unit;
  std::vector<double> values;
};

// The first scale attached to each dimension of `out`; refuses a dimension
// without one or with one of another length (GC-1611).
std::vector<Scale> attached_scales(hid_t out, const std::vector<hsize_t>& shape, const std::string& file,
                                   const std::string& output) {
  std::vector<Scale> scales(shape.size());
  for (unsigned d = 0; d < shape.size(); ++d) {
    auto visit = [](hid_t, unsigned, hid_t scale, void* data) -> herr_t {
      auto* found = static_cast<Scale*>(data);
      char name[512] = {};
      H5Iget_name(scale, name, sizeof name);
      std::string full = name;
      found->name = full.substr(full.find_last_of('/') + 1);
      found->values = h5::read_doubles(scale);
      found->unit = units_of(scale);
      return 1;  // the first scale is enough
    };
    if (H5DSget_num_scales(out, d) <= 0 || H5DSiterate_scales(out, d, nullptr, visit, &scales[d]) < 0) {
      throw InputError("GC-1611", "dimension " + std::to_string(d) + " of '" + output +
                                      "' has no dimension scale attached (name the axes with H5DS / h5py dims)").in_file(file);
    }
    if (scales[d].values.size() != shape[d]) {
      throw InputError("GC-1611", "dimension " + std::to_string(d) + " of '" + output +
                                      "' has " + std::to_string(shape[d]) + " entries but its scale '" + scales[d].name +
                                      "' has " + std::to_string(scales[d].values.size()) + " values").in_file(file);
    }
  }
  return scales;
}

// The number of points of `shape`; refuses none or more than limits::kMaxPoints.
std::size_t point_count(const std::vector<hsize_t>& shape, const std::string& file, const std::string& output) {
  std::size_t n = 1;
  for (auto s : shape) {
    if (s == 0 || s > limits::kMaxPoints / n) {
      throw InputError("GC-1611", "'" + output + "' is empty or holds more than " +
                                      std::to_string(limits::kMaxPoints) + " points").in_file(file);
    }
    n *= s;
  }
  return n;
}

// Input `name`: a scale of the output's dimensions, else a dataset shaped
// like the output.
Column scale_or_dataset(hid_t file_id, const std::string& name, const std::vector<Scale>& scales,
                        const std::vector<hsize_t>& shape, const std::string& file, const std::string& output) {
  Column col{name, "1", {}};
  for (std::size_t d = 0; d < scales.size(); ++d) {
    if (scales[d].name != name) continue;
    col.unit = scales[d].unit;
    col.values.clear();
    const std::size_t n = point_count(shape, file, output);
    for (std::size_t k = 0; k < n; ++k) col.values.push_back(scales[d].values[detail::grid_position(k, shape, d)]);
  }
  if (!col.values.empty()) return col;
  if (H5Lexists(file_id, name.c_str(), H5P_DEFAULT) > 0) {
    h5::Handle ds = h5::open_dataset(file_id, name);
    if (h5::dataset_shape(ds.id()) != shape) {
      throw InputError("GC-1611", "'" + name + "' is not shaped like '" + output + "'").in_file(file);
    }
    col.unit = units_of(ds.id());
    col.values = h5::read_doubles(ds.id());
    return col;
  }
  std::string have;
  for (const auto& s2 : scales) have += (have.empty() ? "" : ", ") + s2.name;
  throw InputError("GC-1611", "no axis or dataset named '" + name + "'; the axes of '" +
                                  output + "' are: " + have).in_file(file);
}

// One comma-separated field of a CSV line: its text, trimmed, and the 1-based
// character column where it starts (for error positions).
struct CsvField {
  std::string text;
  int column = 1;
};

std::vector<CsvField> split_csv_line(const std::string& line) {
  std::vector<CsvField> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::string_view raw =
        std::string_view(line).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t lead = 0;
    while (lead < raw.size() && std::isspace(static_cast<unsigned char>(raw[lead]))) ++lead;
    fields.push_back({trim(raw), static_cast<int>(start + lead + 1)});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (fields.size() > 1 && fields.back().text.empty()) fields.pop_back();  // a trailing comma
  return fields;
}

// The header row: name[unit] per field (unit "1" when none is written).
std::vector<std::pair<std::string, std::string>> csv_header(const std::vector<CsvField>& fields, const std::string& file,
                                                           int line_no) {
  std::vector<std::pair<std::string, std::string>> header;
  for (std::size_t k = 0; k < fields.size(); ++k) {
    const std::string& c = fields[k].text;
    const auto open = c.find('['), close = c.rfind(']');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      header.emplace_back(trim(c.substr(0, open)), trim(c.substr(open + 1, close - open - 1)));
    } else {
      header.emplace_back(c, "1");
    }
    if (header.back().first.empty()) {
      throw InputError("GC-1612", "field " + std::to_string(k + 1) + " of the header has no column name",
                       "write the header as name[unit],name[unit],...")
          .at({file, line_no, fields[k].column, ""});
    }
  }
  return header;
}

// One data value: a SPICE number, or NaN for "nan" / an empty field (a failed
// point elsewhere: the fit excludes it).
double csv_value(const CsvField& field, std::size_t index, const std::string& name, const std::string& file, int line_no) {
  const std::string low = lower(field.text);
  if (low == "nan" || low.empty()) return std::nan("");
  std::string why;
  const auto v = gaincell::try_parse_si(field.text, &why);
  if (!v) {
    throw InputError("GC-1612", "field " + std::to_string(index + 1) + " (column '" + name + "'): " + why)
        .at({file, line_no, field.column, ""});
  }
  return *v;
}

}  // namespace

FitData load_results_data(const std::filesystem::path& path, const FitRequest& req, DataReport* report) {
  const store::Results r = store::read_results(path);
  const ResultsGrid grid(r, path.string());
  const store::MeasureInfo* out = grid.measure_of(req.output);
  if (out == nullptr) grid.unknown_name(req.output);
  const std::vector<bool> keep = where_filter(r, grid, req.where);
  FitData data;
  data.output = {out->name, out->unit, {}};
  const std::vector<InputSource> sources = input_sources(r, grid, req, *out, data);
  DataReport rep;
  rep.points_total = r.size();
  gather_rows(r, grid, *out, sources, keep, data, rep);
  if (data.output.values.empty()) {
    throw InputError("GC-1611", "no point left to fit (" + std::to_string(rep.points_failed) +
                                    " failed, " + std::to_string(rep.points_filtered) + " filtered out of " +
                                    std::to_string(r.size()) + ")").in_file(grid.file());
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
    throw InputError("GC-1611", "no dataset '" + req.output + "'").in_file(file);
  }
  h5::Handle out = h5::open_dataset(f.id(), req.output);
  const auto shape = h5::dataset_shape(out.id());
  const std::vector<Scale> scales = attached_scales(out.id(), shape, file, req.output);
  const std::size_t n = point_count(shape, file, req.output);
  FitData data;
  data.output = {req.output.substr(req.output.find_last_of('/') + 1), units_of(out.id()), h5::read_doubles(out.id())};
  for (const auto& name : req.inputs) data.inputs.push_back(scale_or_dataset(f.id(), name, scales, shape, file, req.output));
  if (!req.where.empty()) {
    throw InputError("GC-1611", "--where applies to gaincell results files").in_file(file);
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
    const std::vector<CsvField> fields = split_csv_line(line);
    if (header.empty()) {
      header = csv_header(fields, file, line_no);
      columns.resize(header.size());
      continue;
    }
    if (fields.size() != header.size()) {
      throw InputError("GC-1612", "expected " + std::to_string(header.size()) + " values, found " +
                                      std::to_string(fields.size())).at({file, line_no, 0, ""});
    }
    for (std::size_t c = 0; c < fields.size(); ++c) columns[c].push_back(csv_value(fields[c], c, header[c].first, file, line_no));
  }
  if (header.empty()) throw InputError("GC-1612", "no header row", "first line: name[unit],...").at({file, 0, 0, ""});
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
    throw InputError("GC-1611", "--where selects axes of results files; filter the CSV instead").in_file(file);
  }
  if (report != nullptr) {
    report->points_total = data.output.values.size();
    report->source_sha256 = sha256_file(path);
  }
  return data;
}

FitData load_fit_data(const std::filesystem::path& path, const FitRequest& request, DataReport* report) {
  if (path.extension() == ".csv") return load_csv_data(path, request, report);
  return load_hdf5_data(path, request, report);
}

}  // namespace gaincell::fit
