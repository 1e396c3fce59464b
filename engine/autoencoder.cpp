// AE and VAE: config parsing, the layer stack, ELBO forward/backward, IWAE bound, latent-space paths.
// See autoencoder.h for the model definitions and config keys.
#include "autoencoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "error.h"
#include "losses.h"

namespace genlab {

namespace {


int parse_int(const ModelConfig& c, const std::string& key, int def, int lo, int hi) {
  auto it = c.find(key);
  if (it == c.end()) return def;
  const std::string& s = it->second;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  require(ec == std::errc() && p == s.data() + s.size() && !s.empty(),
          "config '" + key + "': '" + s + "' is not an integer");
  require(v >= lo && v <= hi, "config '" + key + "' = " + s + " is out of range [" + std::to_string(lo) + ", " +
                                  std::to_string(hi) + "]");
  return v;
}

float parse_float(const ModelConfig& c, const std::string& key, float def, float lo, float hi) {
  auto it = c.find(key);
  if (it == c.end()) return def;
  const std::string& s = it->second;
  char* end = nullptr;
  const double v = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
  require(!s.empty() && end == s.c_str() + s.size() && std::isfinite(v), "config '" + key + "': '" + s + "' is not a number");
  require(v >= lo && v <= hi, "config '" + key + "' = " + s + " is out of range [" + std::to_string(lo) + ", " +
                                  std::to_string(hi) + "]");
  return static_cast<float>(v);
}

std::string parse_choice(const ModelConfig& c, const std::string& key, const std::string& def,
                         const std::vector<std::string>& allowed) {
  auto it = c.find(key);
  if (it == c.end()) return def;
  for (const auto& a : allowed)
    if (it->second == a) return a;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  throw Error("config '" + key + "': '" + it->second + "' is not one of " + list);
}

std::string format_float(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

float activation_alpha(Activation a) { return a == Activation::ELU ? 1.f : 0.01f; }

inline float sigmoidf(float v) { return v >= 0 ? 1.f / (1.f + std::exp(-v)) : std::exp(v) / (1.f + std::exp(v)); }

}  // namespace

// ---- config ---------------------------------------------------------------------------------

AutoencoderConfig AutoencoderConfig::parse(const ModelConfig& c) {
  static const std::vector<std::string> known = {"model", "arch", "hidden", "latent", "likelihood", "beta",
                                                 "activation", "filters", "width", "height", "channels"};
  for (const auto& [k, v] : c)
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw Error("unknown option '" + k + "' for model '" + (c.count("model") ? c.at("model") : std::string("?")) +
                  "' (known: arch, hidden, latent, likelihood, beta, activation, filters, width, height, channels)");
  AutoencoderConfig a;
  a.model = parse_choice(c, "model", "vae", {"vae", "ae"});
  a.arch = parse_choice(c, "arch", "mlp", {"mlp", "conv"});
  a.hidden = parse_int(c, "hidden", 400, 4, 4096);
  a.latent = parse_int(c, "latent", 20, 2, 64);
  a.likelihood = parse_choice(c, "likelihood", "bernoulli", {"bernoulli", "gaussian"});
  a.beta = parse_float(c, "beta", 1.f, 0.f, 100.f);
  auto act = c.find("activation");
  if (act != c.end()) {
    a.activation = activation_from_name(act->second.c_str());
    require(a.activation != Activation::Identity, "config 'activation': identity would make the network linear");
  }
  a.filters = parse_int(c, "filters", 32, 2, 256);
  a.width = parse_int(c, "width", 28, 4, 256);
  a.height = parse_int(c, "height", 28, 4, 256);
  a.channels = parse_int(c, "channels", 1, 1, 3);
  require(a.channels != 2, "config 'channels' must be 1 (grey) or 3 (colour)");
  if (a.arch == "conv")
    require(a.width % 4 == 0 && a.height % 4 == 0 && a.width >= 8 && a.height >= 8,
            "arch=conv needs width and height divisible by 4 and at least 8 (got " + std::to_string(a.width) + "x" +
                std::to_string(a.height) + ")");
  require(static_cast<long>(a.hidden) * a.dim() <= (1L << 26), "config: hidden x image size is too large for a model");
  return a;
}

ModelConfig AutoencoderConfig::to_map() const {
  ModelConfig m{{"model", model},
                {"arch", arch},
                {"hidden", std::to_string(hidden)},
                {"latent", std::to_string(latent)},
                {"activation", activation_name(activation)},
                {"width", std::to_string(width)},
                {"height", std::to_string(height)},
                {"channels", std::to_string(channels)}};
  if (model == "vae") {
    m["likelihood"] = likelihood;
    m["beta"] = format_float(beta);
  }
  if (arch == "conv") m["filters"] = std::to_string(filters);
  return m;
}

// ---- LayerStack -----------------------------------------------------------------------------

void LayerStack::linear(ParamSet& p, const std::string& name, int in, int out) {
  Layer l;
  l.kind = Layer::Kind::Linear;
  l.weight = p.add(name + ".weight", {out, in});
  l.bias = p.add(name + ".bias", {out});
  l.in_features = in;
  l.out_features = out;
  l.in_size = static_cast<size_t>(in);
  l.out_size = static_cast<size_t>(out);
  layers_.push_back(l);
}

void LayerStack::conv(ParamSet& p, const std::string& name, int in_c, int in_h, int in_w, int out_c, int k, int stride,
                      int pad) {
  Layer l;
  l.kind = Layer::Kind::Conv;
  l.conv = Conv2dShape{1, in_c, in_h, in_w, out_c, k, k, stride, pad};
  l.weight = p.add(name + ".weight", {out_c, in_c, k, k});
  l.bias = p.add(name + ".bias", {out_c});
  l.in_size = static_cast<size_t>(in_c) * in_h * in_w;
  l.out_size = static_cast<size_t>(out_c) * l.conv.out_h() * l.conv.out_w();
  layers_.push_back(l);
}

void LayerStack::conv_transpose(ParamSet& p, const std::string& name, int in_c, int in_h, int in_w, int out_c, int k,
                                int stride, int pad) {
  Layer l;
  l.kind = Layer::Kind::ConvT;
  l.convt = ConvTranspose2dShape{1, in_c, in_h, in_w, out_c, k, k, stride, pad, 0};
  l.weight = p.add(name + ".weight", {in_c, out_c, k, k});
  l.bias = p.add(name + ".bias", {out_c});
  l.in_size = static_cast<size_t>(in_c) * in_h * in_w;
  l.out_size = static_cast<size_t>(out_c) * l.convt.out_h() * l.convt.out_w();
  layers_.push_back(l);
}

void LayerStack::activation(Activation a) {
  Layer l;
  l.kind = Layer::Kind::Act;
  l.act = a;
  l.in_size = l.out_size = layers_.empty() ? 0 : layers_.back().out_size;
  layers_.push_back(l);
}

void LayerStack::init(ParamSet& p, Rng& rng) const {
  for (const Layer& l : layers_) {
    if (l.kind == Layer::Kind::Act) continue;
    int fan_in = 0;  // PyTorch: weight.size(1) * kernel area (ConvTranspose2d's weight is [in, out, k, k])
    if (l.kind == Layer::Kind::Linear) fan_in = l.in_features;
    if (l.kind == Layer::Kind::Conv) fan_in = l.conv.in_c * l.conv.kh * l.conv.kw;
    if (l.kind == Layer::Kind::ConvT) fan_in = l.convt.out_c * l.convt.kh * l.convt.kw;
    const ParamInfo& w = p.infos()[l.weight];
    const ParamInfo& b = p.infos()[l.bias];
    init_uniform_fan_in(p.value(l.weight), w.size, fan_in, rng);
    init_uniform_fan_in(p.value(l.bias), b.size, fan_in, rng);
  }
}

const float* LayerStack::forward(const ParamSet& p, const float* in, int B) {
  input_ = in;
  outs_.resize(layers_.size());
  const float* cur = in;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    std::vector<float>& out = outs_[i];
    out.resize(static_cast<size_t>(B) * l.out_size);
    switch (l.kind) {
      case Layer::Kind::Linear:
        linear_forward(out.data(), cur, p.value(l.weight), p.value(l.bias), B, l.in_features, l.out_features);
        break;
      case Layer::Kind::Conv: {
        Conv2dShape s = l.conv;
        s.batch = B;
        conv2d_forward(out.data(), cur, p.value(l.weight), p.value(l.bias), s, workspace_);
        break;
      }
      case Layer::Kind::ConvT: {
        ConvTranspose2dShape s = l.convt;
        s.batch = B;
        conv_transpose2d_forward(out.data(), cur, p.value(l.weight), p.value(l.bias), s, workspace_);
        break;
      }
      case Layer::Kind::Act:
        activation_forward(l.act, out.data(), cur, out.size(), activation_alpha(l.act));
        break;
    }
    cur = out.data();
  }
  return cur;
}

void LayerStack::backward(ParamSet& p, const float* dout, float* din, int B) {
  grads_.resize(layers_.size());
  const float* dcur = dout;
  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& l = layers_[i];
    const float* in = i == 0 ? input_ : outs_[i - 1].data();
    float* dprev = din;
    if (i > 0) {
      grads_[i - 1].assign(static_cast<size_t>(B) * l.in_size, 0.f);
      dprev = grads_[i - 1].data();
    }
    switch (l.kind) {
      case Layer::Kind::Linear: {
        float wb, bb;
        float* dW = p.grad_for_overwrite(l.weight, wb);
        float* db = p.grad_for_overwrite(l.bias, bb);
        linear_backward(dprev, dW, db, dcur, in, p.value(l.weight), B, l.in_features, l.out_features, wb, bb);
        break;
      }
      case Layer::Kind::Conv: {
        Conv2dShape s = l.conv;
        s.batch = B;
        conv2d_backward(dprev, p.grad(l.weight), p.grad(l.bias), dcur, in, p.value(l.weight), s, workspace_);
        break;
      }
      case Layer::Kind::ConvT: {
        ConvTranspose2dShape s = l.convt;
        s.batch = B;
        conv_transpose2d_backward(dprev, p.grad(l.weight), p.grad(l.bias), dcur, in, p.value(l.weight), s, workspace_);
        break;
      }
      case Layer::Kind::Act:
        if (dprev)
          activation_backward(l.act, dprev, dcur, in, outs_[i].data(), static_cast<size_t>(B) * l.out_size,
                              activation_alpha(l.act));
        break;
    }
    dcur = dprev;
  }
}

