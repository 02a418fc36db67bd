// SPDX-License-Identifier: MIT
#include "gaincell/eval/evaluator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "gaincell/core/error.h"
#include "gaincell/eval/numerics.h"
#include "kernel.h"
#include "ode.h"
#include "prepare.h"

namespace gaincell::eval {

std::size_t Tensor::size() const {
  std::size_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

unsigned thread_count(const EvalConfig& config) {
  if (config.threads > 0) return static_cast<unsigned>(config.threads);
  return std::max(1U, std::thread::hardware_concurrency());
}

namespace {

using detail::kLanes;

// A fixed set of threads running parallel_for; the caller's thread takes part.
class ThreadPool {
 public:
  explicit ThreadPool(unsigned n) {
    for (unsigned i = 1; i < n; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~ThreadPool() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      ++generation_;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // fn(item, thread) for item in [0, n); dynamic scheduling.
  void parallel_for(std::size_t n, const std::function<void(std::size_t, unsigned)>& fn) {
    if (workers_.empty() || n <= 1) {
      for (std::size_t i = 0; i < n; ++i) fn(i, 0);
      return;
    }
    {
      std::lock_guard lock(mu_);
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      active_ = static_cast<unsigned>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    run(0);
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return active_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run(unsigned thread) {
    try {
      for (std::size_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*fn_)(i, thread);
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
      next_.store(n_);
    }
  }
  void loop(unsigned thread) {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
      }
      run(thread);
      {
        std::lock_guard lock(mu_);
        --active_;
      }
      done_cv_.notify_one();
    }
  }
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(std::size_t, unsigned)>* fn_ = nullptr;
  std::size_t n_ = 0;
  std::atomic<std::size_t> next_{0};
  unsigned active_ = 0;
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

struct Shape {
  std::size_t b = 0, h = 0, t = 0, d = 0;
  bool has_heads = false;
};

Shape check_shapes(const Tensor& q, const Tensor& k, const Tensor& v) {
  auto fail = [](const std::string& what) { throw InputError("GC-1707", what); };
  if (q.shape.size() != 3 && q.shape.size() != 4) {
    fail("Q must be [batch, head, token, dim] or [batch, token, dim]; it has " + std::to_string(q.shape.size()) + " dimensions");
  }
  if (k.shape != q.shape || v.shape != q.shape) fail("Q, K and V must have the same shape");
  for (const Tensor* t : {&q, &k, &v}) {
    if (t->data.size() != t->size()) fail("tensor data does not match its shape");
  }
  Shape s;
  s.has_heads = q.shape.size() == 4;
  s.b = q.shape[0];
  s.h = s.has_heads ? q.shape[1] : 1;
  s.t = q.shape[s.has_heads ? 2 : 1];
  s.d = q.shape[s.has_heads ? 3 : 2];
  if (s.b == 0 || s.t == 0 || s.d == 0) fail("Q has an empty dimension");
  const char* names[] = {"Q", "K", "V"};
  int n = 0;
  for (const Tensor* t : {&q, &k, &v}) {
    for (std::size_t i = 0; i < t->data.size(); ++i) {
      if (!std::isfinite(t->data[i])) {
        throw InputError("GC-1708", std::string(names[n]) + " holds a non-finite value (" +
                                        std::to_string(t->data[i]) + ") at flat index " + std::to_string(i));
      }
    }
    ++n;
  }
  return s;
}

void check_heads(const EvalConfig& c, std::size_t heads) {
  const std::pair<const char*, const Scaler*> all[] = {
      {"scaler_q", &c.scaler_q}, {"scaler_k", &c.scaler_k}, {"scaler_v", &c.scaler_v}, {"scaler_out", &c.scaler_out}};
  for (const auto& [name, s] : all) {
    for (const auto* v : {&s->a, &s->b}) {
      if (v->size() != 1 && v->size() != heads) {
        throw InputError("GC-1709", std::string(name) + " has " + std::to_string(v->size()) +
                                        " per-head values but the input has " + std::to_string(heads) + " heads");
      }
    }
  }
}

// The output, and S and phi when asked, zero-filled.
EvalResult empty_result(const Tensor& q, const Shape& sh, bool intermediates) {
  EvalResult r;
  r.output.shape = q.shape;
  r.output.data.assign(q.size(), 0.0f);
  if (intermediates) {
    std::vector<std::size_t> st = {sh.b};
    if (sh.has_heads) st.push_back(sh.h);
    st.push_back(sh.t);
    st.push_back(sh.t);
    r.S.shape = st;
    r.phi.shape = st;
    r.S.data.assign(r.S.size(), 0.0f);
    r.phi.data.assign(r.phi.size(), 0.0f);
  }
  return r;
}

// The kernel's inputs of every head: q, and the K and V bases, [T][dp] each (zero padded).
struct PreparedInputs {
  std::size_t dp = 0;
  std::vector<float> q, k, v;
  const float* q_row(std::size_t bh, std::size_t t, std::size_t T) const { return &q[(bh * T + t) * dp]; }
  detail::KeyStore keys(std::size_t bh, std::size_t T) const {
    return {&k[bh * T * dp], &v[bh * T * dp], static_cast<long>(T)};
  }
};

}  // namespace

struct Evaluator::Impl {
  EvalConfig config;
  CellMapping cell;
  // The kernel's fields that the configuration and the cell fix; kernel()
  // adds the sizes and the decay tables. Its pointers point into the vectors.
  detail::Kernel terms;
  std::vector<float> coef;
  std::vector<int> exponent;
  std::vector<int> power;       // per feature: the power of the stored base
  int n_exponents = 1;
  std::vector<float> global_a;  // global: the polynomial F of the stored base
  std::unique_ptr<detail::CurrentTable> ode_model;
  mutable std::mutex pool_mu;
  mutable std::unique_ptr<ThreadPool> pool;

  ThreadPool& threads() const {
    std::lock_guard lock(pool_mu);
    if (!pool) pool = std::make_unique<ThreadPool>(thread_count(config));
    return *pool;
  }

  // Stage-1 terms: an optional constant (order 0) and one per feature.
  void build_terms() {
    detail::Kernel& k = terms;
    const auto& a = cell.a;
    if (config.decay_rule == DecayRule::kPerOrder) {
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == 0.0) continue;
        if (i == 0) {
          k.has_const = true;
          k.const_coef = static_cast<float>(a[0]);
          k.const_exp = 0;
          continue;
        }
        coef.push_back(static_cast<float>(a[i]));
        exponent.push_back(static_cast<int>(i));
        power.push_back(static_cast<int>(i));
        k.max_power = std::max(k.max_power, static_cast<int>(i));
        n_exponents = std::max(n_exponents, static_cast<int>(i) + 1);
      }
    } else {
      coef.push_back(1.0f);
      exponent.push_back(1);
      power.push_back(1);
      k.max_power = 1;
      n_exponents = 2;
      for (double x : a) global_a.push_back(static_cast<float>(x));
    }
    k.n_features = static_cast<int>(coef.size());
    GC_CHECK(k.n_features <= detail::kMaxFeatures && k.max_power <= detail::kMaxFeatures) << "too many features";
    k.coef = coef.data();
    k.exponent = exponent.data();
    k.power = power.data();
  }

  // The C2P, the stage-2 scale and the output ADC.
  void build_readout() {
    detail::Kernel& k = terms;
    k.window = config.window;
    k.tile = config.tile_keys;
    k.inv_s_sat = static_cast<float>(1.0 / config.s_sat);
    if (cell.physical) {
      k.s0 = static_cast<float>(cell.q0_c / cell.q_unit_c);
      k.phi_lo = static_cast<float>(cell.phi_lo);
      k.phi_span = static_cast<float>(1.0 - cell.phi_lo);
    }
    k.inv_stage2_scale = static_cast<float>(1.0 / config.stage2_scale);
    k.adc = output_adc(config.levels_out, config.clamp_out[0], config.clamp_out[1]);
  }

  // x^n by repeated multiplication, ((x * x) * x) ..., as torch computes x**2 and x**3.
  static float ipow(float x, int n) {
    if (n == 0) return 1.0f;
    float y = x;
    for (int i = 1; i < n; ++i) y = y * x;
    return y;
  }

  // What a key column stores of a K or V value: its offset w - offset_v
  // (per-order rule) or F(w - offset_v) (global rule).
  float base(int which, float x, std::size_t head) const {
    const float y = prepare(which, x, head) - static_cast<float>(config.offset_v);
    if (global_a.empty()) return y;
    float f = 0.0f;
    for (std::size_t i = 0; i < global_a.size(); ++i) f = f + global_a[i] * ipow(y, static_cast<int>(i));
    return f;
  }

  // Decay tables for ages 0 .. len-1.
  void tables(long len, std::vector<float>& d1, std::vector<float>& d2) const {
    const auto n = static_cast<std::size_t>(n_exponents) * static_cast<std::size_t>(len);
    d1.assign(n, 0.0f);
    d2.assign(n, 0.0f);
    for (long age = 0; age < len; ++age) {
      const float D = decay_at(config.decay_per_token, age);
      const float Db = bf16_round(D);
      for (int e = 0; e < n_exponents; ++e) {
        const auto idx = static_cast<std::size_t>(e) * static_cast<std::size_t>(len) + static_cast<std::size_t>(age);
        d1[idx] = config.decay_bf16 ? bf16_round(ipow(Db, e)) : ipow(D, e);
        d2[idx] = ipow(D, e);
      }
    }
  }

  detail::Kernel kernel(int d, int dp, long table_len, const std::vector<float>& d1, const std::vector<float>& d2) const {
    detail::Kernel k = terms;
    k.d = d;
    k.dp = dp;
    k.table_len = table_len;
    k.dec1 = d1.data();
    k.dec2 = d2.data();
    return k;
  }

  // Scale, clamp and quantize one value of Q (which = 0), K (1) or V (2).
  float prepare(int which, float x, std::size_t head) const {
    return detail::prepare_input(config, static_cast<detail::Input>(which), x, head);
  }

  float finish(float sum, std::size_t head) const { return detail::scale_output(config, sum, head); }

  // The steps of forward(): the ODE mode, or the kernel on prepared inputs.
  void forward_ode(const Tensor& q, const Tensor& k, const Tensor& v, const Shape& sh, EvalResult& r,
                   const EvalProgress& progress) const;
  PreparedInputs prepare_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Shape& sh) const;
  void forward_rows(const PreparedInputs& in, const Shape& sh, EvalResult& r, const EvalProgress& progress) const;
};

Evaluator::Evaluator(EvalConfig config) : impl_(std::make_unique<Impl>()) {
  validate(config);
  impl_->config = std::move(config);
  impl_->cell = make_cell_mapping(impl_->config);
  impl_->build_terms();
  impl_->build_readout();
  if (impl_->config.cell == CellKind::kOde) {
    const ReadCurrentModel model = load_read_current_model(impl_->config.cell_model);
    if (!model.two_inputs) {
      throw InputError("GC-1706", impl_->config.cell_model.string() +
                                      ": ode mode needs a two-input read-current model I(v_store, v_line)");
    }
    impl_->ode_model = std::make_unique<detail::CurrentTable>(model, impl_->config.clamp_kv[0], impl_->config.clamp_kv[1]);
  }
}
Evaluator::~Evaluator() = default;
Evaluator::Evaluator(Evaluator&&) noexcept = default;
Evaluator& Evaluator::operator=(Evaluator&&) noexcept = default;

const EvalConfig& Evaluator::config() const { return impl_->config; }
const CellMapping& Evaluator::cell() const { return impl_->cell; }

EvalResult Evaluator::forward(const Tensor& q, const Tensor& k, const Tensor& v, bool intermediates,
                              const EvalProgress& progress) const {
  const Shape sh = check_shapes(q, k, v);
  check_heads(impl_->config, sh.h);
  EvalResult r = empty_result(q, sh, intermediates);
  if (impl_->config.cell == CellKind::kOde) {
    impl_->forward_ode(q, k, v, sh, r, progress);
  } else {
    impl_->forward_rows(impl_->prepare_inputs(q, k, v, sh), sh, r, progress);
  }
  return r;
}

void Evaluator::Impl::forward_ode(const Tensor& q, const Tensor& k, const Tensor& v, const Shape& sh, EvalResult& r,
                                  const EvalProgress& progress) const {
  const bool intermediates = !r.S.data.empty();
  const std::size_t clamped_before = ode_model->clamped();
  detail::ode_forward(config, cell, *ode_model, sh.b, sh.h, sh.t, sh.d, q.data, k.data, v.data, r.output.data,
                      intermediates ? &r.S.data : nullptr, intermediates ? &r.phi.data : nullptr, thread_count(config),
                      progress);
  if (const std::size_t n = ode_model->clamped() - clamped_before; n > 0) {
    r.warnings.push_back("ode: " + std::to_string(n) + " evaluations of the read current fell outside its model's range (line " +
                         std::to_string(ode_model->v_lo()) + " .. " + std::to_string(ode_model->v_hi()) +
                         " V, stored values within clamp_kv) and were clamped to it: widen the read-current sweep's line "
                         "range (the card's read.line_sweep_v)");
  }
}

PreparedInputs Evaluator::Impl::prepare_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Shape& sh) const {
  const std::size_t heads = sh.b * sh.h, T = sh.t, D = sh.d;
  PreparedInputs p;
  p.dp = (D + kLanes - 1) / kLanes * kLanes;
  p.q.assign(heads * T * p.dp, 0.0f);
  p.k.assign(heads * T * p.dp, 0.0f);
  p.v.assign(heads * T * p.dp, 0.0f);
  threads().parallel_for(heads, [&](std::size_t bh, unsigned) {
    const std::size_t head = bh % sh.h;
    const std::size_t in0 = bh * T * D;
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t i = 0; i < D; ++i) {
        const std::size_t in = in0 + t * D + i;
        p.q[(bh * T + t) * p.dp + i] = prepare(0, q.data[in], head);
        p.k[(bh * T + t) * p.dp + i] = base(1, k.data[in], head);
        p.v[(bh * T + t) * p.dp + i] = base(2, v.data[in], head);
      }
    }
  });
  return p;
}

