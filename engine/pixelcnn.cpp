// PixelCNN and Gated PixelCNN (see pixelcnn.h): architectures, exact NLL, the naive and cached
// samplers, and receptive fields. All activations are channel planes [C][B][H][W] (masked_conv.h).
#include "pixelcnn.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>
#include <set>

#include "error.h"
#include "losses.h"
#include "masked_conv.h"

namespace genlab {

namespace {

struct ArConfig {
  std::string kind;
  int channels = 32, layers = 5, levels = 2, width = 28, height = 28, image_channels = 1;
  bool conditional = false;
  int num_classes = 10;
};

int parse_int(const ModelConfig& c, const std::string& kind, const std::string& key, int def, int lo, int hi) {
  auto it = c.find(key);
  if (it == c.end()) return def;
  const std::string& s = it->second;
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(s, &used);
  } catch (...) {
    used = 0;
  }
  require(!s.empty() && used == s.size(), kind + ": '" + key + "' must be an integer, got '" + s + "'");
  require(v >= lo && v <= hi,
          kind + ": '" + key + "' = " + s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(v);
}

ArConfig parse_config(const ModelConfig& c) {
  ArConfig a;
  a.kind = c.at("model");
  static const std::set<std::string> known = {"model", "channels", "layers", "levels", "width", "height",
                                              "image_channels", "conditional", "num_classes"};
  for (const auto& [k, v] : c)
    require(known.count(k) > 0, a.kind + ": unknown config key '" + k +
                                    "' (known: channels, layers, levels, width, height, image_channels, "
                                    "conditional, num_classes)");
  a.channels = parse_int(c, a.kind, "channels", 32, 1, 1024);
  a.layers = parse_int(c, a.kind, "layers", 5, a.kind == "gated-pixelcnn" ? 1 : 0, 64);
  a.levels = parse_int(c, a.kind, "levels", 2, 2, 256);
  require(a.levels == 2 || a.levels == 256, a.kind + ": 'levels' must be 2 (binary) or 256 (grey levels)");
  a.width = parse_int(c, a.kind, "width", 28, 1, 512);
  a.height = parse_int(c, a.kind, "height", 28, 1, 512);
  a.image_channels = parse_int(c, a.kind, "image_channels", 1, 1, 3);
  require(a.image_channels != 2, a.kind + ": 'image_channels' must be 1 or 3");
  require(a.image_channels == 1 || a.channels >= 3, a.kind + ": RGB models need at least 3 channels (R, G, B groups)");
  a.conditional = parse_int(c, a.kind, "conditional", 0, 0, 1) == 1;
  a.num_classes = parse_int(c, a.kind, "num_classes", 10, 1, 10000);
  return a;
}

struct ConvLayer {
  MaskedConv2d conv;
  int w = -1, b = -1, lb = -1;  // weight, bias (or -1), label bias [num_classes, out_c] (or -1)
};

void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

inline float sigmoidf(float x) { return 1.f / (1.f + std::exp(-x)); }

// out[c] = tanh(pre[c]) * sigmoid(pre[C + c]), planes of N values; at positions pos of each image of
// pixel-major planes [C][HW][B] (the samplers' layout).
void gate_forward_at(float* out, const float* pre, int C, int B, size_t HW, const int* pos, int npos) {
  const size_t N = B * HW;
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < npos; ++i)
      for (int b = 0; b < B; ++b) {
        const size_t j = static_cast<size_t>(pos[i]) * B + b;
        out[c * N + j] = std::tanh(pre[c * N + j]) * sigmoidf(pre[(C + c) * N + j]);
      }
}
void gate_forward(float* out, const float* pre, int C, size_t N) {
  for (size_t j = 0; j < static_cast<size_t>(C) * N; ++j) out[j] = std::tanh(pre[j]) * sigmoidf(pre[C * N + j]);
}
// dpre = d gate / d pre * dout  (overwrites dpre: [2C][N])
void gate_backward(float* dpre, const float* dout, const float* pre, int C, size_t N) {
  for (size_t j = 0; j < static_cast<size_t>(C) * N; ++j) {
    const float t = std::tanh(pre[j]), s = sigmoidf(pre[C * N + j]);
    dpre[j] = dout[j] * s * (1.f - t * t);
    dpre[C * N + j] = dout[j] * t * s * (1.f - s);
  }
}
// dpre = dout where out > 0, else 0 (ReLU backward through its output).
void relu_backward(float* dpre, const float* dout, const float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) dpre[i] = out[i] > 0.f ? dout[i] : 0.f;
}
// dpre := dpre where out > 0 (ReLU backward through its output), in place.
void relu_backward_inplace(float* d, const float* out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!(out[i] > 0.f)) d[i] = 0.f;
}

// Shared by both architectures: config, parameters, inputs, likelihood, the sampling loop.
class PixelCnnBase : public AutoregressiveModel {
 public:
  explicit PixelCnnBase(const ArConfig& cfg)
      : cfg_(cfg), H_(cfg.height), W_(cfg.width), HW_(static_cast<size_t>(cfg.height) * cfg.width),
        C_(cfg.image_channels), G_(cfg.image_channels == 3 ? 3 : 1), L_(cfg.levels == 2 ? 1 : 256),
        Cout_(cfg.image_channels * (cfg.levels == 2 ? 1 : 256)) {}