// ---- AutoencoderBase --------------------------------------------------------------------------

AutoencoderBase::AutoencoderBase(const AutoencoderConfig& cfg) : cfg_(cfg) {}

int AutoencoderBase::build_encoder_trunk() {
  const AutoencoderConfig& c = cfg_;
  if (c.arch == "mlp") {
    encoder_.linear(params_, "enc.fc1", c.dim(), c.hidden);
  } else {
    const int f = c.filters;
    encoder_.conv(params_, "enc.conv1", c.channels, c.height, c.width, f, 4, 2, 1);
    encoder_.activation(c.activation);
    encoder_.conv(params_, "enc.conv2", f, c.height / 2, c.width / 2, 2 * f, 4, 2, 1);
    encoder_.activation(c.activation);
    encoder_.linear(params_, "enc.fc1", 2 * f * (c.height / 4) * (c.width / 4), c.hidden);
  }
  encoder_.activation(c.activation);
  return c.hidden;
}

void AutoencoderBase::build_decoder(int outputs_per_pixel) {
  const AutoencoderConfig& c = cfg_;
  decoder_.linear(params_, "dec.fc1", c.latent, c.hidden);
  decoder_.activation(c.activation);
  if (c.arch == "mlp") {
    decoder_.linear(params_, "dec.fc2", c.hidden, c.dim() * outputs_per_pixel);
  } else {
    const int f = c.filters, h4 = c.height / 4, w4 = c.width / 4;
    decoder_.linear(params_, "dec.fc2", c.hidden, 2 * f * h4 * w4);
    decoder_.activation(c.activation);
    decoder_.conv_transpose(params_, "dec.deconv1", 2 * f, h4, w4, f, 4, 2, 1);
    decoder_.activation(c.activation);
    decoder_.conv_transpose(params_, "dec.deconv2", f, 2 * h4, 2 * w4, c.channels * outputs_per_pixel, 4, 2, 1);
  }
}

