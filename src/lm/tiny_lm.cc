// SPDX-License-Identifier: MIT
// The tiny language model: its file, its float32 forward pass with a
// pluggable attention, evaluation and whole-model calibration
// (docs/calibration.md).
#include "gaincell/lm/tiny_lm.h"

#include <Eigen/Core>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "gaincell/core/error.h"
#include "gaincell/core/hash.h"
#include "gaincell/core/json_reader.h"
#include "store/h5.h"

namespace gaincell::lm {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::Matrix<float, 1, Eigen::Dynamic>;
using eval::Tensor;

struct LayerWeights {
  Vec ln1_w, ln1_b, ln2_w, ln2_b;
  Mat attn_w, proj_w, fc_w, mlp_w;  // torch Linear: [out, in]
  Vec attn_b, proj_b, fc_b, mlp_b;
};

struct TinyLm::Weights {
  fs::path path;
  json meta;
  ModelShape shape;
  std::string trained;
  int unk = 0;
  float ln_eps = 1e-5f;
  std::map<char32_t, int> index;
  Mat wte, wpe;
  std::vector<LayerWeights> layers;
  Vec lnf_w, lnf_b;
  std::vector<LayerScalers> scalers;
};

namespace {

// Code points of UTF-8 text; `what` names the text in the error (GC-1746)
// for a byte sequence that is not UTF-8 (truncated, overlong, a surrogate,
// beyond U+10FFFF).
std::vector<char32_t> code_points(const std::string& s, const std::string& what) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  auto invalid = [&](std::size_t at, const char* why) {
    throw InputError("GC-1746", what + ": byte " + std::to_string(at) + ": not UTF-8 (" + why + ")",
                     "save the text as UTF-8");
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0) invalid(i, "a byte that starts no character");
    if (i + static_cast<std::size_t>(n) >= s.size() && n > 0) invalid(i, "a character cut short at the end");
    char32_t cp = n == 0 ? c : static_cast<char32_t>(c & (0x3F >> n));
    for (int j = 1; j <= n; ++j) {
      const auto d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(j)]);
      if ((d >> 6) != 2) invalid(i, "a character cut short");
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr char32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n]) invalid(i, "an overlong encoding");
    if (cp >= 0xD800 && cp <= 0xDFFF) invalid(i, "a surrogate");
    if (cp > 0x10FFFF) invalid(i, "beyond U+10FFFF");
    out.push_back(cp);
    i += static_cast<std::size_t>(n) + 1;
  }
  return out;
}

[[noreturn]] void bad_model(const fs::path& file, const std::string& what) {
  throw InputError("GC-1740", file.string() + ": " + what,
                   "a gaincell-tinylm/1 file as tools/train_tiny_lm.py writes it (docs/calibration.md)");
}

// One float32 dataset of the expected shape.
std::vector<float> read_weight(hid_t f, const fs::path& file, const std::string& name, std::vector<hsize_t> shape) {
  if (H5Lexists(f, name.c_str(), H5P_DEFAULT) <= 0) bad_model(file, "no weight \"" + name + "\"");
  h5::Handle ds = h5::open_dataset(f, name);
  const std::vector<hsize_t> got = h5::dataset_shape(ds.id());
  if (got != shape) {
    auto str = [](const std::vector<hsize_t>& s) {
      std::string r = "[";
      for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
      return r + "]";
    };
    bad_model(file, "weight \"" + name + "\" is " + str(got) + ", expected " + str(shape));
  }
  std::size_t n = 1;
  for (hsize_t d : shape) n *= d;
  std::vector<float> v(n);
  const H5T_class_t cls = H5Tget_class(h5::Handle(H5Dget_type(ds.id()), H5Tclose).id());
  if (cls != H5T_FLOAT) bad_model(file, "weight \"" + name + "\" is not floating point");
  h5::check(H5Dread(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()),
            "cannot read " + name + " in " + file.string());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) bad_model(file, "weight \"" + name + "\" holds a non-finite value at flat index " + std::to_string(i));
  }
  return v;
}

Mat read_mat(hid_t f, const fs::path& file, const std::string& name, int rows, int cols) {
  const auto v = read_weight(f, file, name, {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)});
  return Eigen::Map<const Mat>(v.data(), rows, cols);
}

Vec read_vec(hid_t f, const fs::path& file, const std::string& name, int n) {
  const auto v = read_weight(f, file, name, {static_cast<hsize_t>(n)});
  return Eigen::Map<const Vec>(v.data(), n);
}

