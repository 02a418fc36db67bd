// SPDX-License-Identifier: MIT
// File: gaincell/eval/evaluator.h
//
// The array-level attention evaluator: the authors' two-stage forward pass
// (docs/evaluator.md) on Q, K, V shaped [batch, head, token, dim] or
// [batch, token, dim], with the cell of the configuration (poly, linear,
// fitted, ode). Two modes give identical outputs:
//  * forward(): whole sequence, all queries at once (training view);
//  * DecodeSession::step(): one token at a time, as the hardware runs: the
//    token's K and V are written into the window's next column, older
//    columns age by the decay, and its Q reads the window.
// The T x T matrices S and phi are built only when asked (intermediates).
// Multithreaded over batch x head (x query chunks); config.threads.
//
//   Evaluator ev(preset("reference"));
//   EvalResult r = ev.forward(q, k, v, /*intermediates=*/false);
//   auto s = ev.start_decode(batch, heads, dim);
//   s.step(q_t, k_t, v_t, out_t);   // each [batch, head, dim]
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "gaincell/eval/cell_model.h"
#include "gaincell/eval/config.h"

namespace gaincell::eval {

// A float32 array, row-major.
struct Tensor {
  std::vector<std::size_t> shape;
  std::vector<float> data;
  std::size_t size() const;
};

struct EvalResult {
  Tensor output;  // Q's shape
  Tensor S;       // [B, (H,) T, T] when intermediates were asked
  Tensor phi;     // [B, (H,) T, T]
  std::vector<std::string> warnings;  // e.g. the ODE's line left the current model's range
};

// Progress: (done, total) work items; may be called from worker threads
// (serialized by the evaluator).
using EvalProgress = std::function<void(std::size_t done, std::size_t total)>;

class Evaluator {
 public:
  // Builds the cell mapping and the decay tables. Throws InputError.
  explicit Evaluator(EvalConfig config);
  ~Evaluator();
  Evaluator(Evaluator&&) noexcept;
  Evaluator& operator=(Evaluator&&) noexcept;

  // Q, K, V of equal shapes [B, H, T, D] or [B, T, D]. Throws InputError
  // GC-1707 for bad shapes, GC-1708 for non-finite inputs, GC-1709 when a
  // per-head scaler has the wrong number of heads.
  EvalResult forward(const Tensor& q, const Tensor& k, const Tensor& v, bool intermediates,
                     const EvalProgress& progress = {}) const;

  class DecodeSession {
   public:
    DecodeSession(DecodeSession&&) noexcept;
    DecodeSession& operator=(DecodeSession&&) noexcept;
    ~DecodeSession();
    // q, k, v: [batch * heads * dim] for the next token; out the same size.
    void step(const float* q, const float* k, const float* v, float* out);
    std::size_t tokens() const;  // tokens processed so far

   private:
    friend class Evaluator;
    struct State;
    explicit DecodeSession(std::unique_ptr<State> s);
    std::unique_ptr<State> state_;
  };
  // Not available in ode mode (GC-1710).
  DecodeSession start_decode(std::size_t batch, std::size_t heads, std::size_t dim) const;

  // Whole-sequence result computed by the decode loop (same outputs).
  EvalResult forward_decode(const Tensor& q, const Tensor& k, const Tensor& v,
                            const EvalProgress& progress = {}) const;

  const EvalConfig& config() const;
  const CellMapping& cell() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Threads used for a configuration (config.threads, or one per core).
unsigned thread_count(const EvalConfig& config);

}  // namespace gaincell::eval