// ---- Autoencoder ------------------------------------------------------------------------------

Autoencoder::Autoencoder(const AutoencoderConfig& cfg, uint64_t init_seed) : AutoencoderBase(cfg) {
  build_encoder_trunk();
  encoder_.linear(params_, "enc.fc_z", cfg_.hidden, cfg_.latent);
  build_decoder(1);
  params_.allocate();
  Rng rng(init_seed);
  encoder_.init(params_, rng);
  decoder_.init(params_, rng);
}

LossTerms Autoencoder::forward_loss(const float* x, int B) {
  require(B > 0, "batch size must be positive");
  const float* z = encoder_.forward(params_, x, B);
  x_hat_ = decoder_.forward(params_, z, B);
  const size_t n = static_cast<size_t>(B) * dim();
  const double sse = mse_forward(x_hat_, x, n) / B;
  LossTerms t;
  t.loss = sse;
  t.terms["recon"] = sse;
  t.terms["mse"] = sse / dim();
  return t;
}

LossTerms Autoencoder::train_step_grads(const float* x, const int*, int B, Rng&) {
  LossTerms t = forward_loss(x, B);
  const size_t n = static_cast<size_t>(B) * dim();
  dout_.assign(n, 0.f);
  mse_backward(dout_.data(), x_hat_, x, n, 1.f / static_cast<float>(B));
  dz_.assign(static_cast<size_t>(B) * latent(), 0.f);
  decoder_.backward(params_, dout_.data(), dz_.data(), B);
  encoder_.backward(params_, dz_.data(), nullptr, B);
  return t;
}