int meta_int(const json& meta, const fs::path& file, const char* key) {
  if (!meta.contains(key) || !meta.at(key).is_number_integer() || meta.at(key).get<int>() <= 0) {
    bad_model(file, std::string("meta \"") + key + "\" must be a positive integer");
  }
  return meta.at(key).get<int>();
}

// Rows [lo, hi) of out = LayerNorm(x) (out already sized as x).
void layer_norm(const Mat& x, const Vec& w, const Vec& b, float eps, Mat& out, Eigen::Index lo, Eigen::Index hi) {
  const float n = static_cast<float>(x.cols());
  for (Eigen::Index r = lo; r < hi; ++r) {
    const float mean = x.row(r).sum() / n;
    const float var = (x.row(r).array() - mean).square().sum() / n;
    const float inv = 1.0f / std::sqrt(var + eps);
    out.row(r) = ((x.row(r).array() - mean) * inv * w.array() + b.array()).matrix();
  }
}

// fn(part, lo, hi) on `parts` consecutive row ranges of [0, n), in parallel.
// Each row is computed the same way whatever the split.
int row_parts() { return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u)); }
void parallel_rows(Eigen::Index n, int parts, const std::function<void(int, Eigen::Index, Eigen::Index)>& fn) {
  const Eigen::Index step = (n + parts - 1) / parts;
  std::vector<std::thread> threads;
  for (int p = 1; p < parts; ++p) {
    const Eigen::Index lo = std::min(n, p * step), hi = std::min(n, lo + step);
    if (lo < hi) threads.emplace_back(fn, p, lo, hi);
  }
  fn(0, 0, std::min(n, step));
  for (auto& t : threads) t.join();
}

float gelu_tanh(float x) {
  constexpr float k = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

// Q, K or V of every head as the evaluator takes them: [B, H, T, hd] from the
// [B*T, 3C] output of c_attn (part 0, 1, 2).
Tensor heads_of(const Mat& qkv, int part, int B, int T, const ModelShape& s) {
  const int H = s.n_head, hd = s.head_dim(), C = s.n_embd;
  Tensor t;
  t.shape = {static_cast<std::size_t>(B), static_cast<std::size_t>(H), static_cast<std::size_t>(T),
             static_cast<std::size_t>(hd)};
  t.data.resize(t.size());
  float* p = t.data.data();
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < T; ++i)
        for (int d = 0; d < hd; ++d) *p++ = qkv(b * T + i, part * C + h * hd + d);
  return t;
}

