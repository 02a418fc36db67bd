// SPDX-License-Identifier: MIT
// File: gaincell/sweep/journal.h
//
// The append-only journal of a sweep (OUT.h5.journal): one checksummed record
// per finished point, written with one write(2) as each result arrives, so a
// sweep killed at any moment (SIGKILL included) loses at most the points in
// flight and the HDF5 file can always be rebuilt (docs/cluster.md, "resume").
//
// Layout (little endian): "GCJ1", u32 header length, header JSON, u32 CRC-32
// of the header; then records: u32 magic 0x4A52434A, u32 payload length,
// payload (u64 point, u8 outcome, u32 n, n x f64 values, f64 parse time,
// f64 run time, u32 message length, message), u32 CRC-32 of the payload.
// A torn last record (a write cut short by the kill) is dropped on reading;
// damage before the last record is an error (GC-1804), never skipped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/core/unique_fd.h"
#include "gaincell/spice/outcome.h"

namespace gaincell::sweep {

struct JournalRecord {
  std::size_t point = 0;
  spice::SimOutcome outcome = spice::SimOutcome::kNotRun;
  std::vector<double> values;
  double parse_time_s = 0, run_time_s = 0;
  std::string message;
};

struct JournalContents {
  nlohmann::json header;
  std::vector<JournalRecord> records;
  std::uintmax_t valid_bytes = 0;  // length of the intact prefix
  bool torn_tail = false;          // a cut-short last record was found (and is dropped)
};

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0);

// Reads a journal. Throws IoError if unreadable, InputError GC-1804 if damaged
// anywhere but in its last record.
JournalContents read_journal(const std::filesystem::path& path);

class JournalWriter {
 public:
  // Creates (truncating) a journal with this header.
  static JournalWriter create(const std::filesystem::path& path, const nlohmann::json& header);
  // Opens an existing journal for appending after `valid_bytes` (truncating a torn tail).
  static JournalWriter append(const std::filesystem::path& path, std::uintmax_t valid_bytes);

  void write(const JournalRecord& record);  // one write(2); IoError on failure
  void sync();                              // fdatasync
  void close_and_remove();
  const std::filesystem::path& path() const { return path_; }

 private:
  JournalWriter(std::filesystem::path path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  UniqueFd fd_;
};

}  // namespace gaincell::sweep