void Evaluator::Impl::forward_rows(const PreparedInputs& in, const Shape& sh, EvalResult& r,
                                   const EvalProgress& progress) const {
  const bool intermediates = !r.S.data.empty();
  const std::size_t heads = sh.b * sh.h, T = sh.t, D = sh.d;
  const long table_len = std::min<long>(config.window, static_cast<long>(T));
  std::vector<float> d1, d2;
  tables(table_len, d1, d2);
  const detail::Kernel kern = kernel(static_cast<int>(D), static_cast<int>(in.dp), table_len, d1, d2);
  constexpr std::size_t kChunk = 32;  // queries per work item
  const std::size_t items = heads * ((T + kChunk - 1) / kChunk);
  ThreadPool& workers = threads();
  std::vector<std::vector<float>> scratch(workers.size(), std::vector<float>(detail::scratch_floats(kern)));
  std::vector<std::vector<float>> rows(workers.size(), std::vector<float>(D));
  std::atomic<std::size_t> done{0};
  std::mutex progress_mu;
  workers.parallel_for(items, [&](std::size_t item, unsigned th) {
    // Interleave heads so that every thread starts on different heads.
    const std::size_t bh = item % heads;
    const std::size_t chunk = item / heads;
    const std::size_t head = bh % sh.h;
    const detail::KeyStore keys = in.keys(bh, T);
    for (std::size_t t = chunk * kChunk; t < std::min(T, (chunk + 1) * kChunk); ++t) {
      float* S_row = intermediates ? &r.S.data[(bh * T + t) * T] : nullptr;
      float* phi_row = intermediates ? &r.phi.data[(bh * T + t) * T] : nullptr;
      float* out = rows[th].data();
      detail::query_row(kern, in.q_row(bh, t, T), static_cast<long>(t), keys, scratch[th].data(), out, S_row, phi_row);
      for (std::size_t i = 0; i < D; ++i) r.output.data[(bh * T + t) * D + i] = finish(out[i], head);
    }
    if (progress) {
      const std::size_t n = ++done;
      std::lock_guard lock(progress_mu);
      progress(n, items);
    }
  });
}

