// SPDX-License-Identifier: MIT
#include "gaincell/store/results_file.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/strings.h"
#include "store/h5.h"

namespace gaincell::store {
namespace {

constexpr std::size_t kBatchPoints = 1024;

h5::Handle status_type() {
  h5::Handle t(h5::check(H5Tenum_create(H5T_NATIVE_UINT8), "H5Tenum_create"), H5Tclose);
  for (spice::SimOutcome o : spice::all_outcomes()) {
    const auto v = static_cast<std::uint8_t>(o);
    h5::check(H5Tenum_insert(t.id(), std::string(spice::to_string(o)).c_str(), &v), "H5Tenum_insert");
  }
  return t;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Pending {
  std::size_t index;
  spice::SimOutcome outcome;
  std::vector<double> values;
  std::string message;
  double parse_time_s;
  double run_time_s;
};

}  // namespace

struct ResultsWriter::Impl {
  std::filesystem::path final_path;
  std::filesystem::path partial_path;
  std::vector<hsize_t> shape;
  h5::Handle file;
  std::vector<h5::Handle> measures;
  h5::Handle status;
  h5::Handle message;
  h5::Handle parse_time;
  h5::Handle run_time;
  h5::Handle string_type;
  std::vector<Pending> pending;
  std::size_t measure_count = 0;
  std::vector<bool> traces_;

  std::vector<std::size_t> subset;  // shard: global indices held, ascending
  bool shard = false;               // a shard file (subset holds its points; it may be empty)
  std::vector<std::size_t> widths;  // per measure
  // The dimensions of every per-point dataset: the axes' coordinate
  // variables, or /point_index in a shard.
  std::vector<hid_t> point_dims;

  // The steps of ResultsWriter::create, in the order the file is built.
  void open(const std::filesystem::path& path, const ResultsLayout& layout);
  h5::Handle create_point_dimensions(hid_t root, const std::vector<h5::Handle>& coordinates);
  void create_measures(hid_t root, const std::vector<MeasureInfo>& list);
  h5::Handle create_measure(hid_t root, const MeasureInfo& m);
  void create_status(hid_t root);
  void create_message(hid_t root);
  void create_timing(hid_t root);

  // A per-point dataset (one more dimension, `trace_dim`, for a trace). No
  // H5DS labels: the dimension names are the scales' names, and netCDF-4
  // readers would show labels as an attribute of every variable.
  h5::Handle make_dataset(hid_t loc, const std::string& name, hid_t type, const void* fill, hid_t trace_dim = -1,
                          std::size_t trace_length = 0) {
    std::vector<hsize_t> dims = shape;
    std::vector<hid_t> scales = point_dims;
    if (trace_dim >= 0) {
      dims.push_back(trace_length);
      scales.push_back(trace_dim);
    }
    h5::Handle space = h5::simple_space(dims);
    h5::Handle dcpl(h5::check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
    if (fill != nullptr) h5::check(H5Pset_fill_value(dcpl.id(), type, fill), "H5Pset_fill_value");
    h5::check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
    h5::check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_ALLOC), "H5Pset_fill_time");
    h5::Handle ds(h5::check(H5Dcreate2(loc, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
                            "cannot create dataset " + name),
                  H5Dclose);
    h5::attach_dimensions(ds.id(), scales, name);
    return ds;
  }

  // Value i of measure values starting at `offset` of queued point p (NaN if it has none).
  double queued_value(std::size_t p, std::size_t offset, std::size_t i) const {
    const auto& v = pending[p].values;
    return offset + i < v.size() ? v[offset + i] : std::numeric_limits<double>::quiet_NaN();
  }

  // The element of each queued point in the per-point datasets: shape.size()
  // coordinates per point (a shard's points by their place in its subset).
  std::vector<hsize_t> batch_coordinates() const {
    const std::size_t rank = shape.size();
    std::vector<hsize_t> coords(pending.size() * rank);
    for (std::size_t p = 0; p < pending.size(); ++p) {
      std::size_t k = pending[p].index;
      if (shard) {
        const auto it = std::lower_bound(subset.begin(), subset.end(), k);
        GC_CHECK(it != subset.end() && *it == k) << "point " << k << " is not in this shard";
        k = static_cast<std::size_t>(it - subset.begin());
      }
      for (std::size_t d = rank; d-- > 0;) {
        coords[p * rank + d] = k % shape[d];
        k /= shape[d];
      }
    }
    return coords;
  }

