// SPDX-License-Identifier: MIT
#include "gaincell/core/json_reader.h"

#include <algorithm>
#include <cmath>

#include "gaincell/core/error.h"
#include "gaincell/core/limits.h"
#include "gaincell/core/json_location.h"
#include "gaincell/core/si_value.h"

namespace gaincell {

using nlohmann::json;

std::string shown_json(const json& j) {
  const char* type = "number";
  switch (j.type()) {
    case json::value_t::null: type = "null"; break;
    case json::value_t::boolean: type = "boolean"; break;
    case json::value_t::string: type = "string"; break;
    case json::value_t::array: type = "array"; break;
    case json::value_t::object: type = "object"; break;
    default: break;
  }
  std::string s = j.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return std::string(type) + " " + s;
}

JsonReader::JsonReader(const std::string& text, std::string file, JsonErrorIds ids)
    : text_(text), file_(std::move(file)), ids_(ids) {}

json parse_json_text(const std::string& text, const std::string& file, const char* id) {
  // Nesting depth first, outside strings: deeper documents are refused
  // before any recursive code (parser, dump, pointer search) sees them.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') {
      if (++depth > limits::kMaxJsonDepth) {
        auto [line, col] = line_column(text, i);
        throw InputError(id,
                          "invalid JSON: nested deeper than " + std::to_string(limits::kMaxJsonDepth) +
                              " levels (limits::kMaxJsonDepth, docs/cli.md#limits)").at({file, line, col, ""});
      }
    }
    if (c == ']' || c == '}') --depth;
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    auto [line, col] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
    const std::string what = e.what();
    const auto at = what.find("syntax error");
    throw InputError(id, "invalid JSON: " + (at != std::string::npos ? what.substr(at) : what)).at({file, line, col, ""});
  } catch (const json::out_of_range& e) {
    // A number too large for a double: nlohmann gives no offset; find it.
    const std::string what = e.what();
    const auto q1 = what.find('\'');
    const auto q2 = q1 == std::string::npos ? q1 : what.find('\'', q1 + 1);
    const std::string number = q2 == std::string::npos ? "" : what.substr(q1 + 1, q2 - q1 - 1);
    const auto offset = number.empty() ? std::string::npos : text.find(number);
    auto [line, col] = offset == std::string::npos ? std::pair<int, int>{0, 0} : line_column(text, offset);
    throw InputError(id,
                      "invalid JSON: the number " + (number.empty() ? std::string("here") : number) +
                          " does not fit a double (about 1.8e308 at most)").at({file, line, col, ""});
  } catch (const json::exception& e) {
    throw InputError(id, std::string("invalid JSON: ") + e.what()).at({file, 0, 0, ""});
  }
}

json JsonReader::parse() const { return parse_json_text(text_, file_, ids_.syntax); }

void JsonReader::fail(const std::string& pointer, const std::string& id, const std::string& message,
                      const std::string& hint, bool at_key) const {
  auto [line, col] = locate_json_pointer(text_, pointer, at_key);
  throw InputError(id, message, hint).at({file_, line, col, pointer.empty() ? "/" : pointer});
}

void JsonReader::check_keys(const json& obj, const std::string& pointer, std::initializer_list<const char*> allowed) const {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return it.key() == k; });
    if (!known) {
      std::string list;
      for (const char* k : allowed) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(pointer + "/" + it.key(), ids_.unknown_key, "unknown key '" + it.key() + "'; expected one of: " + list, "",
           /*at_key=*/true);
    }
  }
}

const json& JsonReader::required_section(const json& obj, const std::string& pointer, const char* key,
                                         std::initializer_list<const char*> allowed) const {
  const std::string at = pointer + "/" + key;
  const json& section = object(require(obj, pointer, key), at);
  check_keys(section, at, allowed);
  return section;
}

const json* JsonReader::optional_section(const json& obj, const std::string& pointer, const char* key,
                                         std::initializer_list<const char*> allowed) const {
  return obj.contains(key) ? &required_section(obj, pointer, key, allowed) : nullptr;
}

const json& JsonReader::require(const json& obj, const std::string& pointer, const char* key) const {
  if (!obj.is_object() || !obj.contains(key)) fail(pointer, ids_.missing, std::string("missing required key '") + key + "'");
  return obj.at(key);
}

const json& JsonReader::object(const json& j, const std::string& pointer) const {
  if (!j.is_object()) fail(pointer, ids_.type, "expected an object, found " + shown_json(j));
  return j;
}

const json& JsonReader::array(const json& j, const std::string& pointer) const {
  if (!j.is_array()) fail(pointer, ids_.type, "expected an array, found " + shown_json(j));
  return j;
}

