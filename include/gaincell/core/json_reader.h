// SPDX-License-Identifier: MIT
// File: gaincell/core/json_reader.h
//
// Reads a JSON document whose every error must name its place: the file, the
// line and column, the JSON Pointer and what was expected. Specs and cell
// cards share it; each passes its own error ids (GC-12xx, GC-20xx).
//
//   JsonReader r(text, "card.json", kCardIds);
//   const nlohmann::json root = r.parse();
//   r.check_keys(root, "", {"format", "name"});
//   double v = r.number(r.require(root, "", "vdd_v"), "/vdd_v", "V");
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace gaincell {

// The error ids a document kind uses for each class of problem.
struct JsonErrorIds {
  const char* syntax;       // not JSON
  const char* missing;      // a required key is absent, or one of several forms is required
  const char* type;         // wrong JSON type or unreadable number
  const char* unknown_key;  // a key the format does not have
  const char* value;        // a value outside its allowed set or range
};

// Parses a whole JSON document named `file` in errors. Throws InputError `id`
// at the line:column of a syntax error, of a number too large for a double
// (1e400), or of nesting deeper than limits::kMaxJsonDepth (checked before
// parsing, so no deep document reaches a recursive reader).
nlohmann::json parse_json_text(const std::string& text, const std::string& file, const char* id);

// "string \"0.9V\"", "object {...}": a value as errors show it.
std::string shown_json(const nlohmann::json& j);

class JsonReader {
 public:
  // `text` must outlive the reader (errors locate pointers in it).
  JsonReader(const std::string& text, std::string file, JsonErrorIds ids);

  // Parses the text; a syntax error throws InputError `ids.syntax` at its line:column.
  nlohmann::json parse() const;

  // Throws InputError `id` located at `pointer` (its key with `at_key`).
  [[noreturn]] void fail(const std::string& pointer, const std::string& id, const std::string& message,
                         const std::string& hint = "", bool at_key = false) const;
  // The same with the value-error id.
  [[noreturn]] void bad_value(const std::string& pointer, const std::string& message, const std::string& hint = "") const {
    fail(pointer, ids_.value, message, hint);
  }

  void check_keys(const nlohmann::json& obj, const std::string& pointer, std::initializer_list<const char*> allowed) const;
  // The object obj[key] (at pointer/key), its keys checked against `allowed`:
  // a required one (missing: the missing-key error), or an optional one
  // (nullptr when absent).
  const nlohmann::json& required_section(const nlohmann::json& obj, const std::string& pointer, const char* key,
                                         std::initializer_list<const char*> allowed) const;
  const nlohmann::json* optional_section(const nlohmann::json& obj, const std::string& pointer, const char* key,
                                         std::initializer_list<const char*> allowed) const;
  const nlohmann::json& require(const nlohmann::json& obj, const std::string& pointer, const char* key) const;
  const nlohmann::json& object(const nlohmann::json& j, const std::string& pointer) const;
  const nlohmann::json& array(const nlohmann::json& j, const std::string& pointer) const;
  // The elements of the array obj[key], if there is one, each with its
  // pointer (pointer/key/i); none if absent.
  std::vector<std::pair<std::string, const nlohmann::json*>> items_if(const nlohmann::json& obj, const std::string& pointer,
                                                                      const char* key) const;
  std::string string(const nlohmann::json& j, const std::string& pointer) const;
  bool boolean(const nlohmann::json& j, const std::string& pointer) const;
  // An integer in [lo, hi].
  long long integer(const nlohmann::json& j, const std::string& pointer, long long lo, long long hi) const;
  // A number in SI units: a JSON number, or a string with a SPICE suffix ("15n").
  double number(const nlohmann::json& j, const std::string& pointer, const std::string& unit) const;
  // If `obj` has `key`: reads it as number() at pointer/key into `value` and
  // returns true; else leaves `value` (its default) and returns false.
  bool number_if(const nlohmann::json& obj, const std::string& pointer, const char* key, const std::string& unit,
                 double& value) const;
  // number_if for each field, in order.
  struct NumberField {
    const char* key;
    const char* unit;
    double* value;
  };
  void numbers_if(const nlohmann::json& obj, const std::string& pointer, std::initializer_list<NumberField> fields) const;
  // A list of numbers: an array, {"linspace": {start, stop, count}} or
  // {"logspace": {start, stop, count}} (start, stop > 0).
  std::vector<double> number_list(const nlohmann::json& j, const std::string& pointer, const std::string& unit) const;

  const std::string& file() const { return file_; }
  const JsonErrorIds& ids() const { return ids_; }

 private:
  const std::string& text_;
  std::string file_;
  JsonErrorIds ids_;
};

}  // namespace gaincell