LossTerms Autoencoder::evaluate(const float* x, const int*, int B, Rng&) { return forward_loss(x, B); }

void Autoencoder::sample(const SampleOptions&, Rng&, float*) {
  throw Error("a deterministic autoencoder (model=ae) has no prior to sample from; train a VAE to sample");
}

void Autoencoder::encode(const float* x, int B, float* z) {
  const float* out = encoder_.forward(params_, x, B);
  std::copy(out, out + static_cast<size_t>(B) * latent(), z);
}

void Autoencoder::decode(const float* z, int B, float* x_hat) {
  const float* out = decoder_.forward(params_, z, B);
  std::copy(out, out + static_cast<size_t>(B) * dim(), x_hat);
}

void Autoencoder::reconstruct(const float* x, int B, float* x_hat) {
  const float* z = encoder_.forward(params_, x, B);
  const float* out = decoder_.forward(params_, z, B);
  std::copy(out, out + static_cast<size_t>(B) * dim(), x_hat);
}

// ---- VariationalAutoencoder --------------------------------------------------------------------

VariationalAutoencoder::VariationalAutoencoder(const AutoencoderConfig& cfg, uint64_t init_seed) : AutoencoderBase(cfg) {
  head_in_size_ = build_encoder_trunk();
  mu_w_ = params_.add("enc.fc_mu.weight", {cfg_.latent, head_in_size_});
  mu_b_ = params_.add("enc.fc_mu.bias", {cfg_.latent});
  lv_w_ = params_.add("enc.fc_logvar.weight", {cfg_.latent, head_in_size_});
  lv_b_ = params_.add("enc.fc_logvar.bias", {cfg_.latent});
  build_decoder(gaussian() ? 2 : 1);
  params_.allocate();
  Rng rng(init_seed);
  encoder_.init(params_, rng);
  for (int id : {mu_w_, mu_b_, lv_w_, lv_b_}) init_uniform_fan_in(params_.value(id), params_.infos()[id].size, head_in_size_, rng);
  decoder_.init(params_, rng);
}

