// SPDX-License-Identifier: MIT
#include "gaincell/fit/model_lut.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "gaincell/core/error.h"
#include "grid.h"
#include "model_support.h"

namespace gaincell::fit {
namespace {

using Grids = std::vector<std::vector<double>>;
using detail::kNaN;

// 1-D interpolation of f (sampled at grid g) at x, linear or cubic Hermite
// with Catmull-Rom slopes; `at(k)` gives the sample at node k.
template <typename At>
double interpolate_1d(const std::vector<double>& g, double x, bool cubic, const At& at) {
  const std::size_t n = g.size();
  if (n == 1) return at(0);
  std::size_t i = static_cast<std::size_t>(std::upper_bound(g.begin(), g.end(), x) - g.begin());
  i = std::clamp<std::size_t>(i == 0 ? 0 : i - 1, 0, n - 2);
  const double h = g[i + 1] - g[i];
  const double s = (x - g[i]) / h;
  const double y0 = at(i), y1 = at(i + 1);
  if (!cubic) return y0 + s * (y1 - y0);
  auto slope = [&](std::size_t k, double yk) {
    if (k == 0) return (at(1) - yk) / (g[1] - g[0]);
    if (k + 1 == n) return (yk - at(n - 2)) / (g[n - 1] - g[n - 2]);
    return (at(k + 1) - at(k - 1)) / (g[k + 1] - g[k - 1]);
  };
  const double m0 = slope(i, y0) * h, m1 = slope(i + 1, y1) * h;
  const double s2 = s * s, s3 = s2 * s;
  return (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * m1;
}

// Interpolates dimension d onwards; `offset` is the flat index of the
// already-fixed leading dimensions, `stride` the size of dimensions > d.
double interpolate_nd(const Grids& grids, const std::vector<double>& values, std::span<const double> x, bool cubic,
                      std::size_t d, std::size_t offset) {
  if (d == grids.size()) return values[offset];
  std::size_t stride = 1;
  for (std::size_t e = d + 1; e < grids.size(); ++e) stride *= grids[e].size();
  return interpolate_1d(grids[d], x[d], cubic, [&](std::size_t k) {
    return interpolate_nd(grids, values, x, cubic, d + 1, offset + k * stride);
  });
}

// Refuses a shape a table cannot take (GC-1610) and NaN points (GC-1614).
void check_table_data(const FitData& data) {
  if (data.inputs.empty()) throw InputError("GC-1610", "lut: at least one input is needed");
  const std::size_t n = data.output.values.size();
  for (const auto& c : data.inputs) {
    if (c.values.size() != n) throw InputError("GC-1610", "lut: input '" + c.name + "' has a different length");
  }
  std::size_t nan = 0;
  for (std::size_t k = 0; k < n; ++k) {
    bool bad = !std::isfinite(data.output.values[k]);
    for (const auto& c : data.inputs) bad = bad || !std::isfinite(c.values[k]);
    nan += bad;
  }
  if (nan > 0) {
    throw InputError("GC-1614", "lut: " + std::to_string(nan) + " of " + std::to_string(n) +
                                    " points are NaN (failed): a table cannot bridge holes; rerun them or fit a poly");
  }
}

// Each input's distinct values, ascending; refuses a single value or a
// product of grid sizes other than the point count (GC-1614).
Grids distinct_values(const FitData& data) {
  Grids grids(data.inputs.size());
  std::size_t product = 1;
  for (std::size_t d = 0; d < grids.size(); ++d) {
    grids[d] = data.inputs[d].values;
    std::sort(grids[d].begin(), grids[d].end());
    grids[d].erase(std::unique(grids[d].begin(), grids[d].end()), grids[d].end());
    if (grids[d].size() < 2) {
      throw InputError("GC-1614", "lut: input '" + data.inputs[d].name + "' takes a single value; a table needs >= 2");
    }
    product *= grids[d].size();
  }
  const std::size_t n = data.output.values.size();
  if (product != n) {
    throw InputError("GC-1614", "lut: the data is not a complete regular grid: " + std::to_string(n) +
                                    " points, but the inputs' distinct values make " + std::to_string(product));
  }
  return grids;
}

// The output values in grid order; refuses a grid point given twice (GC-1614).
std::vector<double> place_on_grid(const FitData& data, const Grids& grids) {
  const std::size_t n = data.output.values.size();
  const std::vector<std::size_t> sizes = detail::grid_sizes(grids);
  std::vector<double> values(n, kNaN);
  std::vector<bool> seen(n, false);
  std::vector<std::size_t> idx(grids.size());
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t d = 0; d < grids.size(); ++d) {
      const auto& g = grids[d];
      idx[d] = static_cast<std::size_t>(std::lower_bound(g.begin(), g.end(), data.inputs[d].values[k]) - g.begin());
    }
    const std::size_t flat = detail::flat_index(idx, sizes);
    if (seen[flat]) throw InputError("GC-1614", "lut: a grid point appears twice in the data");
    seen[flat] = true;
    values[flat] = data.output.values[k];
  }
  return values;
}

ModelInfo table_info(const FitData& data, const Grids& grids, const std::vector<double>& values) {
  ModelInfo info;
  for (std::size_t d = 0; d < grids.size(); ++d) {
    info.inputs.push_back({data.inputs[d].name, data.inputs[d].unit, grids[d].front(), grids[d].back()});
  }
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  info.output = {data.output.name, data.output.unit, *lo, *hi};
  return info;
}

// The nodes of each axis the hold-out keeps: every other one, ends kept.
std::vector<std::vector<std::size_t>> kept_nodes(const Grids& grids) {
  std::vector<std::vector<std::size_t>> kept(grids.size());
  for (std::size_t d = 0; d < grids.size(); ++d) {
    for (std::size_t i = 0; i < grids[d].size(); ++i) {
      if (i % 2 == 0 || i + 1 == grids[d].size()) kept[d].push_back(i);
    }
  }
  return kept;
}

// The table of the kept nodes alone.
struct Coarse {
  Grids grids;
  std::vector<double> values;
};

Coarse coarse_table(const Grids& grids, const std::vector<double>& values,
                    const std::vector<std::vector<std::size_t>>& kept) {
  Coarse c{Grids(grids.size()), {}};
  const std::vector<std::size_t> sizes = detail::grid_sizes(grids);
  std::vector<std::size_t> coarse_sizes;
  std::size_t coarse_n = 1;
  for (std::size_t d = 0; d < grids.size(); ++d) {
    for (std::size_t i : kept[d]) c.grids[d].push_back(grids[d][i]);
    coarse_sizes.push_back(kept[d].size());
    coarse_n *= kept[d].size();
  }
  for (std::size_t k = 0; k < coarse_n; ++k) {
    std::vector<std::size_t> idx = detail::grid_index(k, coarse_sizes);
    for (std::size_t d = 0; d < idx.size(); ++d) idx[d] = kept[d][idx[d]];
    c.values.push_back(values[detail::flat_index(idx, sizes)]);
  }
  return c;
}

// The RMS error at the held-out nodes when the kept ones are interpolated.
double hold_out_rms(const Grids& grids, const std::vector<double>& values,
                    const std::vector<std::vector<std::size_t>>& kept, bool cubic) {
  const Coarse coarse = coarse_table(grids, values, kept);
  const std::vector<std::size_t> sizes = detail::grid_sizes(grids);
  double sum2 = 0;
  std::size_t count = 0;
  std::vector<double> x(grids.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    const std::vector<std::size_t> idx = detail::grid_index(k, sizes);
    bool held_out = false;
    for (std::size_t d = 0; d < idx.size(); ++d) {
      x[d] = grids[d][idx[d]];
      held_out = held_out || std::find(kept[d].begin(), kept[d].end(), idx[d]) == kept[d].end();
    }
    if (!held_out) continue;
    const double e = interpolate_nd(coarse.grids, coarse.values, x, cubic, 0, 0) - values[k];
    sum2 += e * e;
    ++count;
  }
  return std::sqrt(sum2 / static_cast<double>(count));
}

// Exact at the nodes; the hold-out error interpolates every other node of
// each axis (ends kept) from the rest, when that leaves >= 2 nodes an axis
// and fewer nodes than the table.
FitQuality table_quality(const Grids& grids, const std::vector<double>& values, bool cubic) {
  FitQuality q;
  q.points_used = values.size();
  q.rms_residual = 0;
  q.max_abs_residual = 0;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  q.r_squared = *lo == *hi ? kNaN : 1.0;
  const auto kept = kept_nodes(grids);
  std::size_t coarse_n = 1;
  bool can_decimate = true;
  for (const auto& k : kept) {
    coarse_n *= k.size();
    can_decimate = can_decimate && k.size() >= 2;
  }
  if (can_decimate && coarse_n < values.size()) {
    q.cv_rms_residual = hold_out_rms(grids, values, kept, cubic);
    q.cv_folds = 2;
  }
  return q;
}

}  // namespace