  // `count` elements at `coords` of a dataset of shape `dims`: the file and
  // memory dataspaces of one H5Dwrite.
  struct Selection {
    h5::Handle file_space;
    h5::Handle mem_space;
  };
  static Selection select_elements(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& coords, std::size_t count) {
    Selection s{h5::simple_space(dims), h5::simple_space({static_cast<hsize_t>(count)})};
    h5::check(H5Sselect_elements(s.file_space.id(), H5S_SELECT_SET, count, coords.data()), "H5Sselect_elements");
    return s;
  }
  void write_selected(hid_t dataset, hid_t type, const Selection& s, const void* data, const char* what) const {
    h5::check(H5Dwrite(dataset, type, s.mem_space.id(), s.file_space.id(), H5P_DEFAULT, data),
              std::string("cannot write ") + what + " to " + partial_path.string());
  }

  // A trace: every point contributes `width` elements along the last dimension.
  void write_trace(std::size_t m, std::size_t offset, const std::vector<hsize_t>& coords) const {
    const std::size_t n = pending.size(), rank = shape.size(), width = widths[m];
    std::vector<hsize_t> tcoords(n * width * (rank + 1));
    std::vector<double> data(n * width);
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t i = 0; i < width; ++i) {
        const std::size_t e = p * width + i;
        for (std::size_t d = 0; d < rank; ++d) tcoords[e * (rank + 1) + d] = coords[p * rank + d];
        tcoords[e * (rank + 1) + rank] = i;
        data[e] = queued_value(p, offset, i);
      }
    }
    std::vector<hsize_t> dims = shape;
    dims.push_back(width);
    write_selected(measures[m].id(), H5T_NATIVE_DOUBLE, select_elements(dims, tcoords, n * width), data.data(), "a trace");
  }

  // Messages only where there is one (failed points): each written string is
  // an object in HDF5's global heap, whose cache would otherwise grow with the
  // sweep; unwritten entries read back as empty strings.
  void write_messages(const std::vector<hsize_t>& coords) const {
    const std::size_t rank = shape.size();
    std::vector<hsize_t> msg_coords;
    std::vector<const char*> msg_texts;
    for (std::size_t p = 0; p < pending.size(); ++p) {
      if (pending[p].message.empty()) continue;
      msg_texts.push_back(pending[p].message.c_str());
      msg_coords.insert(msg_coords.end(), coords.begin() + static_cast<std::ptrdiff_t>(p * rank),
                        coords.begin() + static_cast<std::ptrdiff_t>((p + 1) * rank));
    }
    if (msg_texts.empty()) return;
    write_selected(message.id(), string_type.id(), select_elements(shape, msg_coords, msg_texts.size()), msg_texts.data(),
                   "messages");
  }

  // Writes the queued points: one H5Dwrite per dataset (an element selection).
  void write_batch() {
    if (pending.empty()) return;
    const std::size_t n = pending.size();
    const std::vector<hsize_t> coords = batch_coordinates();
    const Selection points = select_elements(shape, coords, n);
    auto write = [&](hid_t ds, hid_t type, const void* data, const char* what) { write_selected(ds, type, points, data, what); };
    std::vector<double> column(n);
    std::size_t offset = 0;  // of measure m within a point's values
    for (std::size_t m = 0; m < measure_count; ++m) {
      if (traces_[m]) {
        write_trace(m, offset, coords);
      } else {
        for (std::size_t p = 0; p < n; ++p) column[p] = queued_value(p, offset, 0);
        write(measures[m].id(), H5T_NATIVE_DOUBLE, column.data(), "a measure");
      }
      offset += widths[m];
    }
    std::vector<std::uint8_t> codes(n);
    for (std::size_t p = 0; p < n; ++p) codes[p] = static_cast<std::uint8_t>(pending[p].outcome);
    write(status.id(), H5T_NATIVE_UINT8, codes.data(), "status");
    write_messages(coords);
    for (std::size_t p = 0; p < n; ++p) column[p] = pending[p].parse_time_s;
    write(parse_time.id(), H5T_NATIVE_DOUBLE, column.data(), "timing");
    for (std::size_t p = 0; p < n; ++p) column[p] = pending[p].run_time_s;
    write(run_time.id(), H5T_NATIVE_DOUBLE, column.data(), "timing");
    pending.clear();
  }
};