  std::string kind() const override { return cfg_.kind; }
  ModelConfig config() const override {
    return {{"model", cfg_.kind},
            {"channels", std::to_string(cfg_.channels)},
            {"layers", std::to_string(cfg_.layers)},
            {"levels", std::to_string(cfg_.levels)},
            {"width", std::to_string(cfg_.width)},
            {"height", std::to_string(cfg_.height)},
            {"image_channels", std::to_string(cfg_.image_channels)},
            {"conditional", cfg_.conditional ? "1" : "0"},
            {"num_classes", std::to_string(cfg_.num_classes)}};
  }
  ParamSet& params() override { return params_; }
  const ParamSet& params() const override { return params_; }
  int channels() const override { return C_; }
  int height() const override { return H_; }
  int width() const override { return W_; }
  PixelFormat pixel_format() const override { return cfg_.levels == 2 ? PixelFormat::Binary : PixelFormat::Levels256; }
  bool conditional() const override { return cfg_.conditional; }
  int num_classes() const override { return cfg_.conditional ? cfg_.num_classes : 0; }
  int levels() const override { return cfg_.levels; }

  LossTerms train_step_grads(const float* x, const int* labels, int B, Rng&) override { return run(x, labels, B, true); }
  LossTerms evaluate(const float* x, const int* labels, int B, Rng&) override { return run(x, labels, B, false); }

  std::vector<double> nll_per_image(const float* x, const int* labels, int B) override {
    set_input(x, labels, B);
    pack_all();
    forward_train(B);
    std::vector<double> per(B, 0.0);
    nll_terms(B, per, false);
    return per;
  }