LutModel::LutModel(ModelInfo info, std::vector<std::vector<double>> grids, std::vector<double> values,
                   Interpolation interpolation)
    : ModelWithInfo(std::move(info)), grids_(std::move(grids)), values_(std::move(values)), interpolation_(interpolation) {}

const char* LutModel::interpolation_name(Interpolation interpolation) {
  return interpolation == Interpolation::kCubic ? "cubic" : "linear";
}

double LutModel::interpolate(std::span<const double> x) const {
  return interpolate_nd(grids_, values_, x, interpolation_ == Interpolation::kCubic, 0, 0);
}

LutModel LutModel::fit(const FitData& data, const Options& options) {
  check_table_data(data);
  Grids grids = distinct_values(data);
  std::vector<double> values = place_on_grid(data, grids);
  ModelInfo info = table_info(data, grids, values);
  info.quality = table_quality(grids, values, options.interpolation == Interpolation::kCubic);
  return LutModel(std::move(info), std::move(grids), std::move(values), options.interpolation);
}

double LutModel::evaluate(std::span<const double> inputs, const WarningSink& warn) const {
  const std::vector<double> x =
      detail::checked_inputs(info_, std::string("lut (") + interpolation_name(interpolation_) + ")", inputs, warn);
  return interpolate(x);
}

}  // namespace gaincell::fit
