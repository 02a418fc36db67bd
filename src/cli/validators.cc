// SPDX-License-Identifier: MIT
#include <cmath>
#include <string>

#include "commands.h"
#include "gaincell/core/si_value.h"

namespace gaincell::cli {

CLI::Validator within(double lo, double hi, const std::string& limit) {
  const std::string range = "[" + gaincell::format_exact(lo) + ", " + gaincell::format_exact(hi) + "]";
  return CLI::Validator(
      [lo, hi, range, limit](std::string& text) -> std::string {
        std::string why;
        const auto v = gaincell::try_parse_si(text, &why);
        if (!v) return "expected a number (SPICE suffixes allowed: 500f, 1.5n, 10meg); " + why;
        if (!(*v >= lo && *v <= hi)) {
          return "value " + text + " is outside " + range + (limit.empty() ? "" : " (" + limit + ")");
        }
        return std::string();
      },
      range, "within");
}

}  // namespace gaincell::cli