  void forward_logits(const float* x, const int* labels, int B, std::vector<float>& out) override {
    set_input(x, labels, B);
    pack_all();
    forward_train(B);
    out.resize(static_cast<size_t>(B) * Cout_ * HW_);
    const size_t N = B * HW_;
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < Cout_; ++c)
        std::copy_n(logits_.data() + c * N + b * HW_, HW_, out.data() + (static_cast<size_t>(b) * Cout_ + c) * HW_);
  }

  std::vector<uint8_t> receptive_field(int pixel, int channel) const override {
    require(pixel >= 0 && static_cast<size_t>(pixel) < HW_, "receptive_field: pixel out of range");
    require(channel >= 0 && channel < C_, "receptive_field: channel out of range");
    std::vector<uint8_t> out_need(G_ * HW_, 0);
    out_need[channel * HW_ + pixel] = 1;  // channel == group for colour images
    std::vector<uint8_t> in_need = reach_input(out_need);
    std::vector<uint8_t> mask(C_ * HW_);
    for (int c = 0; c < C_; ++c)
      for (size_t p = 0; p < HW_; ++p) mask[c * HW_ + p] = in_need[image_groups().of(c) * HW_ + p];
    return mask;
  }

  void sample(const SampleOptions& opt, Rng& rng, float* out) override;

 protected:
  // Architecture hooks. Training pass: x_ (planes) -> logits_ (planes), keeping activations.
  virtual void forward_train(int B) = 0;
  // dlogits_ -> ADDS parameter gradients (and the input gradient into dx [C][B][H][W] if non-null).
  virtual void backward_train(int B, float* dx) = 0;
  // Sampler passes on a batch of n images, on pixel-major planes [C][HW][n] (x_ too, while sampling):
  // infer_full = all positions (naive); infer_position = what position q needs given caches of every
  // position < q (cached). Both write infer_logits() [Cout][HW][n].
  virtual void infer_begin(int n) = 0;
  virtual void infer_full(int n) = 0;
  virtual void infer_position(int n, int q) = 0;
  virtual const float* infer_logits() const = 0;
  // Receptive field: output need [G][HW] -> input need [G][HW].
  virtual std::vector<uint8_t> reach_input(const std::vector<uint8_t>& out_need) const = 0;

  ChannelGroups image_groups() const { return {G_, C_}; }
  ChannelGroups hidden_groups() const { return {G_, cfg_.channels}; }
  ChannelGroups output_groups() const { return {G_, Cout_}; }

  int add_layer(const std::string& name, const MaskedConvSpec& spec, bool bias, bool label_bias) {
    ConvLayer l{MaskedConv2d(spec)};
    const MaskedConvSpec& s = l.conv.spec();
    l.w = params_.add(name + ".weight", {s.out_c, s.in_c, s.kh, s.kw});
    if (bias) l.b = params_.add(name + ".bias", {s.out_c});
    if (label_bias && cfg_.conditional) l.lb = params_.add(name + ".label_bias", {cfg_.num_classes, s.out_c});
    layers_.push_back(std::move(l));
    return static_cast<int>(layers_.size()) - 1;
  }

  // PyTorch's nn.Conv2d default init (fan_in counts masked taps too), then masked taps := 0.
  void init_params(uint64_t seed) {
    params_.allocate();
    Rng rng(seed);
    for (ConvLayer& l : layers_) {
      const int fan_in = l.conv.fan_in();
      init_uniform_fan_in(params_.value(l.w), l.conv.weight_size(), fan_in, rng);
      l.conv.zero_dead(params_.value(l.w));
      if (l.b >= 0) init_uniform_fan_in(params_.value(l.b), l.conv.spec().out_c, fan_in, rng);
    }
  }

  void pack_all() {
    for (ConvLayer& l : layers_) {
      l.conv.zero_dead(params_.value(l.w));  // keeps checkpoints clean even under weight decay
      l.conv.pack(params_.value(l.w));
    }
  }

  const float* label_extra(const ConvLayer& l, int B) {
    if (l.lb < 0) return nullptr;
    const int oc = l.conv.spec().out_c;
    const float* E = params_.value(l.lb);
    grow(extra_, static_cast<size_t>(oc) * B);
    for (int o = 0; o < oc; ++o)
      for (int b = 0; b < B; ++b) extra_[o * B + b] = E[labels_[b] * oc + o];
    return extra_.data();
  }
  const float* bias(const ConvLayer& l) const { return l.b >= 0 ? params_.value(l.b) : nullptr; }

  void fwd(int id, float* out, const float* in, Activation act, int B) {
    const ConvLayer& l = layers_[id];
    l.conv.forward(out, in, bias(l), label_extra(l, B), act, B, H_, W_, ws_);
  }
  void fwd_at(int id, float* out, const float* in, Activation act, int B, const int* pos, int npos) {
    const ConvLayer& l = layers_[id];
    l.conv.forward_at(out, in, bias(l), label_extra(l, B), act, B, H_, W_, pos, npos, ws_);
  }
  void bwd(int id, float* din, const float* dpre, const float* in, int B) {
    const ConvLayer& l = layers_[id];
    l.conv.backward(din, params_.grad(l.w), l.b >= 0 ? params_.grad(l.b) : nullptr, dpre, in, B, H_, W_, ws_);
    if (l.lb >= 0) {
      const int oc = l.conv.spec().out_c;
      const size_t N = B * HW_;
      float* dE = params_.grad(l.lb);
      for (int o = 0; o < oc; ++o)
        for (int b = 0; b < B; ++b) {
          double s = 0.0;
          const float* p = dpre + o * N + b * HW_;
          for (size_t i = 0; i < HW_; ++i) s += p[i];
          dE[labels_[b] * oc + o] += static_cast<float>(s);
        }
    }
  }

  const MaskedConv2d& conv(int id) const { return layers_[id].conv; }

  ArConfig cfg_;
  const int H_, W_;
  const size_t HW_;
  const int C_, G_, L_, Cout_;  // image channels, channel groups, logits per sub-pixel, output channels
  ParamSet params_;
  std::deque<ConvLayer> layers_;
  MaskedConvWorkspace ws_;
  std::vector<float> x_;        // input planes [C][B][HW] (binary 0/1 or level/255)
  std::vector<int> targets_;    // 256-way: levels [C][B][HW]
  std::vector<int> labels_;     // [B]
  std::vector<float> logits_, dlogits_, extra_;
  std::vector<int> all_pos_;

 private:
  void set_input(const float* x, const int* labels, int B) {
    require(B >= 1 && B <= 1 << 20, kind() + ": batch size must be positive");
    require(x != nullptr, kind() + ": no input images");
    const size_t N = B * HW_;
    x_.resize(C_ * N);
    if (L_ > 1) targets_.resize(C_ * N);
    for (int b = 0; b < B; ++b)
      for (int c = 0; c < C_; ++c) {
        const float* src = x + (static_cast<size_t>(b) * C_ + c) * HW_;
        float* dst = x_.data() + c * N + b * HW_;
        if (L_ == 1) {
          for (size_t i = 0; i < HW_; ++i) {
            require(src[i] >= 0.f && src[i] <= 1.f, kind() + ": binary model input must be in [0, 1]");
            dst[i] = src[i];
          }
        } else {
          int* t = targets_.data() + c * N + b * HW_;
          for (size_t i = 0; i < HW_; ++i) {
            const float v = src[i];
            require(v >= 0.f && v <= 255.f && std::fabs(v - std::round(v)) < 1e-3f,
                    kind() + ": 256-level model input must be integer levels 0..255");
            t[i] = static_cast<int>(std::lround(v));
            dst[i] = static_cast<float>(t[i]) / 255.f;
          }
        }
      }
    labels_.assign(B, 0);
    if (cfg_.conditional) {
      require(labels != nullptr, kind() + ": conditional model needs labels");
      for (int b = 0; b < B; ++b) {
        require(labels[b] >= 0 && labels[b] < cfg_.num_classes, kind() + ": label out of range");
        labels_[b] = labels[b];
      }
    }
  }

  // Per-image NLL (nats) into per[B] (added); with grads, ADDS d(mean NLL)/d logits into dlogits_.
  void nll_terms(int B, std::vector<double>& per, bool grads) {
    const size_t N = B * HW_;
    const float scale = 1.f / static_cast<float>(B);
    if (grads) {
      grow(dlogits_, Cout_ * N);
      std::fill(dlogits_.begin(), dlogits_.begin() + Cout_ * N, 0.f);
    }
    if (L_ == 1) {
      for (int c = 0; c < C_; ++c)
        for (int b = 0; b < B; ++b) {
          const size_t off = c * N + b * HW_;
          per[b] += bernoulli_nll_forward(logits_.data() + off, x_.data() + off, HW_);
          if (grads) bernoulli_nll_backward(dlogits_.data() + off, logits_.data() + off, x_.data() + off, HW_, scale);
        }
      return;
    }
    colmax_.resize(N);
    colsum_.resize(N);
    for (int c = 0; c < C_; ++c) {
      const float* lg = logits_.data() + static_cast<size_t>(c) * 256 * N;
      const int* t = targets_.data() + c * N;
      std::copy_n(lg, N, colmax_.begin());
      for (int v = 1; v < 256; ++v)
        for (size_t j = 0; j < N; ++j) colmax_[j] = std::max(colmax_[j], lg[v * N + j]);
      std::fill(colsum_.begin(), colsum_.end(), 0.0);
      for (int v = 0; v < 256; ++v)
        for (size_t j = 0; j < N; ++j) colsum_[j] += std::exp(static_cast<double>(lg[v * N + j]) - colmax_[j]);
      for (size_t j = 0; j < N; ++j)
        per[j / HW_] += colmax_[j] + std::log(colsum_[j]) - static_cast<double>(lg[t[j] * N + j]);
      if (!grads) continue;
      float* d = dlogits_.data() + static_cast<size_t>(c) * 256 * N;
      for (int v = 0; v < 256; ++v)
        for (size_t j = 0; j < N; ++j)
          d[v * N + j] += scale * static_cast<float>(std::exp(static_cast<double>(lg[v * N + j]) - colmax_[j]) / colsum_[j]);
      for (size_t j = 0; j < N; ++j) d[t[j] * N + j] -= scale;
    }
  }

  LossTerms run(const float* x, const int* labels, int B, bool grads) {
    set_input(x, labels, B);
    pack_all();
    forward_train(B);
    per_image_.assign(B, 0.0);  // no allocation once the batch size has been seen
    nll_terms(B, per_image_, grads);
    if (grads) backward_train(B, nullptr);
    double mean = 0.0;
    for (double v : per_image_) mean += v;
    mean /= B;
    LossTerms t;
    t.loss = mean;
    t.terms["nll"] = mean;
    t.terms["bits_per_dim"] = mean / (static_cast<double>(C_) * HW_ * std::log(2.0));
    return t;
  }

  std::vector<float> colmax_;
  std::vector<double> colsum_, per_image_;
};