ResultsWriter::ResultsWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResultsWriter::~ResultsWriter() {
  // An unfinished writer leaves its .partial file behind for inspection;
  // write what is queued so nothing computed is lost.
  if (impl_ && impl_->file.valid()) {
    try {
      impl_->write_batch();
      H5Fflush(impl_->file.id(), H5F_SCOPE_GLOBAL);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gaincell: warning: could not save queued points: %s\n", e.what());
    }
  }
}
ResultsWriter::ResultsWriter(ResultsWriter&&) noexcept = default;
ResultsWriter& ResultsWriter::operator=(ResultsWriter&&) noexcept = default;

const std::filesystem::path& ResultsWriter::partial_path() const { return impl_->partial_path; }

std::filesystem::path partial_path(const std::filesystem::path& path) { return path.string() + ".partial"; }
const std::filesystem::path& ResultsWriter::final_path() const { return impl_->final_path; }

// Every name on the root group must be unique: there the file is one
// netCDF-4 dataset, so axes, measures and trace times share one namespace
// with the per-point datasets and the groups.
void check_layout_names(const std::filesystem::path& path, const ResultsLayout& layout) {
  std::map<std::string, std::string> taken;
  for (const char* n : {"status", "message", "point_index", "axes", "measures", "timing", "monte_carlo"}) {
    taken[n] = "a dataset or group of every results file";
  }
  auto claim = [&](const std::string& name, const std::string& what) {
    const auto [it, fresh] = taken.emplace(name, what);
    if (!fresh) {
      throw InputError("GC-2102", path.string() + ": " + what + " is named '" + name +
                                      "', like " + it->second +
                                      "; in a results file every axis, measure and trace time (<measure>_time) "
                                      "needs a name of its own (they share the root group, docs/hdf5_layout.md): "
                                      "rename the measure in the spec");
    }
  };
  for (const auto& a : layout.axes) claim(a.name, "the axis " + a.name);
  for (const auto& m : layout.measures) {
    claim(m.name, "the measure " + m.name);
    if (!m.trace_times_s.empty()) claim(m.name + "_time", "the sample times of the trace " + m.name);
  }
}

namespace {

// A coordinate variable on the root group (float64, or strings for a
// categorical axis), with units and long_name.
h5::Handle write_coordinate(hid_t root, const std::string& name, const std::vector<double>& values,
                            const std::vector<std::string>& labels, const std::string& unit,
                            const std::string& description) {
  const std::size_t n = labels.empty() ? values.size() : labels.size();
  h5::Handle space = h5::simple_space({static_cast<hsize_t>(n)});
  h5::Handle ds;
  if (labels.empty()) {
    ds = h5::Handle(h5::check(H5Dcreate2(root, name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                                         H5P_DEFAULT),
                              "cannot create coordinate " + name),
                    H5Dclose);
    h5::check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "coordinate values");
  } else {
    // A categorical axis: its coordinate holds the labels (e.g. "tt", "ff", "ss").
    h5::Handle type = h5::string_type();
    ds = h5::Handle(h5::check(H5Dcreate2(root, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT,
                                         H5P_DEFAULT),
                              "cannot create coordinate " + name),
                    H5Dclose);
    std::vector<const char*> texts;
    for (const auto& l : labels) texts.push_back(l.c_str());
    h5::check(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()), "coordinate labels");
  }
  h5::make_coordinate(ds.id(), name);
  h5::write_string_attribute(ds.id(), "units", unit.empty() ? "1" : unit);
  h5::write_string_attribute(ds.id(), "long_name", description);
  return ds;
}

