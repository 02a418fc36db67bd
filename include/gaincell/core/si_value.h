// SPDX-License-Identifier: MIT
// File: gaincell/core/si_value.h
//
// Numbers as SPICE writes them: a decimal number with an optional scale
// suffix ("15n", "1.5e-8", "0.9", "2meg"). gaincell reads such values from
// templates and specs, and writes every number that reaches ngspice through
// format_exact(), which produces only digits, '.', '-', '+' and 'e'. The
// parser is deliberately stricter than SPICE: SPICE ignores trailing letters
// ("0.9V" is 0.9, "15ns" is 15n), which hides typos and lets arbitrary text
// ride along with a value; here anything after the suffix is an error.
//
//   double t = gaincell::parse_si("15n");           // 1.5e-08
//   std::string why;
//   if (!gaincell::try_parse_si("0.9V", &why)) std::cerr << why << "\n";
//   std::string s = gaincell::format_exact(t);      // "1.5e-08"
//   std::string h = gaincell::format_human(t, "s"); // "15 ns"
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gaincell {

// Parses a SPICE-style number into SI base units.
//
// Grammar: [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits] [suffix]
// with at most one scale suffix, case-insensitive:
//   t=1e12 g=1e9 meg=1e6 k=1e3 mil=25.4e-6 m=1e-3 u=1e-6 n=1e-9 p=1e-12 f=1e-15 a=1e-18
// and nothing after it (no whitespace, no units, no expressions).
// Trap kept from SPICE: "1m" and "1M" are both 1e-3; mega is "meg".
// Decimal suffixes shift the exponent before conversion, so "15n" yields
// exactly the same double as "15e-9" and "1.5e-8" (correctly rounded).
//
// Throws gaincell::InputError, whose what() is
//   "error GC-NNNN: value \"TEXT\": ...; expected ...[\n  hint: ...]"
// (no file location; callers that know one catch and re-throw, or use
// try_parse_si) with id
//   GC-1001  empty text;
//   GC-1002  text does not start with a number ("abc", " 1", "nan", "{x}", "1e");
//   GC-1003  unknown suffix or trailing text after the number ("0.9V", "1;");
//   GC-1004  result is not a finite double (overflow "1e999", or a nonzero
//            value that underflows to zero, "1e-999").
double parse_si(std::string_view text);

// As parse_si, without throwing: returns std::nullopt on error and, if `why`
// is non-null, stores the message (without "error GC-NNNN: " and without the
// hint) in *why, e.g.
//   value "0.9V": unexpected "V" after the number; expected a number with an
//   optional SPICE scale suffix (a f p n u m mil k meg g t)
// On success *why is left untouched.
std::optional<double> try_parse_si(std::string_view text, std::string* why = nullptr);

// The shortest decimal text that parses back (with parse_si or strtod) to
// exactly `value`, via std::to_chars: 1.5e-08 -> "1.5e-08", 0.45 -> "0.45",
// 1e20 -> "1e+20", -0.0 -> "-0". Subnormals are fine.
// Throws InputError GC-1004 if `value` is NaN or infinite.
std::string format_exact(double value);

// Human-readable form: `value` rounded to `digits` significant digits
// (clamped to 1..17), trailing zeros removed, an engineering SI prefix and
// `unit`, separated by one space:
//   format_human(1.5e-8, "s") == "15 ns", format_human(1.72e-13, "C", 3) == "172 fC",
//   format_human(0, "s") == "0 s", format_human(-2.5e3, "V") == "-2.5 kV".
// Prefixes: a f p n µ m (none) k M G T; µ is UTF-8 U+00B5, or "u" if `ascii`.
// Magnitudes outside [1e-18, 1e15) (after rounding) are printed in
// scientific notation without a prefix ("1e-21 s"); NaN and infinities print
// as "nan s", "inf s", "-inf s". With an empty unit and no prefix the result
// is just the number. Never throws (except std::bad_alloc).
std::string format_human(double value, std::string_view unit, int digits = 4, bool ascii = false);

}  // namespace gaincell