void PixelCnnBase::sample(const SampleOptions& opt, Rng& rng, float* out) {
  require(opt.n >= 1 && opt.n <= 4096, "sample: n must be in 1..4096");
  require(std::isfinite(opt.temperature) && opt.temperature > 0.f && opt.temperature <= 100.f,
          "sample: temperature must be in (0, 100]");
  const bool cached = opt.sampler == "cached";
  require(cached || opt.sampler == "naive", "sample: sampler must be 'naive' or 'cached', got '" + opt.sampler + "'");
  require((opt.keep == nullptr) == (opt.keep_mask == nullptr), "sample: completion needs both keep and keep_mask");
  require(out != nullptr, "sample: no output buffer");
  const int n = opt.n;
  const size_t N = n * HW_;
  labels_.assign(n, 0);
  if (cfg_.conditional) {
    require(opt.label >= -1 && opt.label < cfg_.num_classes, "sample: label out of range");
    for (int b = 0; b < n; ++b) labels_[b] = opt.label >= 0 ? opt.label : static_cast<int>(rng.below(cfg_.num_classes));
  } else {
    require(opt.label < 0, "sample: a label was given but the model is not conditional");
  }
  x_.assign(C_ * N, 0.f);
  std::fill(out, out + C_ * N, 0.f);
  auto to_input = [&](float v) { return L_ == 1 ? v : v / 255.f; };
  if (opt.keep_mask) {
    for (int c = 0; c < C_; ++c)
      for (size_t p = 0; p < HW_; ++p) {
        if (!opt.keep_mask[c * HW_ + p]) continue;
        for (int b = 0; b < n; ++b) {
          const size_t o = (static_cast<size_t>(b) * C_ + c) * HW_ + p;
          const float v = opt.keep[o];
          if (L_ == 1) require(v == 0.f || v == 1.f, "sample: kept pixels of a binary model must be 0 or 1");
          else require(v >= 0.f && v <= 255.f && v == std::round(v), "sample: kept pixels must be integer levels 0..255");
          out[o] = v;
          x_[c * N + p * n + b] = to_input(v);
        }
      }
  }
  if (opt.trace) opt.trace->clear();
  pack_all();
  infer_begin(n);
  const double inv_t = 1.0 / opt.temperature;
  std::vector<double> e(L_ == 1 ? 2 : 256);
  for (size_t q = 0; q < HW_; ++q) {
    int computed = -1;
    for (int g = 0; g < C_; ++g) {
      if (opt.keep_mask && opt.keep_mask[g * HW_ + q]) continue;
      if (cached) infer_position(n, static_cast<int>(q));
      else infer_full(n);
      computed = g;
      const float* lg = infer_logits();
      for (int b = 0; b < n; ++b) {
        float value = 0.f;
        if (L_ == 1) {
          const double l = lg[g * N + q * n + b];
          const double p1 = 1.0 / (1.0 + std::exp(-l * inv_t));
          value = rng.uniform() < p1 ? 1.f : 0.f;
          e[0] = 1.0 - p1;
          e[1] = p1;
        } else {
          double m = -INFINITY, sum = 0.0;
          for (int v = 0; v < 256; ++v) m = std::max(m, lg[(static_cast<size_t>(g) * 256 + v) * N + q * n + b] * inv_t);
          for (int v = 0; v < 256; ++v) {
            e[v] = std::exp(lg[(static_cast<size_t>(g) * 256 + v) * N + q * n + b] * inv_t - m);
            sum += e[v];
          }
          const double target = rng.uniform() * sum;
          double acc = 0.0;
          int chosen = -1;
          for (int v = 0; v < 256; ++v) {
            acc += e[v];
            if (e[v] > 0.0) chosen = v;
            if (target < acc) { chosen = v; break; }
          }
          value = static_cast<float>(chosen);
          for (double& v : e) v /= sum;
        }
        out[(static_cast<size_t>(b) * C_ + g) * HW_ + q] = value;
        x_[g * N + q * n + b] = to_input(value);
        if (b == 0 && opt.trace) {
          SampleTraceStep s;
          s.image = 0;
          s.pixel = static_cast<int>(q);
          s.channel = g;
          s.probs.assign(e.begin(), e.end());
          s.value = value;
          opt.trace->push_back(std::move(s));
        }
      }
    }
    // The caches at q must have seen every sub-pixel of q before later positions read them.
    if (cached && computed != C_ - 1) infer_position(n, static_cast<int>(q));
  }
}