// Ideal causal softmax attention of one layer, [B, H, T, hd] in and out; the
// heads in parallel, each computed alone.
Tensor softmax_heads(const Tensor& q, const Tensor& k, const Tensor& v) {
  const auto B = q.shape[0], H = q.shape[1], T = q.shape[2], D = q.shape[3];
  Tensor y;
  y.shape = q.shape;
  y.data.assign(q.size(), 0.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  parallel_rows(static_cast<Eigen::Index>(B * H), row_parts(), [&](int, Eigen::Index lo, Eigen::Index hi) {
    std::vector<float> p(T);
    for (auto bh = static_cast<std::size_t>(lo); bh < static_cast<std::size_t>(hi); ++bh) {
      const float* Q = q.data.data() + bh * T * D;
      const float* K = k.data.data() + bh * T * D;
      const float* V = v.data.data() + bh * T * D;
      float* Y = y.data.data() + bh * T * D;
      for (std::size_t t = 0; t < T; ++t) {
        float mx = -INFINITY;
        for (std::size_t s = 0; s <= t; ++s) {
          float dot = 0.0f;
          for (std::size_t d = 0; d < D; ++d) dot += Q[t * D + d] * K[s * D + d];
          p[s] = dot * scale;
          mx = std::max(mx, p[s]);
        }
        float sum = 0.0f;
        for (std::size_t s = 0; s <= t; ++s) sum += (p[s] = std::exp(p[s] - mx));
        for (std::size_t s = 0; s <= t; ++s) {
          const float w = p[s] / sum;
          for (std::size_t d = 0; d < D; ++d) Y[t * D + d] += w * V[s * D + d];
        }
      }
    }
  });
  return y;
}

using AttentionHook = std::function<Tensor(int layer, const Tensor& q, const Tensor& k, const Tensor& v)>;

// The summed cross-entropy [nats] of B sequences (ids[seq0*T ...]). The
// dense layers run on row ranges in parallel; the attention is `attend`'s.
double forward_loss(const TinyLm::Weights& w, const std::vector<int>& ids, std::size_t seq0, int B,
                    const AttentionHook& attend) {
  const ModelShape& s = w.shape;
  const int T = s.block, C = s.n_embd, H = s.n_head, hd = s.head_dim();
  const Eigen::Index rows = static_cast<Eigen::Index>(B) * T;
  const int parts = row_parts();
  Mat x(rows, C), h(rows, C), qkv(rows, 3 * C), m(rows, 4 * C);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) x.row(b * T + t) = w.wte.row(ids[(seq0 + b) * T + t]) + w.wpe.row(t);
  for (int l = 0; l < s.n_layer; ++l) {
    const LayerWeights& L = w.layers[static_cast<std::size_t>(l)];
    parallel_rows(rows, parts, [&](int, Eigen::Index lo, Eigen::Index hi) {
      layer_norm(x, L.ln1_w, L.ln1_b, w.ln_eps, h, lo, hi);
      qkv.middleRows(lo, hi - lo).noalias() = h.middleRows(lo, hi - lo) * L.attn_w.transpose();
      qkv.middleRows(lo, hi - lo).rowwise() += L.attn_b;
    });
    const Tensor y = attend(l, heads_of(qkv, 0, B, T, s), heads_of(qkv, 1, B, T, s), heads_of(qkv, 2, B, T, s));
    const float* p = y.data.data();
    for (int b = 0; b < B; ++b)
      for (int hh = 0; hh < H; ++hh)
        for (int i = 0; i < T; ++i)
          for (int d = 0; d < hd; ++d) h(b * T + i, hh * hd + d) = *p++;
    parallel_rows(rows, parts, [&](int, Eigen::Index lo, Eigen::Index hi) {
      const Eigen::Index n = hi - lo;
      x.middleRows(lo, n).noalias() += h.middleRows(lo, n) * L.proj_w.transpose();
      x.middleRows(lo, n).rowwise() += L.proj_b;
      layer_norm(x, L.ln2_w, L.ln2_b, w.ln_eps, h, lo, hi);
      m.middleRows(lo, n).noalias() = h.middleRows(lo, n) * L.fc_w.transpose();
      m.middleRows(lo, n).rowwise() += L.fc_b;
      m.middleRows(lo, n) = m.middleRows(lo, n).unaryExpr(&gelu_tanh);
      x.middleRows(lo, n).noalias() += m.middleRows(lo, n) * L.mlp_w.transpose();
      x.middleRows(lo, n).rowwise() += L.mlp_b;
    });
  }
  std::vector<double> partial(static_cast<std::size_t>(parts), 0.0);
  parallel_rows(rows, parts, [&](int part, Eigen::Index lo, Eigen::Index hi) {
    layer_norm(x, w.lnf_w, w.lnf_b, w.ln_eps, h, lo, hi);
    const Mat logits = h.middleRows(lo, hi - lo) * w.wte.transpose();
    double total = 0.0;
    for (Eigen::Index r = lo; r < hi; ++r) {
      const auto row = logits.row(r - lo);
      const float mx = row.maxCoeff();
      const double lse = static_cast<double>(mx) + std::log(static_cast<double>((row.array() - mx).exp().sum()));
      const auto b = static_cast<std::size_t>(r / T), t = static_cast<std::size_t>(r % T);
      total += lse - static_cast<double>(row(ids[(seq0 + b) * static_cast<std::size_t>(T) + t + 1]));
    }
    partial[static_cast<std::size_t>(part)] = total;
  });
  double total = 0.0;
  for (double v : partial) total += v;  // in part order
  return total;
}

std::size_t sequence_count(const TinyLm& model, const std::vector<int>& ids, std::size_t max_sequences) {
  const auto T = static_cast<std::size_t>(model.shape().block);
  const std::size_t n = ids.empty() ? 0 : (ids.size() - 1) / T;
  if (n == 0) {
    throw InputError("GC-1741", "the text has " + std::to_string(ids.size()) + " tokens; the model needs at least " +
                                    std::to_string(T + 1) + " (one block of " + std::to_string(T) +
                                    " and its next token)");
  }
  return max_sequences == 0 ? n : std::min(n, max_sequences);
}

