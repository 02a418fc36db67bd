// SPDX-License-Identifier: MIT
// File: gaincell/spice/protocol.h
//
// The parent and its workers talk over a Unix stream socket in frames:
// a 4-byte little-endian length, then that many bytes of CBOR. Messages:
//   worker -> parent  {"type":"hello","pid":..,"ngspice_version":".."}
//   parent -> worker  {"type":"run", job...}   | {"type":"quit"}
//   worker -> parent  {"type":"result", result...}
//   worker -> parent  {"type":"fatal","message":".."}  (cannot start)
// Internal: not a public file format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/spice/job.h"

namespace gaincell::spice::protocol {

constexpr std::uint32_t kMaxFrameBytes = 256u << 20;  // a frame is never larger

// Blocking write of one frame; returns false if the peer is gone (EPIPE etc.).
// The bytes of a frame (length prefix + CBOR), for a non-blocking sender.
std::string encode_frame(const nlohmann::json& message);

bool write_frame(int fd, const nlohmann::json& message);
// Blocking read of one frame; std::nullopt on EOF. Throws IoError on a corrupt frame.
std::optional<nlohmann::json> read_frame(int fd);

// Accumulates bytes from a non-blocking fd and yields complete frames.
class FrameBuffer {
 public:
  void append(const char* data, std::size_t size);
  // Next complete frame, if any. Throws IoError on a corrupt frame.
  std::optional<nlohmann::json> next();
  bool empty() const { return buffer_.size() == offset_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t offset_ = 0;
};

nlohmann::json job_to_json(const SimJob& job);
SimJob job_from_json(const nlohmann::json& j);
nlohmann::json result_to_json(const SimResult& result);
SimResult result_from_json(const nlohmann::json& j);

}  // namespace gaincell::spice::protocol