// ---- PixelCNN: 7x7 mask-A, residual 3x3 mask-B blocks, two 1x1 ---------------------------------
class PixelCnn final : public PixelCnnBase {
 public:
  PixelCnn(const ArConfig& cfg, uint64_t seed) : PixelCnnBase(cfg) {
    const int C = cfg.channels;
    in_ = add_layer("conv_in", pixelcnn_mask_spec(C_, C, 7, MaskType::A, image_groups(), hidden_groups()), true, true);
    for (int l = 0; l < cfg.layers; ++l)
      blocks_.push_back(add_layer("blocks." + std::to_string(l),
                                  pixelcnn_mask_spec(C, C, 3, MaskType::B, hidden_groups(), hidden_groups()), true, true));
    head1_ = add_layer("head1", pointwise_spec(C, C, hidden_groups(), hidden_groups()), true, true);
    head2_ = add_layer("head2", pointwise_spec(C, Cout_, hidden_groups(), output_groups()), true, false);
    init_params(seed);
  }

 protected:
  void forward_train(int B) override {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = B * HW_, CN = C * N;
    grow(h_, (L + 1) * CN);
    grow(r_, std::max(L, 1) * CN);
    grow(a_, CN);
    grow(logits_, Cout_ * N);
    fwd(in_, h_.data(), x_.data(), Activation::ReLU, B);
    for (int l = 0; l < L; ++l) {
      float* h = h_.data() + l * CN;
      float* r = r_.data() + l * CN;
      fwd(blocks_[l], r, h, Activation::ReLU, B);
      for (size_t i = 0; i < CN; ++i) h[CN + i] = h[i] + r[i];
    }
    fwd(head1_, a_.data(), h_.data() + L * CN, Activation::ReLU, B);
    fwd(head2_, logits_.data(), a_.data(), Activation::Identity, B);
  }

  void backward_train(int B, float* dx) override {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = B * HW_, CN = C * N;
    grow(da_, CN);
    grow(dh_, CN);
    grow(dr_, CN);
    std::fill_n(da_.begin(), CN, 0.f);
    bwd(head2_, da_.data(), dlogits_.data(), a_.data(), B);
    relu_backward_inplace(da_.data(), a_.data(), CN);
    std::fill_n(dh_.begin(), CN, 0.f);
    bwd(head1_, dh_.data(), da_.data(), h_.data() + L * CN, B);
    for (int l = L - 1; l >= 0; --l) {  // h_{l+1} = h_l + ReLU(conv(h_l))
      relu_backward(dr_.data(), dh_.data(), r_.data() + l * CN, CN);
      bwd(blocks_[l], dh_.data(), dr_.data(), h_.data() + l * CN, B);
    }
    relu_backward_inplace(dh_.data(), h_.data(), CN);
    bwd(in_, dx, dh_.data(), x_.data(), B);
  }

  void infer_begin(int n) override {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = n * HW_, CN = C * N;
    ih_.assign((L + 1) * CN, 0.f);
    ir_.assign(CN, 0.f);
    ia_.assign(CN, 0.f);
    ilogits_.assign(Cout_ * N, 0.f);
    all_pos_.resize(HW_);
    std::iota(all_pos_.begin(), all_pos_.end(), 0);
  }
  void infer_full(int n) override { infer_at(n, all_pos_.data(), static_cast<int>(HW_)); }
  void infer_position(int n, int q) override { infer_at(n, &q, 1); }
  const float* infer_logits() const override { return ilogits_.data(); }