void VariationalAutoencoder::heads_forward(const float* x, int B) {
  require(B > 0, "batch size must be positive");
  head_in_ = encoder_.forward(params_, x, B);
  const size_t nz = static_cast<size_t>(B) * latent();
  mu_.resize(nz);
  logvar_.resize(nz);
  linear_forward(mu_.data(), head_in_, params_.value(mu_w_), params_.value(mu_b_), B, head_in_size_, latent());
  linear_forward(logvar_.data(), head_in_, params_.value(lv_w_), params_.value(lv_b_), B, head_in_size_, latent());
}

LossTerms VariationalAutoencoder::loss_with_noise(const float* x, const float* eps, int B, bool with_grads) {
  heads_forward(x, B);
  const int Z = latent(), D = dim();
  const size_t nz = static_cast<size_t>(B) * Z;
  z_.resize(nz);
  for (size_t i = 0; i < nz; ++i) z_[i] = mu_[i] + std::exp(0.5f * logvar_[i]) * eps[i];
  const float* out = decoder_.forward(params_, z_.data(), B);
  const size_t per = static_cast<size_t>(gaussian() ? 2 : 1) * D;

  double recon = 0.0;
  for (int b = 0; b < B; ++b) {
    const float* o = out + b * per;
    const float* xb = x + static_cast<size_t>(b) * D;
    recon += gaussian()     ? gaussian_nll_forward(o, o + D, xb, D)
             : with_grads ? bernoulli_nll_forward_fast(o, xb, D)  // a training step: the value is only reported
                          : bernoulli_nll_forward(o, xb, D);
  }
  std::vector<double> kl_dims(nz, 0.0);
  const double kl = kl_std_normal_forward(mu_.data(), logvar_.data(), nz, kl_dims.data());

  LossTerms t;
  t.terms["recon"] = recon / B;
  t.terms["kl"] = kl / B;
  t.terms["elbo"] = -(recon + kl) / B;
  t.loss = (recon + cfg_.beta * kl) / B;
  t.kl_per_dim.assign(Z, 0.0);
  for (size_t i = 0; i < nz; ++i) t.kl_per_dim[i % Z] += kl_dims[i] / B;
  if (!with_grads) return t;

  // Backward: decoder output -> z -> (mu, logvar) (+ KL) -> heads -> encoder trunk.
  const float inv_b = 1.f / static_cast<float>(B);
  dec_grad_.assign(static_cast<size_t>(B) * per, 0.f);
  for (int b = 0; b < B; ++b) {
    const float* o = out + b * per;
    float* d = dec_grad_.data() + b * per;
    const float* xb = x + static_cast<size_t>(b) * D;
    if (gaussian())
      gaussian_nll_backward(d, d + D, o, o + D, xb, D, inv_b);
    else
      bernoulli_nll_backward(d, o, xb, D, inv_b);
  }
  dz_.assign(nz, 0.f);
  decoder_.backward(params_, dec_grad_.data(), dz_.data(), B);
  dmu_.assign(nz, 0.f);
  dlogvar_.assign(nz, 0.f);
  for (size_t i = 0; i < nz; ++i) {
    dmu_[i] = dz_[i];
    dlogvar_[i] = dz_[i] * eps[i] * 0.5f * std::exp(0.5f * logvar_[i]);
  }
  kl_std_normal_backward(dmu_.data(), dlogvar_.data(), mu_.data(), logvar_.data(), nz, cfg_.beta * inv_b);
  dhead_.assign(static_cast<size_t>(B) * head_in_size_, 0.f);
  for (const auto& [w, b, d] : {std::tuple{mu_w_, mu_b_, dmu_.data()}, std::tuple{lv_w_, lv_b_, dlogvar_.data()}}) {
    float wb, bb;
    float* dW = params_.grad_for_overwrite(w, wb);
    float* db = params_.grad_for_overwrite(b, bb);
    linear_backward(dhead_.data(), dW, db, d, head_in_, params_.value(w), B, head_in_size_, Z, wb, bb);
  }
  encoder_.backward(params_, dhead_.data(), nullptr, B);
  return t;
}

