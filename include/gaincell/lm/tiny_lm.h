// SPDX-License-Identifier: MIT
// File: gaincell/lm/tiny_lm.h
//
// The tiny language model shipped in data/tinylm/ (docs/calibration.md): a
// character-level GPT (token and position embeddings, pre-norm blocks of
// attention and a tanh-GELU MLP, a tied head) whose attention is computed by
// ideal softmax or by the evaluator under any configuration, so that a cell
// can be judged by what it does to a language model: validation
// cross-entropy and perplexity, before and after the authors' adaptation of
// the per-head scalers (eval/calibrate.h) over the whole model.
//
//   const lm::TinyLm model = lm::TinyLm::load("data/tinylm/linear.h5");
//   const auto ids = model.encode(read_text_file("data/tinylm/heldout.txt"));
//   lm::Attention cubic = lm::evaluator_attention(eval::preset("reference"));
//   lm::LmScore before = lm::evaluate(model, cubic, ids);
//   eval::CalibrationResult r = lm::calibrate(model, cubic, calib_ids,
//       lm::record_targets(model, lm::evaluator_attention(eval::preset("linear")), calib_ids));
//   cubic.scalers = lm::layer_scalers(model, r);
//   lm::LmScore after = lm::evaluate(model, cubic, ids);
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gaincell/eval/calibrate.h"
#include "gaincell/eval/config.h"
#include "gaincell/eval/evaluator.h"

namespace gaincell::lm {

inline constexpr const char* kModelFormat = "gaincell-tinylm";
inline constexpr const char* kLmScalersFormat = "gaincell-lm-scalers";
inline constexpr int kModelFormatVersion = 1;

using LayerScalers = std::array<eval::Scaler, 4>;  // q, k, v, out; one value per head

struct ModelShape {
  int vocab = 0, block = 0, n_layer = 0, n_head = 0, n_embd = 0;
  int head_dim() const { return n_embd / n_head; }
};

class TinyLm {
 public:
  // Reads a gaincell-tinylm/1 HDF5 file. Throws IoError (unreadable) and
  // InputError GC-1740 (another format or version, a missing or misshapen
  // weight, naming the dataset and the shape expected).
  static TinyLm load(const std::filesystem::path& file);
  TinyLm(TinyLm&&) noexcept;
  TinyLm& operator=(TinyLm&&) noexcept;
  ~TinyLm();

  const ModelShape& shape() const;
  const nlohmann::json& meta() const;  // the file's "meta" attribute (vocabulary, training record)
  const std::filesystem::path& path() const;
  std::string sha256() const;  // of the file
  // "softmax" or "linear": the attention the model was trained with.
  const std::string& trained_attention() const;
  // Token ids of UTF-8 text, one per code point; characters outside the
  // vocabulary become the unknown token (counted in *unknown when given).
  // Throws InputError GC-1746 (naming `what` and the byte) for bytes that are
  // not UTF-8.
  std::vector<int> encode(const std::string& utf8, std::size_t* unknown = nullptr,
                          const std::string& what = "the text") const;
  // The trained per-head scalers of each layer (linear models), else empty.
  const std::vector<LayerScalers>& trained_scalers() const;

  struct Weights;
  const Weights& weights() const;

 private:
  TinyLm();
  std::unique_ptr<Weights> w_;
};

// How each layer's attention is computed.
struct Attention {
  bool softmax = true;        // ideal: softmax(q k^T / sqrt(d)) v, causal
  eval::EvalConfig config;    // otherwise the evaluator with this configuration,
  std::vector<LayerScalers> scalers;  // with these per-layer scalers (empty: the model's trained ones, else config's)
  bool config_scalers = false;        // empty scalers: the configuration's, even for a model with trained ones
  std::string label;          // for tables: "softmax", "linear", "reference", a preset or a card name
};
Attention softmax_attention();
Attention evaluator_attention(eval::EvalConfig config, std::string label = "");

struct LmScore {
  double loss_nats = 0;    // mean cross-entropy per token [nats/token]
  std::size_t tokens = 0;  // predicted tokens
  std::size_t sequences = 0;
  double seconds = 0;      // wall time
  double perplexity() const;
};

// Called after each chunk of sequences: (sequences done, sequences in all).
using LmProgress = std::function<void(std::size_t done, std::size_t total)>;

// Mean cross-entropy over non-overlapping blocks of `block` tokens: inputs
// ids[i*block .. (i+1)*block), targets shifted by one (as the training
// script's evaluation). max_sequences = 0: all. Throws InputError GC-1741
// when ids hold less than one block, GC-1742 when per-layer scalers do not
// match the model's layers and heads.
LmScore evaluate(const TinyLm& model, const Attention& attention, const std::vector<int>& ids,
                 std::size_t max_sequences = 0, const LmProgress& progress = {});

// The statistics of every (layer, head) scaler under `attention` on the
// sequences of ids (as eval::record_stats, over the whole model: the
// statistics of layer l depend on the layers before it). Heads are numbered
// layer * n_head + head.
eval::ScalerStats record_targets(const TinyLm& model, const Attention& attention, const std::vector<int>& ids,
                                 std::size_t max_sequences = 0);

// The authors' loop (eval::calibrate_loop) on every (layer, head) scaler of
// `attention` (an evaluator configuration), starting at a = 1, b = 0, with
// the whole model measured on ids at each iteration.
eval::CalibrationResult calibrate(const TinyLm& model, const Attention& attention, const std::vector<int>& ids,
                                  const eval::ScalerStats& targets, std::size_t max_sequences = 0,
                                  const eval::CalibrationOptions& options = {},
                                  const eval::CalibrationProgress& progress = {});

// A calibration result's (layer * head) scalers back to per-layer lists.
std::vector<LayerScalers> layer_scalers(const TinyLm& model, const eval::CalibrationResult& result);

// The per-layer scalers file (gaincell-lm-scalers/1): the model's path and
// SHA-256, the evaluator configuration adapted, one {scaler_q, scaler_k,
// scaler_v, scaler_out} object per layer, and the calibration record.
nlohmann::json lm_scalers_json(const TinyLm& model, const Attention& attention, const eval::CalibrationResult& result);
// Reads one back. Throws InputError GC-1743 (not such a file, made for
// another model file, or its layers and heads do not fit the model), with
// file, line and column.
std::vector<LayerScalers> read_lm_scalers_file(const std::filesystem::path& file, const TinyLm& model);

}  // namespace gaincell::lm