// The axes: coordinate variables on the root group, named again in /axes.
std::vector<h5::Handle> write_axes(hid_t root, const std::vector<AxisInfo>& axes) {
  h5::Handle group = h5::create_group(root, "axes");
  std::vector<h5::Handle> coordinates;
  for (const auto& a : axes) {
    coordinates.push_back(write_coordinate(root, a.name, a.values, a.labels, a.unit, a.description));
    h5::hard_link(root, a.name, group.id(), a.name);
  }
  return coordinates;
}

// The values of each Monte Carlo parameter per sample, /monte_carlo/<param>,
// along the Monte Carlo axis (mc_sample) or a dimension of their own.
void write_monte_carlo(hid_t root, const ResultsLayout& layout, const std::vector<h5::Handle>& coordinates) {
  if (layout.monte_carlo.empty()) return;
  h5::Handle mc = h5::create_group(root, "monte_carlo");
  const auto axis = std::find_if(layout.axes.begin(), layout.axes.end(), [](const AxisInfo& a) { return a.name == "mc_sample"; });
  std::optional<h5::Handle> own_dim;
  for (const auto& d : layout.monte_carlo) {
    h5::Handle space = h5::simple_space({d.values.size()});
    h5::Handle ds(h5::check(H5Dcreate2(mc.id(), d.param.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT,
                                       H5P_DEFAULT, H5P_DEFAULT),
                            "cannot create Monte Carlo draws " + d.param),
                  H5Dclose);
    h5::check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.values.data()), "draws");
    hid_t dim = -1;
    if (axis != layout.axes.end() && axis->values.size() == d.values.size()) {
      dim = coordinates[static_cast<std::size_t>(axis - layout.axes.begin())].id();
    } else {
      if (!own_dim) own_dim = h5::create_dimension(mc.id(), "mc_sample", d.values.size());
      GC_CHECK(h5::dataset_shape(own_dim->id()) == h5::dataset_shape(ds.id()))
          << "Monte Carlo draws of different lengths without an mc_sample axis";
      dim = own_dim->id();
    }
    h5::attach_dimensions(ds.id(), {dim}, d.param);
    h5::write_string_attribute(ds.id(), "units", d.unit.empty() ? "1" : d.unit);
    h5::write_double_attribute(ds.id(), "sigma", d.sigma);
    h5::write_string_attribute(ds.id(), "long_name", "value of " + d.param + " in each Monte Carlo sample");
  }
}

std::vector<std::string> names_of(const auto& items) {
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(item.name);
  return names;
}

// The root attributes: format, the axis and measure names, "complete" = no,
// and the layout's provenance; then the file is flushed to disk.
void write_root_attributes(hid_t root, const ResultsLayout& layout, const std::filesystem::path& partial_path) {
  h5::write_string_attribute(root, "gaincell_format", kResultsFormat);
  h5::write_string_attribute(root, "axes", join(names_of(layout.axes), ","));
  h5::write_string_attribute(root, "measures", join(names_of(layout.measures), ","));
  h5::write_string_attribute(root, "complete", "no");
  for (const auto& [k, v] : layout.attributes) h5::write_string_attribute(root, k, v);
  h5::check(H5Fflush(root, H5F_SCOPE_GLOBAL), "cannot write " + partial_path.string() + " (is the disk full?)");
}

}  // namespace

// Paths, the shape of the per-point datasets, and the file itself.
void ResultsWriter::Impl::open(const std::filesystem::path& path, const ResultsLayout& layout) {
  final_path = path;
  partial_path = store::partial_path(path);
  subset = layout.points;
  shard = layout.shard || !layout.points.empty();
  if (!shard) {
    for (const auto& a : layout.axes) shape.push_back(a.values.size());
  } else {
    shape.push_back(subset.size());
  }
  measure_count = layout.measures.size();
  file = h5::create_file(partial_path.string());
}