// ---------------------------------------------------------------------------
// Decode

struct Evaluator::DecodeSession::State {
  const Impl* m = nullptr;
  std::size_t batch = 0, heads = 0, d = 0;
  int dp = 0;
  long capacity = 0;  // ring slots: whole key tiles covering the window
  long t = 0;         // next token index
  long table_len = 0;
  std::vector<float> d1, d2;
  detail::Kernel kern;
  std::vector<float> kf, vf;  // [bh][capacity][nf][dp]
  std::vector<std::vector<float>> scratch, qrow, out;
};

Evaluator::DecodeSession::DecodeSession(std::unique_ptr<State> s) : state_(std::move(s)) {}
Evaluator::DecodeSession::DecodeSession(DecodeSession&&) noexcept = default;
Evaluator::DecodeSession& Evaluator::DecodeSession::operator=(DecodeSession&&) noexcept = default;
Evaluator::DecodeSession::~DecodeSession() = default;
std::size_t Evaluator::DecodeSession::tokens() const { return static_cast<std::size_t>(state_->t); }

Evaluator::DecodeSession Evaluator::start_decode(std::size_t batch, std::size_t heads, std::size_t dim) const {
  const Impl& m = *impl_;
  if (m.config.cell == CellKind::kOde) {
    throw InputError("GC-1710", "the decode mode is not available with cell \"ode\" (use --mode whole)");
  }
  if (batch == 0 || heads == 0 || dim == 0) throw InputError("GC-1707", "decode needs batch, heads, dim >= 1");
  check_heads(m.config, heads);
  auto s = std::make_unique<DecodeSession::State>();
  s->m = &m;
  s->batch = batch;
  s->heads = heads;
  s->d = dim;
  s->dp = static_cast<int>((dim + kLanes - 1) / kLanes * kLanes);
  const long tile = m.config.tile_keys;
  s->capacity = ((m.config.window + tile - 1) / tile + 1) * tile;
  const std::size_t per = static_cast<std::size_t>(s->capacity) * static_cast<std::size_t>(s->dp);
  s->kf.assign(batch * heads * per, 0.0f);
  s->vf.assign(batch * heads * per, 0.0f);
  const unsigned n = m.threads().size();
  s->out.assign(n, std::vector<float>(dim));
  return DecodeSession(std::move(s));
}

