// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/fit/model_file.h"

using namespace gaincell::fit;

namespace {

// f(x, y) = sin(3x) + y^2 sampled on a regular grid, rows in any order.
FitData grid_data(std::size_t nx, std::size_t ny, bool shuffle) {
  FitData d;
  d.inputs = {{"x_v", "V", {}}, {"y_s", "s", {}}};
  d.output = {"z_a", "A", {}};
  for (std::size_t k = 0; k < nx * ny; ++k) {
    const std::size_t kk = shuffle ? (k * 7) % (nx * ny) : k;  // 7 is coprime with the sizes used
    const double x = static_cast<double>(kk / ny) / static_cast<double>(nx - 1);
    const double y = static_cast<double>(kk % ny) / static_cast<double>(ny - 1);
    d.inputs[0].values.push_back(x);
    d.inputs[1].values.push_back(y);
    d.output.values.push_back(std::sin(3 * x) + y * y);
  }
  return d;
}

double f(double x, double y) { return std::sin(3 * x) + y * y; }

}  // namespace

TEST_CASE("a lookup table is exact at its nodes and interpolates between them", "[unit][fit]") {
  LutModel::Options linear;
  const auto lin = LutModel::fit(grid_data(9, 6, true), linear);
  CHECK(lin.grids()[0].size() == 9);
  CHECK(lin.grids()[1].size() == 6);
  CHECK(lin.evaluate(std::vector<double>{0.5, 0.4}) == Approx(f(0.5, 0.4)).epsilon(1e-12));
  // Multilinear in a cell: exactly the bilinear blend of its corners.
  const double x = 0.3, y = 0.5;  // between nodes
  const double xs = 0.25, xe = 0.375, ys = 0.4, ye = 0.6;
  const double u = (x - xs) / (xe - xs), v = (y - ys) / (ye - ys);
  const double bilinear = (1 - u) * (1 - v) * f(xs, ys) + u * (1 - v) * f(xe, ys) + (1 - u) * v * f(xs, ye) + u * v * f(xe, ye);
  CHECK(lin.evaluate(std::vector<double>{x, y}) == Approx(bilinear).epsilon(1e-12));
  // Cubic is closer to the function than linear between nodes.
  LutModel::Options cubic_opt;
  cubic_opt.interpolation = LutModel::Interpolation::kCubic;
  const auto cub = LutModel::fit(grid_data(9, 6, false), cubic_opt);
  CHECK(cub.evaluate(std::vector<double>{0.5, 0.4}) == Approx(f(0.5, 0.4)).epsilon(1e-12));
  CHECK(std::abs(cub.evaluate(std::vector<double>{x, y}) - f(x, y)) < std::abs(bilinear - f(x, y)));
  // Honest errors: exact at nodes, a hold-out error from every other node.
  CHECK(lin.info().quality.rms_residual == 0);
  CHECK(lin.info().quality.cv_folds == 2);
  CHECK(lin.info().quality.cv_rms_residual > 0);
  CHECK(cub.info().quality.cv_rms_residual < lin.info().quality.cv_rms_residual);
  // The model file round-trips.
  const Model m = cub;
  const Model back = model_from_json(to_json(m));
  CHECK(evaluate(back, std::vector<double>{x, y}) == cub.evaluate(std::vector<double>{x, y}));
  CHECK(kind_name(back) == "lut");
}

TEST_CASE("a lookup table refuses holes and incomplete grids", "[unit][fit]") {
  auto d = grid_data(4, 3, false);
  d.output.values[5] = std::nan("");
  CHECK_THROWS_WITH(LutModel::fit(d, {}), "error GC-1614: lut: 1 of 12 points are NaN (failed): a table cannot bridge holes; rerun "
                                          "them or fit a poly");
  d = grid_data(4, 3, false);
  d.inputs[0].values.pop_back();
  d.inputs[1].values.pop_back();
  d.output.values.pop_back();
  CHECK_THROWS_WITH(LutModel::fit(d, {}), "error GC-1614: lut: the data is not a complete regular grid: 11 points, but the inputs' "
                                          "distinct values make 12");
}