// The per-layer scalers an attention uses: its own, the model's trained
// ones, or (empty) the configuration's.
std::vector<LayerScalers> scalers_for(const TinyLm& model, const Attention& a) {
  if (a.scalers.empty() && a.config_scalers) return {};
  const auto& sc = a.scalers.empty() ? model.trained_scalers() : a.scalers;
  if (sc.empty()) return {};
  const ModelShape& s = model.shape();
  if (sc.size() != static_cast<std::size_t>(s.n_layer)) {
    throw InputError("GC-1742", "scalers for " + std::to_string(sc.size()) + " layers, the model has " +
                                    std::to_string(s.n_layer));
  }
  for (std::size_t l = 0; l < sc.size(); ++l) {
    for (std::size_t i = 0; i < 4; ++i) {
      for (const auto* v : {&sc[l][i].a, &sc[l][i].b}) {
        if (v->size() != 1 && v->size() != static_cast<std::size_t>(s.n_head)) {
          throw InputError("GC-1742", "layer " + std::to_string(l) + " " + eval::kScalerNames[i] + " has " +
                                          std::to_string(v->size()) + " values, the model has " +
                                          std::to_string(s.n_head) + " heads");
        }
      }
    }
  }
  return sc;
}

// A layer's evaluator configuration: the attention's, with that layer's
// scalers when there are per-layer ones.
eval::EvalConfig layer_config(const Attention& a, const std::vector<LayerScalers>& sc, int layer) {
  return sc.empty() ? a.config : eval::with_scalers(a.config, sc[static_cast<std::size_t>(layer)]);
}

// (layer * n_head + head) scalers, as the calibration loop holds them, back
// to one {q, k, v, out} set per layer.
std::vector<LayerScalers> split_layers(const ModelShape& s, const std::array<eval::Scaler, 4>& flat) {
  std::vector<LayerScalers> out(static_cast<std::size_t>(s.n_layer));
  for (int l = 0; l < s.n_layer; ++l) {
    const auto first = static_cast<std::ptrdiff_t>(l * s.n_head);
    for (std::size_t i = 0; i < 4; ++i) {
      auto& dst = out[static_cast<std::size_t>(l)][i];
      dst.a.assign(flat[i].a.begin() + first, flat[i].a.begin() + first + s.n_head);
      dst.b.assign(flat[i].b.begin() + first, flat[i].b.begin() + first + s.n_head);
    }
  }
  return out;
}

// One evaluator per layer (its scalers in its configuration).
std::vector<eval::Evaluator> layer_evaluators(const TinyLm& model, const Attention& a,
                                              const std::vector<LayerScalers>& sc) {
  std::vector<eval::Evaluator> ev;
  for (int l = 0; l < model.shape().n_layer; ++l) ev.emplace_back(layer_config(a, sc, l));
  return ev;
}

// The whole model on `n` sequences in chunks, each layer's attention through
// `attend`; returns the summed cross-entropy.
double run_model(const TinyLm& model, const std::vector<int>& ids, std::size_t n, const AttentionHook& attend,
                 const LmProgress& progress) {
  constexpr std::size_t kChunk = 32;
  double total = 0.0;
  for (std::size_t i = 0; i < n; i += kChunk) {
    const int B = static_cast<int>(std::min(kChunk, n - i));
    total += forward_loss(model.weights(), ids, i, B, attend);
    if (progress) progress(i + static_cast<std::size_t>(B), n);
  }
  return total;
}

// (layer, head) statistics into the flat numbering layer * H + head.
struct StatsCollector {
  eval::ScalerStats all;
  int heads;
  StatsCollector(int layers, int h) : heads(h) {
    for (int s = 0; s < 4; ++s) {
      all.mean[static_cast<std::size_t>(s)].assign(static_cast<std::size_t>(layers * h), 0.0);
      all.std[static_cast<std::size_t>(s)].assign(static_cast<std::size_t>(layers * h), 0.0);
    }
  }
  void put(int layer, const eval::ScalerStats& st) {
    for (std::size_t s = 0; s < 4; ++s) {
      for (int h = 0; h < heads; ++h) {
        all.mean[s][static_cast<std::size_t>(layer * heads + h)] = st.mean[s][static_cast<std::size_t>(h)];
        all.std[s][static_cast<std::size_t>(layer * heads + h)] = st.std[s][static_cast<std::size_t>(h)];
      }
    }
  }
};