void Evaluator::DecodeSession::step(const float* q, const float* k, const float* v, float* out) {
  State& s = *state_;
  const Impl& m = *s.m;
  const long t = s.t;
  // The decay tables grow with the sequence, up to the window.
  const long need = std::min<long>(m.config.window, t + 1);
  if (need > s.table_len) {
    const long len = std::min<long>(m.config.window, std::max<long>(need, 2 * s.table_len));
    m.tables(len, s.d1, s.d2);
    s.table_len = len;
    s.kern = m.kernel(static_cast<int>(s.d), s.dp, len, s.d1, s.d2);
    s.scratch.assign(m.threads().size(), std::vector<float>(detail::scratch_floats(s.kern)));
    s.qrow.assign(m.threads().size(), std::vector<float>(static_cast<std::size_t>(s.dp), 0.0f));
  }
  for (std::size_t i = 0; i < s.batch * s.heads * s.d; ++i) {
    if (!std::isfinite(q[i]) || !std::isfinite(k[i]) || !std::isfinite(v[i])) {
      throw InputError("GC-1708", "decode step " + std::to_string(t) +
                                      ": non-finite Q, K or V at flat index " + std::to_string(i));
    }
  }
  const std::size_t DP = static_cast<std::size_t>(s.dp);
  const std::size_t per = static_cast<std::size_t>(s.capacity) * DP;
  const std::size_t slot = static_cast<std::size_t>(t % s.capacity);
  m.threads().parallel_for(s.batch * s.heads, [&](std::size_t bh, unsigned th) {
    const std::size_t head = bh % s.heads;
    // Write this token's K and V into the window's next column.
    float* kcol = &s.kf[bh * per + slot * DP];
    float* vcol = &s.vf[bh * per + slot * DP];
    float* qr = s.qrow[th].data();
    for (std::size_t i = 0; i < s.d; ++i) {
      const std::size_t in = bh * s.d + i;
      kcol[i] = m.base(1, k[in], head);
      vcol[i] = m.base(2, v[in], head);
      qr[i] = m.prepare(0, q[in], head);
    }
    // Read: every stored column, aged by t - s (the decay tables).
    detail::KeyStore keys{&s.kf[bh * per], &s.vf[bh * per], s.capacity};
    float* o = s.out[th].data();
    detail::query_row(s.kern, qr, t, keys, s.scratch[th].data(), o, nullptr, nullptr);
    for (std::size_t i = 0; i < s.d; ++i) out[bh * s.d + i] = m.finish(o[i], head);
  });
  ++s.t;
}