// The dimensions of the per-point datasets: the axes' coordinates, or in a
// shard /point_index (1-D over its points; none, for a shard beyond the
// points), returned to be kept open while the datasets are created.
h5::Handle ResultsWriter::Impl::create_point_dimensions(hid_t root, const std::vector<h5::Handle>& coordinates) {
  if (!shard) {
    for (const auto& c : coordinates) point_dims.push_back(c.id());
    return {};
  }
  h5::Handle space = h5::simple_space({subset.size()});
  h5::Handle point_index(h5::check(H5Dcreate2(root, "point_index", H5T_STD_U64LE, space.id(), H5P_DEFAULT,
                                              H5P_DEFAULT, H5P_DEFAULT),
                                   "cannot create point_index"),
                         H5Dclose);
  std::vector<std::uint64_t> idx(subset.begin(), subset.end());
  h5::check(H5Dwrite(point_index.id(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, idx.data()), "point_index");
  h5::make_coordinate(point_index.id(), "point_index");
  h5::write_string_attribute(point_index.id(), "units", "1");
  h5::write_string_attribute(point_index.id(), "long_name", "global (row-major) index of each point this shard holds");
  point_dims = {point_index.id()};
  return point_index;
}

// The measures: on the root group, named again in /measures.
void ResultsWriter::Impl::create_measures(hid_t root, const std::vector<MeasureInfo>& list) {
  h5::Handle group = h5::create_group(root, "measures");
  for (const auto& m : list) {
    widths.push_back(m.width());
    traces_.push_back(!m.trace_times_s.empty());
    measures.push_back(create_measure(root, m));
    h5::hard_link(root, m.name, group.id(), m.name);
  }
}

// A measure's dataset, NaN until written. A trace has one more dimension, its
// sample times /<measure>_time.
h5::Handle ResultsWriter::Impl::create_measure(hid_t root, const MeasureInfo& m) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  h5::Handle ds;
  if (m.trace_times_s.empty()) {
    ds = make_dataset(root, m.name, H5T_IEEE_F64LE, &nan);
  } else {
    h5::Handle times = write_coordinate(root, m.name + "_time", m.trace_times_s, {}, "s", "sample times of the trace " + m.name);
    ds = make_dataset(root, m.name, H5T_IEEE_F64LE, &nan, times.id(), m.trace_times_s.size());
  }
  h5::write_string_attribute(ds.id(), "units", m.unit);
  h5::write_string_attribute(ds.id(), "long_name", m.description);
  h5::write_double_attribute(ds.id(), "_FillValue", nan);
  return ds;
}

// Status: plain uint8 with CF flags (netCDF-4 readers drop anonymous enums).
void ResultsWriter::Impl::create_status(hid_t root) {
  const auto not_run = static_cast<std::uint8_t>(spice::SimOutcome::kNotRun);
  status = make_dataset(root, "status", H5T_STD_U8LE, &not_run);
  h5::write_string_attribute(status.id(), "long_name", "outcome of each point's simulation");
  std::vector<std::uint8_t> flag_values;
  std::vector<std::string> flag_meanings;
  for (spice::SimOutcome o : spice::all_outcomes()) {
    flag_values.push_back(static_cast<std::uint8_t>(o));
    flag_meanings.emplace_back(spice::to_string(o));
  }
  h5::write_uint8_array_attribute(status.id(), "flag_values", flag_values);
  h5::write_string_attribute(status.id(), "flag_meanings", join(flag_meanings, " "));
}

void ResultsWriter::Impl::create_message(hid_t root) {
  string_type = h5::string_type();
  message = make_dataset(root, "message", string_type.id(), nullptr);
  h5::write_string_attribute(message.id(), "long_name", "ngspice's message for failed points (empty if ok)");
}

// Seconds in ngspice per point: /timing/parse_time_s, /timing/run_time_s.
void ResultsWriter::Impl::create_timing(hid_t root) {
  h5::Handle timing = h5::create_group(root, "timing");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto seconds = [&](const char* name, const char* long_name) {
    h5::Handle ds = make_dataset(timing.id(), name, H5T_IEEE_F64LE, &nan);
    h5::write_string_attribute(ds.id(), "units", "s");
    h5::write_string_attribute(ds.id(), "long_name", long_name);
    return ds;
  };
  parse_time = seconds("parse_time_s", "time in ngSpice_Circ (parse and set-up)");
  run_time = seconds("run_time_s", "time in ngspice's run command");
}

