// SPDX-License-Identifier: MIT
#include "gaincell/core/si_value.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "gaincell/core/error.h"

using gaincell::InputError;
using gaincell::format_exact;
using gaincell::format_human;
using gaincell::parse_si;
using gaincell::try_parse_si;

namespace {

const std::string kExpectedText =
    "expected a number with an optional SPICE scale suffix (a f p n u m mil k meg g t)";

std::string id_of(std::string_view text) {
  try {
    parse_si(text);
  } catch (const InputError& e) {
    return e.id();
  }
  return "";
}

}  // namespace

TEST_CASE("parse_si reads plain numbers", "[unit]") {
  CHECK(parse_si("1") == 1.0);
  CHECK(parse_si("-0.45") == -0.45);
  CHECK(parse_si("+0.45") == 0.45);
  CHECK(parse_si("1.5e-8") == 1.5e-8);
  CHECK(parse_si("1.5E-8") == 1.5e-8);
  CHECK(parse_si("2e+3") == 2000.0);
  CHECK(parse_si(".5") == 0.5);
  CHECK(parse_si("5.") == 5.0);
  CHECK(parse_si("0") == 0.0);
  CHECK(std::signbit(parse_si("-0")));
  CHECK(parse_si("007") == 7.0);
}

TEST_CASE("parse_si applies every scale suffix, case-insensitively", "[unit]") {
  struct Case {
    const char* text;
    double value;
  };
  const Case cases[] = {
      {"1t", 1e12},   {"1T", 1e12},     {"1g", 1e9},     {"1G", 1e9},    {"1meg", 1e6},
      {"1MEG", 1e6},  {"1Meg", 1e6},    {"1k", 1e3},     {"1K", 1e3},    {"1m", 1e-3},
      {"1u", 1e-6},   {"1U", 1e-6},     {"1n", 1e-9},    {"1N", 1e-9},   {"1p", 1e-12},
      {"1P", 1e-12},  {"1f", 1e-15},    {"1F", 1e-15},   {"1a", 1e-18},  {"1A", 1e-18},
      {"2.5k", 2500}, {"-3.3u", -3.3e-6}, {".5n", 0.5e-9}, {"1e3k", 1e6}, {"1e-3m", 1e-6},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(parse_si(c.text) == c.value);
  }
  CHECK(parse_si("1mil") == Approx(25.4e-6).epsilon(1e-15));
  CHECK(parse_si("1MIL") == Approx(25.4e-6).epsilon(1e-15));
  CHECK(parse_si("2mil") == Approx(50.8e-6).epsilon(1e-15));
}

TEST_CASE("parse_si keeps the SPICE m/meg trap", "[unit]") {
  CHECK(parse_si("1m") == 1e-3);
  CHECK(parse_si("1M") == 1e-3);  // milli, not mega: SPICE is case-insensitive
  CHECK(parse_si("1meg") == 1e6);
  CHECK(parse_si("1mEg") == 1e6);
}

TEST_CASE("parse_si scales in decimal, so suffixed values are correctly rounded", "[unit]") {
  // 15 * 1e-9 in binary is one ulp away from 1.5e-8; the exponent shift is not.
  CHECK(parse_si("15n") == 1.5e-8);
  CHECK(format_exact(parse_si("15n")) == "1.5e-08");
  CHECK(parse_si("0.45u") == 0.45e-6);
  CHECK(parse_si("172f") == 172e-15);
}