EvalResult Evaluator::forward_decode(const Tensor& q, const Tensor& k, const Tensor& v, const EvalProgress& progress) const {
  const Shape sh = check_shapes(q, k, v);
  DecodeSession s = start_decode(sh.b, sh.h, sh.d);
  EvalResult r;
  r.output.shape = q.shape;
  r.output.data.assign(q.size(), 0.0f);
  const std::size_t n = sh.b * sh.h * sh.d;
  std::vector<float> qt(n), kt(n), vt(n), ot(n);
  for (std::size_t t = 0; t < sh.t; ++t) {
    for (std::size_t bh = 0; bh < sh.b * sh.h; ++bh) {
      for (std::size_t i = 0; i < sh.d; ++i) {
        const std::size_t in = (bh * sh.t + t) * sh.d + i;
        qt[bh * sh.d + i] = q.data[in];
        kt[bh * sh.d + i] = k.data[in];
        vt[bh * sh.d + i] = v.data[in];
      }
    }
    s.step(qt.data(), kt.data(), vt.data(), ot.data());
    for (std::size_t bh = 0; bh < sh.b * sh.h; ++bh) {
      for (std::size_t i = 0; i < sh.d; ++i) r.output.data[(bh * sh.t + t) * sh.d + i] = ot[bh * sh.d + i];
    }
    if (progress && (t + 1) % 64 == 0) progress(t + 1, sh.t);
  }
  if (progress && sh.t % 64 != 0) progress(sh.t, sh.t);
  return r;
}

}  // namespace gaincell::eval