ResultsWriter ResultsWriter::create(const std::filesystem::path& path, const ResultsLayout& layout) {
  check_output_file(path);
  check_layout_names(path, layout);
  auto impl = std::make_unique<Impl>();
  impl->open(path, layout);
  const hid_t root = impl->file.id();
  const std::vector<h5::Handle> coordinates = write_axes(root, layout.axes);
  const h5::Handle point_index = impl->create_point_dimensions(root, coordinates);
  impl->create_measures(root, layout.measures);
  impl->create_status(root);
  impl->create_message(root);
  impl->create_timing(root);
  write_monte_carlo(root, layout, coordinates);
  write_root_attributes(root, layout, impl->partial_path);
  // The coordinate handles close here; point_dims is used only while creating.
  impl->point_dims.clear();
  return ResultsWriter(std::move(impl));
}

void ResultsWriter::write_point(std::size_t index, spice::SimOutcome outcome, const std::vector<double>& values,
                                const std::string& message, double parse_time_s, double run_time_s) {
  impl_->pending.push_back({index, outcome, values, message, parse_time_s, run_time_s});
  if (impl_->pending.size() >= kBatchPoints) impl_->write_batch();
}

void ResultsWriter::flush() {
  impl_->write_batch();
  h5::check(H5Fflush(impl_->file.id(), H5F_SCOPE_GLOBAL), "cannot flush " + impl_->partial_path.string());
}

void ResultsWriter::finish(const std::map<std::string, std::string>& attributes) {
  flush();
  const hid_t root = impl_->file.id();
  for (const auto& [k, v] : attributes) h5::write_string_attribute(root, k, v);
  h5::write_string_attribute(root, "complete", "yes");
  impl_->measures.clear();
  impl_->status = {};
  impl_->message = {};
  impl_->parse_time = {};
  impl_->run_time = {};
  impl_->file.close();
  std::error_code ec;
  std::filesystem::rename(impl_->partial_path, impl_->final_path, ec);
  if (ec) {
    throw IoError("cannot rename " + impl_->partial_path.string() + " to " + impl_->final_path.string() + ": " +
                  ec.message());
  }
}

namespace {

// Every per-point dataset must have one entry per point (one row of `width`
// per point for a trace), and every axis at least one value: a crafted or
// damaged file is refused here, before any reader indexes past its end.
void check_shapes(const Results& r, const std::filesystem::path& path) {
  auto bad = [&](const std::string& what) {
    throw InputError("GC-2101", path.string() + ": " + what +
                                    "; the file is damaged or was not written by gaincell");
  };
  std::size_t points = 1;
  for (const auto& a : r.axes) {
    if (a.values.empty()) bad("axis " + a.name + " has no values");
    if (a.values.size() > limits::kMaxPoints / points) bad("the axes span more than " + std::to_string(limits::kMaxPoints) + " points");
    points *= a.values.size();
  }
  if (r.axes.empty()) bad("no axes");
  for (const auto& a : r.axes) {
    for (const double v : a.values) {
      if (!std::isfinite(v)) bad("axis " + a.name + " holds a value that is not a finite number");
    }
  }
  const bool shard = r.attributes.count("shard_count") != 0;
  for (std::size_t k = 1; k < r.point_index.size(); ++k) {
    if (!(r.point_index[k] > r.point_index[k - 1])) bad("/point_index is not strictly increasing at entry " + std::to_string(k));
  }
  if (shard) points = r.point_index.size();
  auto count = [&](const std::string& name, std::size_t n, std::size_t want) {
    if (n != want) {
      bad("/" + name + " has " + std::to_string(n) + " entries where " + std::to_string(want) + " were expected (" +
          std::to_string(points) + (shard ? " points in /point_index" : " points of the axes") + ")");
    }
  };
  count("status", r.status.size(), points);
  count("message", r.messages.size(), points);
  count("timing/parse_time_s", r.parse_time_s.size(), points);
  count("timing/run_time_s", r.run_time_s.size(), points);
  for (const auto& m : r.measures) count("measures/" + m.name, r.values.at(m.name).size(), points * m.width());
  for (const auto st : r.status) {
    if (spice::to_string(st).empty() || spice::to_string(st) == "unknown") bad("/status holds an unknown outcome code");
  }
  if (shard || !r.point_index.empty()) {
    const std::size_t total = [&]() -> std::size_t {
      std::size_t n = 1;
      for (const auto& a : r.axes) n *= a.values.size();
      return n;
    }();
    for (const auto k : r.point_index) {
      if (k >= total) bad("/point_index holds " + std::to_string(k) + ", beyond the " + std::to_string(total) + " points");
    }
  }
}

}  // namespace