TEST_CASE("parse_si error messages", "[unit]") {
  CHECK_THROWS_WITH(parse_si(""), "error GC-1001: value \"\": empty; " + kExpectedText);
  CHECK_THROWS_WITH(parse_si("abc"), "error GC-1002: value \"abc\": not a number; " + kExpectedText);
  CHECK_THROWS_WITH(parse_si(" 1"), "error GC-1002: value \" 1\": not a number; " + kExpectedText +
                                        "\n  hint: remove the white space around the number");
  CHECK_THROWS_WITH(parse_si("nan"), "error GC-1002: value \"nan\": not a number; " + kExpectedText +
                                         "\n  hint: values must be finite numbers");
  CHECK_THROWS_WITH(parse_si("{x}"), "error GC-1002: value \"{x}\": not a number; " + kExpectedText +
                                         "\n  hint: expressions are not allowed here; write a plain number");
  CHECK_THROWS_WITH(parse_si("1e"),
                    "error GC-1002: value \"1e\": exponent \"e\" has no digits; " + kExpectedText);
  CHECK_THROWS_WITH(parse_si("0.9V"),
                    "error GC-1003: value \"0.9V\": unexpected \"V\" after the number; " + kExpectedText +
                        "\n  hint: units are not written in values: 0.9V -> 0.9");
  CHECK_THROWS_WITH(parse_si("15ns"),
                    "error GC-1003: value \"15ns\": unexpected \"s\" after the scale suffix \"n\"; " +
                        kExpectedText + "\n  hint: units are not written in values: 15ns -> 15n");
  CHECK_THROWS_WITH(parse_si("1Mohm"),
                    "error GC-1003: value \"1Mohm\": unexpected \"ohm\" after the scale suffix \"M\"; " +
                        kExpectedText +
                        "\n  hint: units are not written in values: 1Mohm -> 1M (but note that M "
                        "means milli, 1e-3; mega is meg)");
  CHECK_THROWS_WITH(parse_si("1..2"),
                    "error GC-1003: value \"1..2\": unexpected \".2\" after the number; " + kExpectedText);
  CHECK_THROWS_WITH(parse_si("1;"),
                    "error GC-1003: value \"1;\": unexpected \";\" after the number; " + kExpectedText);
  CHECK_THROWS_WITH(parse_si("1e999"),
                    "error GC-1004: value \"1e999\": too large for a double (the largest is about "
                    "1.8e308); expected a finite number");
  CHECK_THROWS_WITH(parse_si("1e-999"),
                    "error GC-1004: value \"1e-999\": too small for a double, it would become 0 (the "
                    "smallest is about 4.9e-324); expected a finite number\n  hint: write 0 if zero is meant");
}

TEST_CASE("parse_si rejects everything SPICE would half-accept", "[unit]") {
  for (const char* text : {"", " 1", "1 ", "\t1"}) {
    INFO('"' << text << '"');
    CHECK(!id_of(text).empty());
  }
  CHECK(id_of("") == "GC-1001");
  for (const char* text : {"abc", " 1", "nan", "NaN", "inf", "-inf", "infinity", "{x}", "{vdd}", "'1+2'",
                           "1e", "1e+", "E5", ".", "-", "+", ".e3", "k"}) {
    INFO(text);
    CHECK(id_of(text) == "GC-1002");
  }
  for (const char* text : {"0.9V", "15ns", "1..2", "1;", "1x", "1megg", "1mm", "1kk", "1 ", "1e3.5",
                           "1,5", "1meg5", "0x10", "1\xc2\xb5"}) {
    INFO(text);
    CHECK(id_of(text) == "GC-1003");
  }
  for (const char* text : {"1e999", "-1e999", "1e308k", "1e-999", "1e-320f", "1e99999999999999999999"}) {
    INFO(text);
    CHECK(id_of(text) == "GC-1004");
  }
  CHECK(parse_si("0e99999999") == 0.0);  // zero stays zero, however large the exponent
}

TEST_CASE("parse_si rejects injection attempts and quotes them safely", "[unit]") {
  CHECK_THROWS_WITH(parse_si("0.45\n.control"),
                    "error GC-1003: value \"0.45\\n.control\": unexpected \"\\n.control\" after the number; " +
                        kExpectedText +
                        "\n  hint: a value is a single word; remove the white space and anything after it");
  CHECK_THROWS_WITH(parse_si("1 shell rm"),
                    "error GC-1003: value \"1 shell rm\": unexpected \" shell rm\" after the number; " +
                        kExpectedText +
                        "\n  hint: a value is a single word; remove the white space and anything after it");
  CHECK_THROWS_WITH(parse_si("{vdd}"), "error GC-1002: value \"{vdd}\": not a number; " + kExpectedText +
                                           "\n  hint: expressions are not allowed here; write a plain number");
  CHECK(id_of("1\n.control\nshell rm -rf /\n.endc") == "GC-1003");
  CHECK(id_of(std::string("1\0", 2)) == "GC-1003");
  // Long text is cut in the message so one bad value cannot flood a log.
  const std::string long_text = "1" + std::string(200, 'x');
  std::string why;
  CHECK(!try_parse_si(long_text, &why));
  CHECK(why.find("xxx...\"") != std::string::npos);
  CHECK(why.size() < 300);
}

