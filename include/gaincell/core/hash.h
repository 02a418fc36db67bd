// SPDX-License-Identifier: MIT
// File: gaincell/core/hash.h
//
// SHA-256 digests for provenance: every results file records the hashes of
// the spec, the template and the model cards it was made from, so that a
// merge or a refit can tell whether two files describe the same experiment.
//
//   std::string hex = gaincell::sha256_hex("abc");   // "ba7816bf..."
//   std::string file_hex = gaincell::sha256_file("netlists/pushpull_cell.cir");
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gaincell {

// splitmix64: a 64-bit mix, used as a counter-based generator where a draw
// must not depend on the order of the others (Monte Carlo samples, test faults).
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Lower-case hex SHA-256 (FIPS 180-4) of `data`.
std::string sha256_hex(std::string_view data);

// SHA-256 of a file's bytes. Throws IoError if the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// Reads a whole file. Throws IoError naming the path on failure, InputError
// GC-1813 for something that is not a regular file (a device, a FIFO, a
// directory: /dev/zero would be read forever).
std::string read_text_file(const std::filesystem::path& path);

// An output path gaincell may (re)create: absent, or a regular file (and so
// is PATH.partial), and not named like a run's working file (*.partial,
// *.journal, *.lock). Throws InputError GC-1812 otherwise: writing
// OUT.partial and renaming it over /dev/null would replace the device.
void check_output_file(const std::filesystem::path& path);
// Throws InputError GC-1812 if `path` exists and is not a regular file.
void check_regular_or_absent(const std::filesystem::path& path);

// Writes `text` to path.partial and renames it into place (check_output_file
// first). Throws IoError on failure; the old file is untouched then.
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace gaincell