namespace {

// The file's format, one this gaincell reads; IoError otherwise.
std::string results_format(hid_t root, const std::filesystem::path& path) {
  if (!h5::has_attribute(root, "gaincell_format")) {
    throw IoError(path.string() + " is not a gaincell results file (no gaincell_format attribute)");
  }
  const std::string format = h5::read_string_attribute(root, "gaincell_format");
  if (format != kResultsFormat && format != kResultsFormatV1) {
    throw IoError(path.string() + " has format " + format + "; this gaincell reads " + kResultsFormat + " and " +
                  kResultsFormatV1);
  }
  return format;
}

// An H5Aiterate2 / H5Literate callback: appends each name to the
// std::vector<std::string> at `names`.
template <typename Info>
herr_t collect_name(hid_t, const char* name, const Info*, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

// Root string attributes (non-string ones are not provenance).
std::map<std::string, std::string> read_root_attributes(hid_t root) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  h5::check(H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name<H5A_info_t>, &names), "H5Aiterate2");
  std::map<std::string, std::string> attributes;
  for (const auto& name : names) {
    try {
      attributes[name] = h5::read_string_attribute(root, name);
    } catch (const IoError&) {
    }
  }
  return attributes;
}

// An axis or measure: its name, and its dataset's units and long_name.
template <typename Info>
Info described(hid_t dataset, const std::string& name) {
  Info info;
  info.name = name;
  info.unit = h5::read_string_attribute(dataset, "units");
  info.description = h5::read_string_attribute(dataset, "long_name");
  return info;
}

std::vector<AxisInfo> read_axes(hid_t root, const std::vector<std::string>& names) {
  std::vector<AxisInfo> axes;
  for (const auto& a : names) {
    h5::Handle ds = h5::open_dataset(root, "axes/" + a);
    AxisInfo info = described<AxisInfo>(ds.id(), a);
    h5::Handle type(h5::check(H5Dget_type(ds.id()), "H5Dget_type"), H5Tclose);
    if (H5Tget_class(type.id()) == H5T_STRING) {
      info.labels = h5::read_strings(ds.id());
      for (std::size_t k = 0; k < info.labels.size(); ++k) info.values.push_back(static_cast<double>(k));
    } else {
      info.values = h5::read_doubles(ds.id());
    }
    axes.push_back(std::move(info));
  }
  return axes;
}

// The measures and their values; a trace's sample times from /<measure>_time
// (gaincell-sweep/1: /trace_times/<measure>).
void read_measures(hid_t root, const std::vector<std::string>& names, std::size_t point_rank, bool v1, Results& r) {
  for (const auto& m : names) {
    h5::Handle ds = h5::open_dataset(root, "measures/" + m);
    MeasureInfo info = described<MeasureInfo>(ds.id(), m);
    if (v1) {
      if (H5Lexists(root, ("trace_times/" + m).c_str(), H5P_DEFAULT) > 0) {
        info.trace_times_s = h5::read_doubles(h5::open_dataset(root, "trace_times/" + m).id());
      }
    } else if (h5::dataset_shape(ds.id()).size() > point_rank) {
      // A trace: one dimension more than the points, its times /<measure>_time.
      info.trace_times_s = h5::read_doubles(h5::open_dataset(root, m + "_time").id());
    }
    r.values[m] = h5::read_doubles(ds.id());
    r.measures.push_back(std::move(info));
  }
}