// Statistics of the whole model on one batch (all n sequences at once, as the
// authors measure on one calibration batch).
eval::ScalerStats measure_model(const TinyLm& model, const Attention& a, const std::vector<LayerScalers>& sc,
                                const std::vector<int>& ids, std::size_t n) {
  if (a.softmax) throw InputError("GC-1742", "calibration needs an evaluator configuration, not softmax attention");
  const ModelShape& s = model.shape();
  StatsCollector col(s.n_layer, s.n_head);
  const AttentionHook attend = [&](int layer, const Tensor& q, const Tensor& k, const Tensor& v) {
    Tensor out;
    col.put(layer, eval::record_stats(layer_config(a, sc, layer), q, k, v, &out));
    return out;
  };
  forward_loss(model.weights(), ids, 0, static_cast<int>(n), attend);
  return col.all;
}

}  // namespace

TinyLm::TinyLm() : w_(std::make_unique<Weights>()) {}
TinyLm::TinyLm(TinyLm&&) noexcept = default;
TinyLm& TinyLm::operator=(TinyLm&&) noexcept = default;
TinyLm::~TinyLm() = default;

TinyLm TinyLm::load(const fs::path& file) {
  h5::silence_hdf5_errors();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw IoError("cannot read the model file " + file.string() + ": no such file");
  TinyLm m;
  Weights& w = *m.w_;
  w.path = file;
  h5::Handle f = h5::open_file(file.string(), false);
  const hid_t id = f.id();
  const std::string format = h5::has_attribute(id, "format") ? h5::read_string_attribute(id, "format") : "";
  if (format != kModelFormat) bad_model(file, "format \"" + format + "\", expected \"" + kModelFormat + "\"");
  if (!h5::has_attribute(id, "meta")) bad_model(file, "no \"meta\" attribute");
  try {
    w.meta = json::parse(h5::read_string_attribute(id, "meta"));
  } catch (const json::exception& e) {
    bad_model(file, std::string("the \"meta\" attribute is not JSON: ") + e.what());
  }
  if (!w.meta.is_object() || !w.meta.contains("version") || !w.meta.at("version").is_number_integer() ||
      w.meta.at("version").get<int>() != kModelFormatVersion) {
    bad_model(file, "meta \"version\" must be the integer " + std::to_string(kModelFormatVersion));
  }
  ModelShape& s = w.shape;
  s.block = meta_int(w.meta, file, "block");
  s.n_layer = meta_int(w.meta, file, "n_layer");
  s.n_head = meta_int(w.meta, file, "n_head");
  s.n_embd = meta_int(w.meta, file, "n_embd");
  if (s.n_embd % s.n_head != 0) bad_model(file, "n_embd is not a multiple of n_head");
  if (!w.meta.contains("vocab") || !w.meta.at("vocab").is_string()) bad_model(file, "meta \"vocab\" must be a string");
  const std::vector<char32_t> vocab = code_points(w.meta.at("vocab").get<std::string>(), file.string() + ": meta \"vocab\"");
  s.vocab = static_cast<int>(vocab.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    if (!w.index.emplace(vocab[i], static_cast<int>(i)).second) bad_model(file, "meta \"vocab\" repeats a character");
  }
  const json& unk = w.meta.contains("unk") ? w.meta.at("unk") : json(0);
  if (!unk.is_number_integer() || unk.get<long>() < 0 || unk.get<long>() >= s.vocab) {
    bad_model(file, "meta \"unk\" must be a token id in [0, " + std::to_string(s.vocab) + ")");
  }
  w.unk = unk.get<int>();
  w.trained = w.meta.contains("attention") && w.meta.at("attention").is_string() ? w.meta.at("attention").get<std::string>() : "";
  if (w.trained != "softmax" && w.trained != "linear") bad_model(file, "meta \"attention\" must be softmax or linear");
  const json& eps = w.meta.contains("layernorm_eps") ? w.meta.at("layernorm_eps") : json(1e-5);
  if (!eps.is_number() || !(eps.get<double>() > 0) || !std::isfinite(eps.get<double>())) {
    bad_model(file, "meta \"layernorm_eps\" must be a number > 0");
  }
  w.ln_eps = static_cast<float>(eps.get<double>());
  const int C = s.n_embd, H = s.n_head;
  w.wte = read_mat(id, file, "wte.weight", s.vocab, C);
  w.wpe = read_mat(id, file, "wpe.weight", s.block, C);
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    LayerWeights L;
    L.ln1_w = read_vec(id, file, p + "ln_1.weight", C);
    L.ln1_b = read_vec(id, file, p + "ln_1.bias", C);
    L.attn_w = read_mat(id, file, p + "c_attn.weight", 3 * C, C);
    L.attn_b = read_vec(id, file, p + "c_attn.bias", 3 * C);
    L.proj_w = read_mat(id, file, p + "c_proj.weight", C, C);
    L.proj_b = read_vec(id, file, p + "c_proj.bias", C);
    L.ln2_w = read_vec(id, file, p + "ln_2.weight", C);
    L.ln2_b = read_vec(id, file, p + "ln_2.bias", C);
    L.fc_w = read_mat(id, file, p + "c_fc.weight", 4 * C, C);
    L.fc_b = read_vec(id, file, p + "c_fc.bias", 4 * C);
    L.mlp_w = read_mat(id, file, p + "mlp_proj.weight", C, 4 * C);
    L.mlp_b = read_vec(id, file, p + "mlp_proj.bias", C);
    w.layers.push_back(std::move(L));
    if (w.trained == "linear") {
      LayerScalers sc;
      const char* names[4][2] = {{"q_a", "q_b"}, {"k_a", "k_b"}, {"v_a", "v_b"}, {"o_a", "o_b"}};
      for (std::size_t i = 0; i < 4; ++i) {
        const Vec a = read_vec(id, file, p + "gc." + names[i][0], H);
        const Vec b = read_vec(id, file, p + "gc." + names[i][1], H);
        sc[i].a.assign(a.data(), a.data() + H);
        sc[i].b.assign(b.data(), b.data() + H);
      }
      w.scalers.push_back(std::move(sc));
    }
  }
  w.lnf_w = read_vec(id, file, "ln_f.weight", C);
  w.lnf_b = read_vec(id, file, "ln_f.bias", C);
  return m;
}

