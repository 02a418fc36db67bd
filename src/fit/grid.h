// SPDX-License-Identifier: MIT
// Internal: row-major grids, the last dimension varying fastest, the layout
// of tables, of exported grids and of results files' points.
#pragma once

#include <cstddef>
#include <vector>

namespace gaincell::fit::detail {

// The position along dimension d of the point with flat index `flat` in a
// grid of dimensions `sizes`.
template <typename Sizes>
std::size_t grid_position(std::size_t flat, const Sizes& sizes, std::size_t d) {
  for (std::size_t e = sizes.size(); e-- > d + 1;) flat /= static_cast<std::size_t>(sizes[e]);
  return flat % static_cast<std::size_t>(sizes[d]);
}

// Positions along every dimension of the point with flat index `flat`.
inline std::vector<std::size_t> grid_index(std::size_t flat, const std::vector<std::size_t>& sizes) {
  std::vector<std::size_t> idx(sizes.size());
  for (std::size_t d = sizes.size(); d-- > 0;) {
    idx[d] = flat % sizes[d];
    flat /= sizes[d];
  }
  return idx;
}

// The flat index of the point at positions `idx`.
inline std::size_t flat_index(const std::vector<std::size_t>& idx, const std::vector<std::size_t>& sizes) {
  std::size_t flat = 0;
  for (std::size_t d = 0; d < sizes.size(); ++d) flat = flat * sizes[d] + idx[d];
  return flat;
}

inline std::vector<std::size_t> grid_sizes(const std::vector<std::vector<double>>& axes) {
  std::vector<std::size_t> sizes;
  for (const auto& a : axes) sizes.push_back(a.size());
  return sizes;
}

// The coordinates of the point with flat index `flat` on the grid of `axes`.
inline std::vector<double> grid_point(std::size_t flat, const std::vector<std::vector<double>>& axes) {
  std::vector<double> x(axes.size());
  for (std::size_t d = axes.size(); d-- > 0;) {
    x[d] = axes[d][flat % axes[d].size()];
    flat /= axes[d].size();
  }
  return x;
}

// The number of points of the grid of `axes`.
inline std::size_t grid_count(const std::vector<std::vector<double>>& axes) {
  std::size_t total = 1;
  for (const auto& a : axes) total *= a.size();
  return total;
}

}  // namespace gaincell::fit::detail