std::vector<spice::SimOutcome> read_status(hid_t root, bool v1) {
  h5::Handle ds = h5::open_dataset(root, "status");
  hsize_t n = 1;
  for (hsize_t d : h5::dataset_shape(ds.id())) n *= d;
  std::vector<std::uint8_t> codes(n);
  h5::Handle file_type(h5::check(H5Dget_type(ds.id()), "H5Dget_type"), H5Tclose);
  const H5T_class_t cls = H5Tget_class(file_type.id());
  if (cls != (v1 ? H5T_ENUM : H5T_INTEGER) || H5Tget_size(file_type.id()) != 1) {
    throw IoError(std::string("/status is not ") + (v1 ? "an 8-bit enum" : "uint8"));
  }
  if (n > 0) {
    // gaincell-sweep/1 stored an enum, which HDF5 converts only to enums:
    // read it through our own enum type.
    h5::Handle type = v1 ? status_type() : h5::Handle(h5::check(H5Tcopy(H5T_NATIVE_UINT8), "H5Tcopy"), H5Tclose);
    h5::check(H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, codes.data()), "read status");
  }
  std::vector<spice::SimOutcome> status;
  for (auto c : codes) status.push_back(static_cast<spice::SimOutcome>(c));
  return status;
}

std::vector<MonteCarloDraws> read_monte_carlo(hid_t root) {
  std::vector<MonteCarloDraws> draws;
  if (H5Lexists(root, "monte_carlo", H5P_DEFAULT) <= 0) return draws;
  h5::Handle mc = h5::open_group(root, "monte_carlo");
  std::vector<std::string> params;
  H5Literate(mc.id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name<H5L_info_t>, &params);
  for (const auto& n : params) {
    h5::Handle ds = h5::open_dataset(mc.id(), n);
    if (H5DSis_scale(ds.id()) > 0) continue;  // its own mc_sample dimension
    draws.push_back({n, h5::read_string_attribute(ds.id(), "units"), h5::read_double_attribute(ds.id(), "sigma"),
                     h5::read_doubles(ds.id())});
  }
  return draws;
}

// A shard file's global point indices (/point_index); empty for a whole sweep.
std::vector<std::size_t> read_point_index(hid_t root, const std::map<std::string, std::string>& attributes) {
  const bool has = H5Lexists(root, "point_index", H5P_DEFAULT) > 0;
  if (attributes.count("shard_count") != 0 && !has) {
    throw IoError("a shard file (shard_count " + attributes.at("shard_count") + ") without /point_index");
  }
  if (!has) return {};
  h5::Handle ds = h5::open_dataset(root, "point_index");
  const auto n = h5::dataset_shape(ds.id());
  std::vector<std::uint64_t> rows(n.empty() ? 0 : n[0]);
  if (!rows.empty()) {
    h5::check(H5Dread(ds.id(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "read point_index");
  }
  return {rows.begin(), rows.end()};
}

Results read_results_unchecked(const std::filesystem::path& path) {
  Results r;
  h5::Handle file = h5::open_file(path.string(), false);
  const hid_t root = file.id();
  const bool v1 = results_format(root, path) == kResultsFormatV1;
  r.attributes = read_root_attributes(root);
  r.axes = read_axes(root, split(r.attributes["axes"]));
  // Dimensions of a point: the axes, or /point_index in a shard.
  const std::size_t point_rank = r.attributes.count("shard_count") != 0 ? 1 : r.axes.size();
  read_measures(root, split(r.attributes["measures"]), point_rank, v1, r);
  r.status = read_status(root, v1);
  r.messages = h5::read_strings(h5::open_dataset(root, "message").id());
  r.monte_carlo = read_monte_carlo(root);
  r.point_index = read_point_index(root, r.attributes);
  r.parse_time_s = h5::read_doubles(h5::open_dataset(root, "timing/parse_time_s").id());
  r.run_time_s = h5::read_doubles(h5::open_dataset(root, "timing/run_time_s").id());
  return r;
}

}  // namespace

Results read_results(const std::filesystem::path& path) {
  {
    // Not even HDF5, or not ours: say so plainly (IoError).
    h5::Handle file = h5::open_file(path.string(), false);
    results_format(file.id(), path);
  }
  Results r;
  try {
    r = read_results_unchecked(path);
  } catch (const IoError& e) {
    // A dataset or attribute missing or of the wrong type: a damaged file.
    std::string what = e.what();
    const auto cut = what.find('\n');
    throw InputError("GC-2101", path.string() + ": " + what.substr(0, cut) +
                                    " (a dataset or attribute is missing or of the wrong type); the file is damaged or "
                                    "was not written by gaincell" + (cut == std::string::npos ? "" : what.substr(cut)));
  }
  check_shapes(r, path);
  return r;
}

}  // namespace gaincell::store