  std::vector<uint8_t> reach_input(const std::vector<uint8_t>& out_need) const override {
    const size_t GHW = G_ * HW_;
    std::vector<uint8_t> a(GHW, 0), h(GHW, 0), x(GHW, 0);
    conv(head2_).reach_inputs(out_need.data(), a.data(), H_, W_);
    conv(head1_).reach_inputs(a.data(), h.data(), H_, W_);
    for (int l = cfg_.layers - 1; l >= 0; --l) {  // need(h_l) = need(h_{l+1}) | reach(block_l)
      std::vector<uint8_t> below = h;
      conv(blocks_[l]).reach_inputs(h.data(), below.data(), H_, W_);
      h.swap(below);
    }
    conv(in_).reach_inputs(h.data(), x.data(), H_, W_);
    return x;
  }

 private:
  void infer_at(int n, const int* pos, int npos) {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = n * HW_, CN = C * N;
    fwd_at(in_, ih_.data(), x_.data(), Activation::ReLU, n, pos, npos);
    for (int l = 0; l < L; ++l) {
      const float* h = ih_.data() + l * CN;
      float* hn = ih_.data() + (l + 1) * CN;
      fwd_at(blocks_[l], ir_.data(), h, Activation::ReLU, n, pos, npos);
      for (int c = 0; c < C; ++c)
        for (int i = 0; i < npos; ++i)
          for (int b = 0; b < n; ++b) {
            const size_t j = c * N + static_cast<size_t>(pos[i]) * n + b;
            hn[j] = h[j] + ir_[j];
          }
    }
    fwd_at(head1_, ia_.data(), ih_.data() + L * CN, Activation::ReLU, n, pos, npos);
    fwd_at(head2_, ilogits_.data(), ia_.data(), Activation::Identity, n, pos, npos);
  }

  int in_ = -1, head1_ = -1, head2_ = -1;
  std::vector<int> blocks_;
  std::vector<float> h_, r_, a_, da_, dh_, dr_;  // training
  std::vector<float> ih_, ir_, ia_, ilogits_;    // sampling caches
};

// ---- Gated PixelCNN: vertical + horizontal stacks, gated units, residual and skip ------------------
class GatedPixelCnn final : public PixelCnnBase {
 public:
  GatedPixelCnn(const ArConfig& cfg, uint64_t seed) : PixelCnnBase(cfg) {
    const int C = cfg.channels;
    const ChannelGroups hid = hidden_groups(), pair = {G_, C};  // [tanh | sigmoid] halves share groups
    for (int l = 0; l < cfg.layers; ++l) {
      const std::string p = "layers." + std::to_string(l);
      const int in_c = l == 0 ? C_ : C, k = l == 0 ? 7 : 3;
      const ChannelGroups in = l == 0 ? image_groups() : hid;
      Layer L;
      L.v = add_layer(p + ".v", vertical_stack_spec(in_c, 2 * C, k, in, pair), true, true);
      L.h = add_layer(p + ".h", horizontal_stack_spec(in_c, 2 * C, k, l == 0 ? MaskType::A : MaskType::B, in, pair),
                      true, true);
      L.link = add_layer(p + ".v_to_h", down_shift_spec(2 * C, 2 * C, pair, pair), false, false);
      if (l + 1 < cfg.layers) L.out = add_layer(p + ".h_out", pointwise_spec(C, C, hid, hid), true, false);
      L.skip = add_layer(p + ".skip", pointwise_spec(C, C, hid, hid), true, false);
      stack_.push_back(L);
    }
    head1_ = add_layer("head1", pointwise_spec(C, C, hid, hid), true, true);
    head2_ = add_layer("head2", pointwise_spec(C, Cout_, hid, output_groups()), true, false);
    init_params(seed);
  }

 protected:
  void forward_train(int B) override {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = B * HW_, CN = C * N;
    grow(vpre_, L * 2 * CN);
    grow(hpre_, L * 2 * CN);
    grow(v_, L * CN);
    grow(g_, L * CN);
    grow(hh_, L * CN);
    grow(tmp_, 2 * CN);
    grow(skip_, CN);
    grow(a1_, CN);
    grow(a2_, CN);
    grow(logits_, Cout_ * N);
    for (int l = 0; l < L; ++l) {
      const Layer& S = stack_[l];
      const float* vin = l == 0 ? x_.data() : v_.data() + (l - 1) * CN;
      const float* hin = l == 0 ? x_.data() : hh_.data() + (l - 1) * CN;
      float* vpre = vpre_.data() + l * 2 * CN;
      float* hpre = hpre_.data() + l * 2 * CN;
      float* g = g_.data() + l * CN;
      fwd(S.v, vpre, vin, Activation::Identity, B);
      gate_forward(v_.data() + l * CN, vpre, C, N);
      fwd(S.h, hpre, hin, Activation::Identity, B);
      fwd(S.link, tmp_.data(), vpre, Activation::Identity, B);
      for (size_t i = 0; i < 2 * CN; ++i) hpre[i] += tmp_[i];
      gate_forward(g, hpre, C, N);
      if (S.out >= 0) {
        float* hn = hh_.data() + l * CN;
        fwd(S.out, hn, g, Activation::Identity, B);
        if (l > 0)
          for (size_t i = 0; i < CN; ++i) hn[i] += hin[i];
      }
      fwd(S.skip, tmp_.data(), g, Activation::Identity, B);
      if (l == 0) std::copy_n(tmp_.begin(), CN, skip_.begin());
      else for (size_t i = 0; i < CN; ++i) skip_[i] += tmp_[i];
    }
    for (size_t i = 0; i < CN; ++i) a1_[i] = skip_[i] > 0.f ? skip_[i] : 0.f;
    fwd(head1_, a2_.data(), a1_.data(), Activation::ReLU, B);
    fwd(head2_, logits_.data(), a2_.data(), Activation::Identity, B);
  }

