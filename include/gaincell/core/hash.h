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

// Lower-case hex SHA-256 (FIPS 180-4) of `data`.
std::string sha256_hex(std::string_view data);

// SHA-256 of a file's bytes. Throws IoError if the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);

// Reads a whole file. Throws IoError naming the path on failure.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace gaincell