LossTerms VariationalAutoencoder::train_step_grads(const float* x, const int*, int B, Rng& rng) {
  eps_.resize(static_cast<size_t>(B) * latent());
  for (float& e : eps_) e = rng.normal();
  return loss_with_noise(x, eps_.data(), B, true);
}

LossTerms VariationalAutoencoder::evaluate(const float* x, const int*, int B, Rng& rng) {
  eps_.resize(static_cast<size_t>(B) * latent());
  for (float& e : eps_) e = rng.normal();
  return loss_with_noise(x, eps_.data(), B, false);
}

void VariationalAutoencoder::encode(const float* x, int B, float* mu, float* logvar) {
  heads_forward(x, B);
  std::copy(mu_.begin(), mu_.end(), mu);
  if (logvar) std::copy(logvar_.begin(), logvar_.end(), logvar);
}

void VariationalAutoencoder::decode(const float* z, int B, float* out, float* logvar_out) {
  require(B > 0, "decode: batch size must be positive");
  const int D = dim();
  const float* o = decoder_.forward(params_, z, B);
  const size_t per = static_cast<size_t>(gaussian() ? 2 : 1) * D;
  for (int b = 0; b < B; ++b) {
    const float* ob = o + b * per;
    float* dst = out + static_cast<size_t>(b) * D;
    if (gaussian()) {
      std::copy(ob, ob + D, dst);
      if (logvar_out) std::copy(ob + D, ob + 2 * D, logvar_out + static_cast<size_t>(b) * D);
    } else {
      for (int i = 0; i < D; ++i) dst[i] = sigmoidf(ob[i]);
    }
  }
}

void VariationalAutoencoder::reconstruct(const float* x, int B, float* out) {
  heads_forward(x, B);
  std::vector<float> mu = mu_;
  decode(mu.data(), B, out);
}

void VariationalAutoencoder::sample(const SampleOptions& opt, Rng& rng, float* out) {
  require(opt.n >= 1 && opt.n <= 4096, "sample: n must be in [1, 4096]");
  require(opt.temperature > 0.f && opt.temperature <= 10.f, "sample: temperature must be in (0, 10]");
  require(opt.keep == nullptr && opt.keep_mask == nullptr,
          "a VAE cannot complete a partial image (completion is for autoregressive models)");
  std::vector<float> z(static_cast<size_t>(opt.n) * latent());
  for (float& v : z) v = opt.temperature * rng.normal();
  decode(z.data(), opt.n, out);
  const size_t n = static_cast<size_t>(opt.n) * dim();
  for (size_t i = 0; i < n; ++i) out[i] = std::clamp(out[i], 0.f, 1.f);
}

void VariationalAutoencoder::decoder_log_likelihood(const float* const* x_rows, const float* z, int R, double* out) {
  const int D = dim();
  const float* o = decoder_.forward(params_, z, R);
  const size_t per = static_cast<size_t>(gaussian() ? 2 : 1) * D;
  for (int r = 0; r < R; ++r) {
    const float* orow = o + r * per;
    out[r] = -(gaussian() ? gaussian_nll_forward(orow, orow + D, x_rows[r], D) : bernoulli_nll_forward(orow, x_rows[r], D));
  }
}