  void backward_train(int B, float* dx) override {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = B * HW_, CN = C * N;
    grow(da_, CN);
    grow(dskip_, CN);
    grow(dh_, CN);
    grow(dv_, CN);
    grow(dg_, CN);
    grow(dhpre_, 2 * CN);
    grow(dvpre_, 2 * CN);
    std::fill_n(da_.begin(), CN, 0.f);
    bwd(head2_, da_.data(), dlogits_.data(), a2_.data(), B);
    relu_backward_inplace(da_.data(), a2_.data(), CN);
    std::fill_n(dskip_.begin(), CN, 0.f);
    bwd(head1_, dskip_.data(), da_.data(), a1_.data(), B);
    relu_backward_inplace(dskip_.data(), a1_.data(), CN);
    std::fill_n(dh_.begin(), CN, 0.f);  // d h_{l+1}
    std::fill_n(dv_.begin(), CN, 0.f);  // d v_{l+1}
    for (int l = L - 1; l >= 0; --l) {
      const Layer& S = stack_[l];
      const float* vin = l == 0 ? x_.data() : v_.data() + (l - 1) * CN;
      const float* hin = l == 0 ? x_.data() : hh_.data() + (l - 1) * CN;
      const float* vpre = vpre_.data() + l * 2 * CN;
      const float* hpre = hpre_.data() + l * 2 * CN;
      const float* g = g_.data() + l * CN;
      std::fill_n(dg_.begin(), CN, 0.f);
      bwd(S.skip, dg_.data(), dskip_.data(), g, B);
      if (S.out >= 0) bwd(S.out, dg_.data(), dh_.data(), g, B);
      gate_backward(dhpre_.data(), dg_.data(), hpre, C, N);
      // d h_l = d h_{l+1} (residual, l > 0) + h-conv^T d hpre; for l = 0 the input is the image.
      if (l == 0) bwd(S.h, dx, dhpre_.data(), hin, B);
      else {
        if (S.out < 0) std::fill_n(dh_.begin(), CN, 0.f);
        bwd(S.h, dh_.data(), dhpre_.data(), hin, B);
      }
      gate_backward(dvpre_.data(), dv_.data(), vpre, C, N);
      bwd(S.link, dvpre_.data(), dhpre_.data(), vpre, B);
      std::fill_n(dv_.begin(), CN, 0.f);
      bwd(S.v, l == 0 ? dx : dv_.data(), dvpre_.data(), vin, B);
    }
  }

  void infer_begin(int n) override {
    const int C = cfg_.channels, L = cfg_.layers;
    const size_t N = n * HW_, CN = C * N;
    ivpre_.assign(L * 2 * CN, 0.f);
    ihpre_.assign(L * 2 * CN, 0.f);
    iv_.assign(L * CN, 0.f);
    ig_.assign(L * CN, 0.f);
    ihh_.assign(L * CN, 0.f);
    itmp_.assign(2 * CN, 0.f);
    iskip_.assign(CN, 0.f);
    ia1_.assign(CN, 0.f);
    ia2_.assign(CN, 0.f);
    ilogits_.assign(Cout_ * N, 0.f);
    all_pos_.resize(HW_);
    std::iota(all_pos_.begin(), all_pos_.end(), 0);
    row_pos_.resize(W_);
    v_rows_done_ = -1;
  }
  void infer_full(int n) override {
    vertical_at(n, all_pos_.data(), static_cast<int>(HW_));
    horizontal_at(n, all_pos_.data(), static_cast<int>(HW_));
  }
  void infer_position(int n, int q) override {
    // Row y reads the vertical stack of row y - 1 only (down shift): compute that row once.
    const int y = q / W_;
    if (y >= 1 && v_rows_done_ < y - 1) {
      for (int x = 0; x < W_; ++x) row_pos_[x] = (y - 1) * W_ + x;
      vertical_at(n, row_pos_.data(), W_);
      v_rows_done_ = y - 1;
    }
    horizontal_at(n, &q, 1);
  }
  const float* infer_logits() const override { return ilogits_.data(); }

  std::vector<uint8_t> reach_input(const std::vector<uint8_t>& out_need) const override {
    const size_t GHW = G_ * HW_;
    std::vector<uint8_t> a2(GHW, 0), skip(GHW, 0), x(GHW, 0);
    conv(head2_).reach_inputs(out_need.data(), a2.data(), H_, W_);
    conv(head1_).reach_inputs(a2.data(), skip.data(), H_, W_);
    std::vector<uint8_t> h(GHW, 0), v(GHW, 0);  // need of h_{l+1}, v_{l+1}
    for (int l = cfg_.layers - 1; l >= 0; --l) {
      const Layer& S = stack_[l];
      std::vector<uint8_t> gneed(GHW, 0), hin(GHW, 0), vpre = v, vin(GHW, 0);
      conv(S.skip).reach_inputs(skip.data(), gneed.data(), H_, W_);
      if (S.out >= 0) conv(S.out).reach_inputs(h.data(), gneed.data(), H_, W_);
      if (l > 0 && S.out >= 0) hin = h;  // residual
      conv(S.h).reach_inputs(gneed.data(), hin.data(), H_, W_);  // gate: hpre need = g need (same groups)
      conv(S.link).reach_inputs(gneed.data(), vpre.data(), H_, W_);
      conv(S.v).reach_inputs(vpre.data(), vin.data(), H_, W_);
      h.swap(hin);
      v.swap(vin);
    }
    for (size_t i = 0; i < GHW; ++i) x[i] = h[i] | v[i];
    return x;
  }