std::vector<std::pair<std::string, const json*>> JsonReader::items_if(const json& obj, const std::string& pointer,
                                                                    const char* key) const {
  std::vector<std::pair<std::string, const json*>> items;
  if (!obj.contains(key)) return items;
  const std::string at = pointer + "/" + key;
  const json& list = array(obj[key], at);
  for (std::size_t i = 0; i < list.size(); ++i) items.emplace_back(at + "/" + std::to_string(i), &list[i]);
  return items;
}

std::string JsonReader::string(const json& j, const std::string& pointer) const {
  if (!j.is_string()) fail(pointer, ids_.type, "expected a string, found " + shown_json(j));
  return j.get<std::string>();
}

bool JsonReader::boolean(const json& j, const std::string& pointer) const {
  if (!j.is_boolean()) fail(pointer, ids_.type, "expected true or false, found " + shown_json(j));
  return j.get<bool>();
}

long long JsonReader::integer(const json& j, const std::string& pointer, long long lo, long long hi) const {
  if (!j.is_number_integer() || j.get<long long>() < lo || j.get<long long>() > hi) {
    fail(pointer, ids_.type,
         "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], found " + shown_json(j));
  }
  return j.get<long long>();
}

double JsonReader::number(const json& j, const std::string& pointer, const std::string& unit) const {
  const std::string what = "expected a number" + (unit.empty() ? std::string() : " (" + unit + ")");
  if (j.is_number()) {
    const double v = j.get<double>();
    if (!std::isfinite(v)) fail(pointer, ids_.type, what + ", found a non-finite number");
    return v;
  }
  if (j.is_string()) {
    auto v = gaincell::try_parse_si(j.get<std::string>());
    if (!v) {
      fail(pointer, ids_.type, what + ", found string " + j.dump(),
           "write plain SI numbers (0.9) or SPICE suffixes (\"15n\"); units are not part of values");
    }
    return *v;
  }
  fail(pointer, ids_.type, what + ", found " + shown_json(j));
}

bool JsonReader::number_if(const json& obj, const std::string& pointer, const char* key, const std::string& unit,
                           double& value) const {
  if (!obj.contains(key)) return false;
  value = number(obj[key], pointer + "/" + key, unit);
  return true;
}

void JsonReader::numbers_if(const json& obj, const std::string& pointer, std::initializer_list<NumberField> fields) const {
  for (const NumberField& f : fields) number_if(obj, pointer, f.key, f.unit, *f.value);
}

std::vector<double> JsonReader::number_list(const json& j, const std::string& pointer, const std::string& unit) const {
  std::vector<double> out;
  if (j.is_array()) {
    for (std::size_t k = 0; k < j.size(); ++k) out.push_back(number(j[k], pointer + "/" + std::to_string(k), unit));
    return out;
  }
  object(j, pointer);
  check_keys(j, pointer, {"linspace", "logspace"});
  if (j.size() != 1) fail(pointer, ids_.missing, "expected exactly one of \"linspace\" or \"logspace\"");
  const bool log = j.contains("logspace");
  const std::string lp = pointer + (log ? "/logspace" : "/linspace");
  const json& l = object(j.begin().value(), lp);
  check_keys(l, lp, {"start", "stop", "count"});
  const double start = number(require(l, lp, "start"), lp + "/start", unit);
  const double stop = number(require(l, lp, "stop"), lp + "/stop", unit);
  const json& cj = require(l, lp, "count");
  if (!cj.is_number_integer() || cj.get<long long>() < 1) {
    fail(lp + "/count", ids_.type, "expected an integer >= 1, found " + shown_json(cj));
  }
  if (log && !(start > 0 && stop > 0)) fail(lp, ids_.value, "logspace needs start > 0 and stop > 0");
  const auto count = static_cast<std::size_t>(cj.get<long long>());
  if (count > limits::kMaxListValues) {
    fail(lp + "/count", ids_.value, "at most " + std::to_string(limits::kMaxListValues) +
                                        " values (limits::kMaxListValues, docs/cli.md#limits)");
  }
  for (std::size_t k = 0; k < count; ++k) {
    // start + k*step loses the end point to rounding; interpolate, and hit stop exactly.
    const double f = count == 1 ? 0.0 : static_cast<double>(k) / static_cast<double>(count - 1);
    const double v = log ? start * std::pow(stop / start, f) : start + (stop - start) * f;
    out.push_back(k + 1 == count ? stop : v);
  }
  return out;
}

}  // namespace gaincell