const ModelShape& TinyLm::shape() const { return w_->shape; }
const json& TinyLm::meta() const { return w_->meta; }
const fs::path& TinyLm::path() const { return w_->path; }
std::string TinyLm::sha256() const { return sha256_file(w_->path); }
const std::string& TinyLm::trained_attention() const { return w_->trained; }
const std::vector<LayerScalers>& TinyLm::trained_scalers() const { return w_->scalers; }
const TinyLm::Weights& TinyLm::weights() const { return *w_; }

std::vector<int> TinyLm::encode(const std::string& utf8, std::size_t* unknown, const std::string& what) const {
  std::vector<int> ids;
  std::size_t unk = 0;
  for (char32_t c : code_points(utf8, what)) {
    const auto it = w_->index.find(c);
    if (it == w_->index.end()) ++unk;
    ids.push_back(it == w_->index.end() ? w_->unk : it->second);
  }
  if (unknown != nullptr) *unknown = unk;
  return ids;
}

Attention softmax_attention() {
  Attention a;
  a.softmax = true;
  a.label = "softmax";
  return a;
}

Attention evaluator_attention(eval::EvalConfig config, std::string label) {
  Attention a;
  a.softmax = false;
  a.label = label.empty() ? config.preset : std::move(label);
  a.config = std::move(config);
  return a;
}

double LmScore::perplexity() const { return std::exp(loss_nats); }