 private:
  struct Layer { int v = -1, h = -1, link = -1, out = -1, skip = -1; };

  void vertical_at(int n, const int* pos, int npos) {
    const int C = cfg_.channels;
    const size_t CN = C * n * HW_;
    for (int l = 0; l < cfg_.layers; ++l) {
      const float* vin = l == 0 ? x_.data() : iv_.data() + (l - 1) * CN;
      float* vpre = ivpre_.data() + l * 2 * CN;
      fwd_at(stack_[l].v, vpre, vin, Activation::Identity, n, pos, npos);
      gate_forward_at(iv_.data() + l * CN, vpre, C, n, HW_, pos, npos);
    }
  }

  void horizontal_at(int n, const int* pos, int npos) {
    const int C = cfg_.channels;
    const size_t N = n * HW_, CN = C * N;
    auto each = [&](int channels, auto&& f) {
      for (int c = 0; c < channels; ++c)
        for (int i = 0; i < npos; ++i)
          for (int b = 0; b < n; ++b) f(c * N + static_cast<size_t>(pos[i]) * n + b);
    };
    for (int l = 0; l < cfg_.layers; ++l) {
      const Layer& S = stack_[l];
      const float* hin = l == 0 ? x_.data() : ihh_.data() + (l - 1) * CN;
      float* hpre = ihpre_.data() + l * 2 * CN;
      float* g = ig_.data() + l * CN;
      fwd_at(S.h, hpre, hin, Activation::Identity, n, pos, npos);
      fwd_at(S.link, itmp_.data(), ivpre_.data() + l * 2 * CN, Activation::Identity, n, pos, npos);
      each(2 * C, [&](size_t j) { hpre[j] += itmp_[j]; });
      gate_forward_at(g, hpre, C, n, HW_, pos, npos);
      if (S.out >= 0) {
        float* hn = ihh_.data() + l * CN;
        fwd_at(S.out, hn, g, Activation::Identity, n, pos, npos);
        if (l > 0) each(C, [&](size_t j) { hn[j] += hin[j]; });
      }
      fwd_at(S.skip, itmp_.data(), g, Activation::Identity, n, pos, npos);
      if (l == 0) each(C, [&](size_t j) { iskip_[j] = itmp_[j]; });
      else each(C, [&](size_t j) { iskip_[j] += itmp_[j]; });
    }
    each(C, [&](size_t j) { ia1_[j] = iskip_[j] > 0.f ? iskip_[j] : 0.f; });
    fwd_at(head1_, ia2_.data(), ia1_.data(), Activation::ReLU, n, pos, npos);
    fwd_at(head2_, ilogits_.data(), ia2_.data(), Activation::Identity, n, pos, npos);
  }

  std::vector<Layer> stack_;
  int head1_ = -1, head2_ = -1;
  std::vector<float> vpre_, hpre_, v_, g_, hh_, tmp_, skip_, a1_, a2_;  // training
  std::vector<float> da_, dskip_, dh_, dv_, dg_, dhpre_, dvpre_;
  std::vector<float> ivpre_, ihpre_, iv_, ig_, ihh_, itmp_, iskip_, ia1_, ia2_, ilogits_;  // sampling caches
  std::vector<int> row_pos_;
  int v_rows_done_ = -1;
};

}  // namespace

AutoregressiveModel& as_autoregressive(GenerativeModel& model) {
  auto* m = dynamic_cast<AutoregressiveModel*>(&model);
  require(m != nullptr, "model '" + model.kind() + "' is not autoregressive");
  return *m;
}
const AutoregressiveModel& as_autoregressive(const GenerativeModel& model) {
  auto* m = dynamic_cast<const AutoregressiveModel*>(&model);
  require(m != nullptr, "model '" + model.kind() + "' is not autoregressive");
  return *m;
}
std::vector<uint8_t> receptive_field(const GenerativeModel& model, int pixel, int channel) {
  return as_autoregressive(model).receptive_field(pixel, channel);
}

std::unique_ptr<GenerativeModel> make_pixelcnn_model(const ModelConfig& config, uint64_t init_seed) {
  auto it = config.find("model");
  if (it == config.end() || (it->second != "pixelcnn" && it->second != "gated-pixelcnn")) return nullptr;
  const ArConfig cfg = parse_config(config);
  if (cfg.kind == "pixelcnn") return std::make_unique<PixelCnn>(cfg, init_seed);
  return std::make_unique<GatedPixelCnn>(cfg, init_seed);
}

}  // namespace genlab