std::vector<double> VariationalAutoencoder::neg_iwae_bound(const float* x, int B, int K, Rng& rng) {
  require(K >= 1 && K <= 100000, "IWAE: K must be in [1, 100000]");
  const int Z = latent(), D = dim();
  heads_forward(x, B);
  const std::vector<float> mu = mu_, lv = logvar_;
  std::vector<double> logw(static_cast<size_t>(B) * K);
  constexpr int kChunkRows = 512;
  std::vector<float> zc;
  std::vector<const float*> xr;
  std::vector<double> ll;
  for (size_t row0 = 0; row0 < logw.size(); row0 += kChunkRows) {
    const int R = static_cast<int>(std::min<size_t>(kChunkRows, logw.size() - row0));
    zc.resize(static_cast<size_t>(R) * Z);
    xr.resize(R);
    ll.resize(R);
    for (int r = 0; r < R; ++r) {
      const size_t b = (row0 + r) / K;
      xr[r] = x + b * D;
      double prior_minus_q = 0.0;  // log p(z) - log q(z|x)
      for (int j = 0; j < Z; ++j) {
        const float e = rng.normal();
        const float l = lv[b * Z + j];
        const float zz = mu[b * Z + j] + std::exp(0.5f * l) * e;
        zc[static_cast<size_t>(r) * Z + j] = zz;
        prior_minus_q += 0.5 * (static_cast<double>(e) * e + l - static_cast<double>(zz) * zz);
      }
      logw[row0 + r] = prior_minus_q;
    }
    decoder_log_likelihood(xr.data(), zc.data(), R, ll.data());
    for (int r = 0; r < R; ++r) logw[row0 + r] += ll[r];
  }
  std::vector<double> out(B);
  for (int b = 0; b < B; ++b) out[b] = -(logsumexp(logw.data() + static_cast<size_t>(b) * K, K) - std::log(static_cast<double>(K)));
  return out;
}

std::vector<float> VariationalAutoencoder::interpolate_linear(const float* z0, const float* z1, int Z, int steps) {
  require(steps >= 2 && steps <= 1024, "interpolation: steps must be in [2, 1024]");
  std::vector<float> out(static_cast<size_t>(steps) * Z);
  for (int s = 0; s < steps; ++s) {
    const double t = static_cast<double>(s) / (steps - 1);
    for (int j = 0; j < Z; ++j) out[static_cast<size_t>(s) * Z + j] = static_cast<float>((1.0 - t) * z0[j] + t * z1[j]);
  }
  return out;
}

std::vector<float> VariationalAutoencoder::interpolate_spherical(const float* z0, const float* z1, int Z, int steps) {
  require(steps >= 2 && steps <= 1024, "interpolation: steps must be in [2, 1024]");
  double dot = 0, n0 = 0, n1 = 0;
  for (int j = 0; j < Z; ++j) {
    dot += static_cast<double>(z0[j]) * z1[j];
    n0 += static_cast<double>(z0[j]) * z0[j];
    n1 += static_cast<double>(z1[j]) * z1[j];
  }
  const double denom = std::sqrt(n0 * n1);
  const double omega = denom > 0 ? std::acos(std::clamp(dot / denom, -1.0, 1.0)) : 0.0;
  const double so = std::sin(omega);
  if (so < 1e-6) return interpolate_linear(z0, z1, Z, steps);  // (anti)parallel codes: slerp degenerates
  std::vector<float> out(static_cast<size_t>(steps) * Z);
  for (int s = 0; s < steps; ++s) {
    const double t = static_cast<double>(s) / (steps - 1);
    const double a = std::sin((1.0 - t) * omega) / so, b = std::sin(t * omega) / so;
    for (int j = 0; j < Z; ++j) out[static_cast<size_t>(s) * Z + j] = static_cast<float>(a * z0[j] + b * z1[j]);
  }
  return out;
}

std::vector<float> VariationalAutoencoder::traverse(const float* z, int Z, int dim, const std::vector<float>& values) {
  require(dim >= 0 && dim < Z, "traversal: latent dimension " + std::to_string(dim) + " is out of range [0, " +
                                   std::to_string(Z - 1) + "]");
  std::vector<float> out;
  out.reserve(values.size() * Z);
  for (float v : values) {
    out.insert(out.end(), z, z + Z);
    out[out.size() - Z + dim] = v;
  }
  return out;
}

// ---- factory --------------------------------------------------------------------------------

std::unique_ptr<GenerativeModel> make_autoencoder_model(const ModelConfig& config, uint64_t init_seed) {
  auto it = config.find("model");
  if (it == config.end() || (it->second != "ae" && it->second != "vae")) return nullptr;
  const AutoencoderConfig c = AutoencoderConfig::parse(config);
  if (c.model == "ae") return std::make_unique<Autoencoder>(c, init_seed);
  return std::make_unique<VariationalAutoencoder>(c, init_seed);
}

}  // namespace genlab