TEST_CASE("try_parse_si reports without throwing", "[unit]") {
  std::string why = "untouched";
  REQUIRE(try_parse_si("2.5k", &why) == 2500.0);
  CHECK(why == "untouched");
  CHECK(!try_parse_si("0.9V", &why));
  CHECK(why == "value \"0.9V\": unexpected \"V\" after the number; " + kExpectedText);
  CHECK(!try_parse_si("", nullptr));
  CHECK(!try_parse_si("1e999"));
}

TEST_CASE("format_exact is shortest and exact", "[unit]") {
  CHECK(format_exact(1.5e-8) == "1.5e-08");
  CHECK(format_exact(0.45) == "0.45");
  CHECK(format_exact(0.0) == "0");
  CHECK(format_exact(-2.5) == "-2.5");
  CHECK(format_exact(1e20) == "1e+20");
  CHECK(format_exact(0.1 + 0.2) == "0.30000000000000004");
  CHECK_THROWS_WITH(format_exact(std::numeric_limits<double>::quiet_NaN()),
                    "error GC-1004: cannot write \"nan\" as a SPICE number; expected a finite number");
  CHECK_THROWS_WITH(format_exact(-std::numeric_limits<double>::infinity()),
                    "error GC-1004: cannot write \"-inf\" as a SPICE number; expected a finite number");
}

TEST_CASE("format_exact round-trips through parse_si", "[unit]") {
  const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.45, 1.5e-8, 1e-300, 1e300,
                          std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                          std::numeric_limits<double>::min(), std::nextafter(1.0, 2.0), 123456789.123456789};
  for (const double v : fixed) {
    INFO(format_exact(v));
    const double back = parse_si(format_exact(v));
    CHECK(std::memcmp(&back, &v, sizeof v) == 0);
  }
  // Random bit patterns cover all exponents; a fixed seed keeps failures reproducible.
  std::mt19937_64 rng(20240611);
  int checked = 0;
  while (checked < 20000) {
    const std::uint64_t bits = rng();
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v) || std::fpclassify(v) == FP_SUBNORMAL) continue;
    const std::string text = format_exact(v);
    const double back = parse_si(text);
    if (back != v) FAIL("round trip failed for " << text);
    ++checked;
  }
  // And the engineering-scale values that actually appear in netlists.
  std::uniform_real_distribution<double> mantissa(-1000.0, 1000.0);
  std::uniform_int_distribution<int> exponent(-18, 12);
  for (int i = 0; i < 20000; ++i) {
    const double v = mantissa(rng) * std::pow(10.0, exponent(rng));
    const double back = parse_si(format_exact(v));
    if (back != v) FAIL("round trip failed for " << format_exact(v));
  }
}

TEST_CASE("format_human picks an SI prefix", "[unit]") {
  CHECK(format_human(1.5e-8, "s") == "15 ns");
  CHECK(format_human(1.72e-13, "C", 3) == "172 fC");
  CHECK(format_human(0, "s") == "0 s");
  CHECK(format_human(-2.5e3, "V") == "-2.5 kV");
  CHECK(format_human(3.3e-6, "s") == "3.3 \xc2\xb5s");
  CHECK(format_human(3.3e-6, "s", 4, true) == "3.3 us");
  CHECK(format_human(1e-18, "C") == "1 aC");
  CHECK(format_human(2e-15, "F") == "2 fF");
  CHECK(format_human(5e-12, "F") == "5 pF");
  CHECK(format_human(0.9, "V") == "900 mV");
  CHECK(format_human(1.0, "V") == "1 V");
  CHECK(format_human(2.2e6, "Ohm") == "2.2 MOhm");
  CHECK(format_human(3e9, "Hz") == "3 GHz");
  CHECK(format_human(4e12, "Hz") == "4 THz");
  CHECK(format_human(123456.0, "Hz") == "123.5 kHz");
  CHECK(format_human(123456.0, "Hz", 2) == "120 kHz");
  CHECK(format_human(999.96e-9, "s") == "1 \xc2\xb5s");  // rounding moves to the next prefix
  CHECK(format_human(1e-21, "s") == "1e-21 s");
  CHECK(format_human(2.5e15, "Hz") == "2.5e+15 Hz");
  CHECK(format_human(1500, "") == "1.5 k");
  CHECK(format_human(2, "") == "2");
  CHECK(format_human(std::numeric_limits<double>::infinity(), "s") == "inf s");
  CHECK(format_human(std::numeric_limits<double>::quiet_NaN(), "s") == "nan s");
}