LmScore evaluate(const TinyLm& model, const Attention& attention, const std::vector<int>& ids,
                 std::size_t max_sequences, const LmProgress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = sequence_count(model, ids, max_sequences);
  AttentionHook attend;
  std::vector<eval::Evaluator> ev;
  if (attention.softmax) {
    attend = [](int, const Tensor& q, const Tensor& k, const Tensor& v) { return softmax_heads(q, k, v); };
  } else {
    ev = layer_evaluators(model, attention, scalers_for(model, attention));
    attend = [&ev](int layer, const Tensor& q, const Tensor& k, const Tensor& v) {
      return ev[static_cast<std::size_t>(layer)].forward(q, k, v, false).output;
    };
  }
  LmScore r;
  r.sequences = n;
  r.tokens = n * static_cast<std::size_t>(model.shape().block);
  r.loss_nats = run_model(model, ids, n, attend, progress) / static_cast<double>(r.tokens);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

eval::ScalerStats record_targets(const TinyLm& model, const Attention& attention, const std::vector<int>& ids,
                                 std::size_t max_sequences) {
  const std::size_t n = sequence_count(model, ids, max_sequences);
  return measure_model(model, attention, scalers_for(model, attention), ids, n);
}

eval::CalibrationResult calibrate(const TinyLm& model, const Attention& attention, const std::vector<int>& ids,
                                  const eval::ScalerStats& targets, std::size_t max_sequences,
                                  const eval::CalibrationOptions& options, const eval::CalibrationProgress& progress) {
  const std::size_t n = sequence_count(model, ids, max_sequences);
  const eval::Measure measure = [&](const std::array<eval::Scaler, 4>& flat) {
    return measure_model(model, attention, split_layers(model.shape(), flat), ids, n);
  };
  return eval::calibrate_loop(measure, {}, targets, options, progress);
}

std::vector<LayerScalers> layer_scalers(const TinyLm& model, const eval::CalibrationResult& result) {
  return split_layers(model.shape(), result.scalers);
}

json lm_scalers_json(const TinyLm& model, const Attention& attention, const eval::CalibrationResult& result) {
  json layers = json::array();
  for (const auto& l : layer_scalers(model, result)) {
    json o = json::object();
    for (std::size_t i = 0; i < 4; ++i) o[eval::kScalerNames[i]] = {{"a", l[i].a}, {"b", l[i].b}};
    layers.push_back(std::move(o));
  }
  json cal = eval::scalers_json(result).at("calibration");
  return {{"format", kLmScalersFormat},
          {"version", 1},
          {"model", {{"path", model.path().string()}, {"sha256", model.sha256()}}},
          {"config", eval::to_json(attention.config)},
          {"layers", std::move(layers)},
          {"calibration", {{"converged", result.converged}, {"iterations", result.iterations},
                           {"summary", result.summary()}, {"heads_numbered", "layer * n_head + head"},
                           {"targets", cal.at("targets")}, {"final", cal.at("final")}}}};
}

std::vector<LayerScalers> read_lm_scalers_file(const fs::path& file, const TinyLm& model) {
  const std::string text = read_text_file(file);
  const json j = parse_json_text(text, file.string(), "GC-1743");
  auto fail = [&](const std::string& pointer, const std::string& what) {
    throw InputError("GC-1743", what).at_pointer(pointer).in_file(file.string(), text);
  };
  if (!j.is_object() || j.value("format", "") != kLmScalersFormat) fail("/format", "expected \"gaincell-lm-scalers\"");
  if (!j.contains("version") || j.at("version") != 1) fail("/version", "expected 1");
  const std::string sha = j.contains("model") && j.at("model").is_object() ? j.at("model").value("sha256", "") : "";
  if (sha != model.sha256()) {
    fail("/model/sha256", "the scalers were adapted for another model file (SHA-256 " + sha.substr(0, 12) + "..., " +
                              model.path().string() + " is " + model.sha256().substr(0, 12) + "...)");
  }
  const ModelShape& s = model.shape();
  if (!j.contains("layers") || !j.at("layers").is_array() || j.at("layers").size() != static_cast<std::size_t>(s.n_layer)) {
    fail("/layers", "expected a list of " + std::to_string(s.n_layer) + " layers (the model's)");
  }
  std::vector<LayerScalers> out;
  for (std::size_t l = 0; l < j.at("layers").size(); ++l) {
    LayerScalers sc;
    for (std::size_t i = 0; i < 4; ++i) {
      const std::string ptr = "/layers/" + std::to_string(l) + "/" + eval::kScalerNames[i];
      const json* o = j.at("layers").at(l).contains(eval::kScalerNames[i]) ? &j.at("layers").at(l).at(eval::kScalerNames[i])
                                                                           : nullptr;
      for (const char* key : {"a", "b"}) {
        if (o == nullptr || !o->contains(key) || !o->at(key).is_array() ||
            o->at(key).size() != static_cast<std::size_t>(s.n_head) ||
            !std::all_of(o->at(key).begin(), o->at(key).end(), [](const json& x) { return x.is_number(); })) {
          fail(ptr + "/" + key, "expected a list of " + std::to_string(s.n_head) + " numbers (one per head)");
        }
        (key[0] == 'a' ? sc[i].a : sc[i].b) = o->at(key).get<std::vector<double>>();
      }
    }
    out.push_back(std::move(sc));
  }
  return out;
}

}  // namespace gaincell::lm
