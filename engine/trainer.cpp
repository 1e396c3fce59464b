// Trainer: shuffled epochs, dynamic binarisation, the fixed test binarisation, evaluation of any
// GenerativeModel (bounds for VAEs, exact NLL for autoregressive models), and training checkpoints.
#include "trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "autoencoder.h"
#include "checkpoint.h"
#include "error.h"
#include "parallel.h"

namespace genlab {

namespace {

// Evaluation noise (VAE eps, dequantisation of a train split) comes from its own fixed stream, so
// an evaluation never disturbs training and two evaluations of the same parameters agree.
constexpr uint64_t kEvalSeed = 0x6576616C2D657073ull;  // "eval-eps"
constexpr int kEvalBatch = 100;
constexpr size_t kMaxCurvePoints = 8192;
constexpr double kLn2 = 0.6931471805599453;

uint64_t trainer_stream_seed(uint64_t seed) { return seed ^ 0xD1B54A32D192ED03ull; }

// Converts uint8 images into a model's input format. Binary: fixed binarisation stream; Grey01: uniform
// dequantisation (pixel + u) / 256 with u from rng; Levels256: the level as a float.
std::vector<float> fixed_inputs(const Dataset& d, PixelFormat f, uint64_t seed) {
  std::vector<float> out(d.pixels.size());
  if (f == PixelFormat::Binary) {
    const std::vector<uint8_t> bits = binarize_fixed(d, seed);
    for (size_t i = 0; i < bits.size(); ++i) out[i] = bits[i];
  } else if (f == PixelFormat::Grey01) {
    Rng rng(seed);
    for (size_t i = 0; i < out.size(); ++i) out[i] = (static_cast<float>(d.pixels[i]) + rng.uniform()) * (1.f / 256.f);
  } else {
    for (size_t i = 0; i < out.size(); ++i) out[i] = d.pixels[i];
  }
  return out;
}

void check_shape(const Dataset& d, const GenerativeModel& m, const std::string& which) {
  require(d.n > 0, which + " data set is empty");
  require(d.channels == m.channels() && d.height == m.height() && d.width == m.width(),
          which + " data set '" + d.name + "' has images of " + std::to_string(d.channels) + "x" + std::to_string(d.height) +
              "x" + std::to_string(d.width) + " but the model expects " + std::to_string(m.channels()) + "x" +
              std::to_string(m.height()) + "x" + std::to_string(m.width()));
  if (m.conditional()) {
    require(!d.labels.empty(), which + " data set '" + d.name + "' has no labels but the model is class-conditional");
    require(d.num_classes <= m.num_classes(), which + " data set '" + d.name + "' has " + std::to_string(d.num_classes) +
                                                  " classes but the model was built for " + std::to_string(m.num_classes()));
  }
}

std::string fmt(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

Trainer::Trainer(const TrainConfig& cfg, std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test)
    : cfg_(cfg), train_(std::move(train)), test_(std::move(test)), rng_(trainer_stream_seed(cfg.seed)) {
  require(train_ && test_, "trainer needs a training and a test data set");
  require(cfg_.batch >= 1 && cfg_.batch <= 4096, "batch size must be in [1, 4096], got " + std::to_string(cfg_.batch));
  validate(cfg_.optim);
  model_ = make_model(cfg_.model, cfg_.seed);
  cfg_.model = model_->config();  // defaults filled in: the config checkpoints carry
  check_shape(*train_, *model_, "training");
  check_shape(*test_, *model_, "test");
  opt_ = std::make_unique<Optimizer>(model_->params().total(), cfg_.optim);
  order_.resize(train_->n);
  std::iota(order_.begin(), order_.end(), 0);
  cursor_ = order_.size();  // the first batch shuffles
  test_inputs_ = fixed_inputs(*test_, model_->pixel_format(), kTestBinarizeSeed);
}

double Trainer::epoch() const { return static_cast<double>(step()) * cfg_.batch / train_->n; }

void Trainer::select_batch(int B) {
  batch_idx_.resize(B);
  batch_y_.resize(B);
  batch_x_.resize(static_cast<size_t>(B) * train_->dim());
  for (int b = 0; b < B; ++b) {
    if (cursor_ >= order_.size()) {  // new epoch: Fisher-Yates shuffle with the trainer's stream
      for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(static_cast<uint32_t>(i))]);
      cursor_ = 0;
    }
    batch_idx_[b] = order_[cursor_++];
    batch_y_[b] = train_->label(batch_idx_[b]);
  }
}

void Trainer::fill_images(int b0, int b1, Rng& rng) {
  const Dataset& d = *train_;
  const size_t D = d.dim();
  const PixelFormat f = model_->pixel_format();
  for (int b = b0; b < b1; ++b) {
    const uint8_t* img = d.image(batch_idx_[b]);
    float* dst = batch_x_.data() + b * D;
    if (f == PixelFormat::Binary) {
      binarize_dynamic(img, D, dst, rng);
    } else if (f == PixelFormat::Grey01) {
      for (size_t i = 0; i < D; ++i) dst[i] = (static_cast<float>(img[i]) + rng.uniform()) * (1.f / 256.f);
    } else {
      for (size_t i = 0; i < D; ++i) dst[i] = img[i];
    }
  }
}

size_t Trainer::image_draws(int b0, int b1) const {
  const Dataset& d = *train_;
  const PixelFormat f = model_->pixel_format();
  if (f == PixelFormat::Levels256) return 0;
  if (f == PixelFormat::Grey01) return static_cast<size_t>(b1 - b0) * d.dim();
  size_t n = 0;
  for (int b = b0; b < b1; ++b) n += binarize_dynamic_draws(d.image(batch_idx_[b]), d.dim());
  return n;
}

GenerativeModel& Trainer::synced_replica() {
  if (!replica_) replica_ = make_model(cfg_.model, cfg_.seed);
  if (!replica_fresh_) {
    ParamSet &p = model_->params(), &q = replica_->params();
    for_halves(p.total(), [&](size_t a, size_t b) {
      std::copy(p.values().begin() + a, p.values().begin() + b, q.values().begin() + a);
    });
  }
  replica_fresh_ = true;
  return *replica_;
}

LossTerms Trainer::batch_grads() {
  const int B = cfg_.batch;
  ParamSet& p = model_->params();
  split_.reset();
  select_batch(B);
  const int* labels = model_->conditional() ? batch_y_.data() : nullptr;
  if (threads() < 2 || B < 2) {
    fill_images(0, B, rng_);
    p.zero_grad();
    return model_->train_step_grads(batch_x_.data(), labels, B, rng_);
  }
  ParamSet& q = synced_replica().params();
  const int B1 = (B + 1) / 2, B2 = B - B1;
  // Each half draws from the point of the stream where it would on one thread: images of the first half,
  // images of the second, then the model noise (VAE eps) of the first half, of the second half.
  Rng image_rng2 = rng_;
  image_rng2.skip_uniforms(image_draws(0, B1));
  Rng noise_rng1 = image_rng2;
  noise_rng1.skip_uniforms(image_draws(B1, B));
  Rng noise_rng2 = noise_rng1;
  noise_rng2.skip_normals(static_cast<size_t>(model_->noise_per_image()) * B1);
  LossTerms t1, t2;
  run_pair(
      [&] {
        fill_images(0, B1, rng_);
        p.zero_grad();
        t1 = model_->train_step_grads(batch_x_.data(), labels, B1, noise_rng1);
      },
      [&] {
        fill_images(B1, B, image_rng2);
        q.zero_grad();
        t2 = replica_->train_step_grads(batch_x_.data() + static_cast<size_t>(B1) * train_->dim(),
                                        labels ? labels + B1 : nullptr, B2, noise_rng2);
      });
  rng_ = noise_rng2;
  // Batch mean = weighted mean of the two half-batch means (the optimiser combines the gradients).
  const double w1 = static_cast<double>(B1) / B, w2 = static_cast<double>(B2) / B;
  split_ = Optimizer::SplitGradient{q.grads(), static_cast<float>(w1), static_cast<float>(w2)};
  LossTerms t = t1;
  t.loss = w1 * t1.loss + w2 * t2.loss;
  for (auto& [k, v] : t.terms) v = w1 * v + w2 * t2.terms[k];
  for (size_t i = 0; i < t.kl_per_dim.size() && i < t2.kl_per_dim.size(); ++i)
    t.kl_per_dim[i] = w1 * t.kl_per_dim[i] + w2 * t2.kl_per_dim[i];
  return t;
}

LossTerms Trainer::run_steps(int n) {
  require(n >= 0, "run_steps: n must be non-negative");
  LossTerms last;
  ParamSet& p = model_->params();
  for (int s = 0; s < n; ++s) {
    last = batch_grads();
    // Refuse the update rather than poison the parameters: the model the user has stays usable.
    require(std::isfinite(last.loss), "training diverged at step " + std::to_string(step() + 1) +
                                          " (loss is not finite); lower the learning rate or enable gradient clipping");
    // With the batch split, the update also refreshes the replica's copy of the parameters.
    const float gnorm = opt_->step(p.values(), p.grads(), split_ ? &*split_ : nullptr,
                                   split_ ? replica_->params().values() : std::span<float>{});
    replica_fresh_ = split_.has_value();
    last.terms["grad_norm"] = gnorm;
    last.terms["lr"] = cfg_.optim.lr.at(opt_->steps() - 1);
    curve_.push_back({step(), epoch(), last});
    if (curve_.size() >= kMaxCurvePoints) {  // thin to every other point: memory stays bounded
      size_t w = 0;
      for (size_t i = 0; i < curve_.size(); i += 2) curve_[w++] = std::move(curve_[i]);
      curve_.resize(w);
    }
  }
  return last;
}

EvalResult Trainer::evaluate(const std::string& split, int iwae_k, int max_images) {
  require(split == "test" || split == "train", "evaluation split must be 'test' or 'train', got '" + split + "'");
  require(iwae_k >= 0 && iwae_k <= 100000, "IWAE K must be in [0, 100000]");
  const Dataset& d = split == "test" ? *test_ : *train_;
  std::vector<float> train_inputs;
  const std::vector<float>* inputs = &test_inputs_;
  if (split == "train") {
    train_inputs = fixed_inputs(d, model_->pixel_format(), kTestBinarizeSeed);
    inputs = &train_inputs;
  }
  const int n = max_images > 0 ? std::min(max_images, d.n) : d.n;
  const size_t D = d.dim();
  Rng rng(kEvalSeed), iwae_rng(kEvalSeed + 1);  // separate streams: -ELBO does not depend on K
  auto* vae = dynamic_cast<VariationalAutoencoder*>(model_.get());
  // Grey01 likelihoods are densities of dequantised x = (pixel+u)/256: + D log 256 makes them a bound on the 8-bit data.
  const double dequant = model_->pixel_format() == PixelFormat::Grey01 ? static_cast<double>(D) * std::log(256.0) : 0.0;

  std::map<std::string, double> sums;
  double iwae_sum = 0.0;
  std::vector<int> labels(kEvalBatch);
  const bool labelled = model_->conditional();
  // Adds the terms of images [b0, b1) of the current batch, evaluated by model m with the two streams.
  struct Part {
    LossTerms terms;
    std::vector<double> iwae;
  };
  auto evaluate_part = [&](GenerativeModel& m, const float* x, int b0, int b1, Rng& r, Rng& ir) {
    Part part;
    part.terms = m.evaluate(x + static_cast<size_t>(b0) * D, labelled ? labels.data() + b0 : nullptr, b1 - b0, r);
    if (vae && iwae_k > 0)
      part.iwae = static_cast<VariationalAutoencoder&>(m).neg_iwae_bound(x + static_cast<size_t>(b0) * D, b1 - b0, iwae_k, ir);
    return part;
  };
  auto add = [&](const Part& part, int count) {
    sums["loss"] += part.terms.loss * count;
    for (const auto& [k, v] : part.terms.terms) sums[k] += v * count;
    for (double v : part.iwae) iwae_sum += v;
  };
  const size_t noise = static_cast<size_t>(model_->noise_per_image());
  for (int i0 = 0; i0 < n; i0 += kEvalBatch) {
    const int B = std::min(kEvalBatch, n - i0);
    const float* x = inputs->data() + static_cast<size_t>(i0) * D;
    for (int b = 0; b < B; ++b) labels[b] = d.label(i0 + b);
    if (threads() < 2 || B < 2) {
      add(evaluate_part(*model_, x, 0, B, rng, iwae_rng), B);
      continue;
    }
    // On 2 threads: the second half on the replica, with the streams where one thread would have them.
    const int B1 = (B + 1) / 2;
    GenerativeModel& replica = synced_replica();
    Rng rng2 = rng, iwae_rng2 = iwae_rng;
    rng2.skip_normals(noise * B1);
    if (vae && iwae_k > 0) iwae_rng2.skip_normals(B1 * vae->iwae_noise_per_image(iwae_k));
    Part first, second;
    run_pair([&] { first = evaluate_part(*model_, x, 0, B1, rng, iwae_rng); },
             [&] { second = evaluate_part(replica, x, B1, B, rng2, iwae_rng2); });
    rng = rng2;
    iwae_rng = iwae_rng2;
    add(first, B1);
    add(second, B - B1);
  }

  EvalResult r;
  r.split = split;
  r.n = n;
  auto mean = [&](const std::string& k) { return sums.count(k) ? sums[k] / n : 0.0; };
  const double per_dim = static_cast<double>(D) * kLn2;
  if (model_->exact_likelihood()) {
    const double nll = sums.count("nll") ? mean("nll") : mean("loss");
    r.metrics["nll_nats"] = nll + dequant;
    r.metrics["bits_per_dim"] = (nll + dequant) / per_dim;
  } else if (vae) {
    const double neg_elbo = mean("recon") + mean("kl") + dequant;
    r.metrics["neg_elbo_nats"] = neg_elbo;
    r.metrics["recon"] = mean("recon");
    r.metrics["kl"] = mean("kl");
    r.metrics["bits_per_dim"] = neg_elbo / per_dim;
    if (dequant > 0) r.metrics["dequantization_nats"] = dequant;
    if (iwae_k > 0) {
      r.metrics["neg_iwae_nats"] = iwae_sum / n + dequant;
      r.metrics["iwae_k"] = iwae_k;
      r.metrics["iwae_bits_per_dim"] = (iwae_sum / n + dequant) / per_dim;
    }
  } else {
    for (const auto& [k, v] : sums) r.metrics[k] = v / n;
  }
  return r;
}

// ---- training checkpoints ---------------------------------------------------------------------

std::map<std::string, std::string> training_metadata(const Trainer& t) {
  std::map<std::string, std::string> m;
  m["genlab.format"] = "1";
  m["step"] = std::to_string(t.step());
  for (const auto& [k, v] : t.model().config()) m["model." + k] = v;
  const TrainConfig& c = t.config();
  const OptimConfig& o = c.optim;
  m["train.batch"] = std::to_string(c.batch);
  m["train.seed"] = std::to_string(c.seed);
  m["train.optimizer"] = o.kind;
  m["train.lr"] = fmt(o.lr.base);
  m["train.lr_decay"] = fmt(o.lr.decay);
  m["train.lr_decay_steps"] = std::to_string(o.lr.decay_steps);
  m["train.beta1"] = fmt(o.beta1);
  m["train.beta2"] = fmt(o.beta2);
  m["train.eps"] = fmt(o.eps);
  m["train.momentum"] = fmt(o.momentum);
  m["train.weight_decay"] = fmt(o.weight_decay);
  m["train.clip_norm"] = fmt(o.clip_norm);
  return m;
}

std::vector<uint8_t> encode_training_checkpoint(const Trainer& t, bool with_optimizer,
                                                const std::map<std::string, std::string>& extra_metadata) {
  auto meta = training_metadata(t);
  for (const auto& [k, v] : extra_metadata) meta[k] = v;
  std::vector<NamedTensor> extra;
  if (with_optimizer) {
    const ParamSet& p = t.model().params();
    const Optimizer& opt = t.optimizer();
    auto add = [&](const std::string& prefix, const std::vector<float>& buf) {
      if (buf.empty()) return;
      for (const ParamInfo& info : p.infos())
        extra.push_back({prefix + info.name, info.shape,
                         std::vector<float>(buf.begin() + info.offset, buf.begin() + info.offset + info.size)});
    };
    add("optim.m.", opt.m());
    add("optim.v.", opt.v());
    meta["optim.steps"] = std::to_string(opt.steps());
  }
  return encode_safetensors(t.model().params(), meta, extra);
}

namespace {

double meta_number(const std::map<std::string, std::string>& m, const std::string& key, double def) {
  auto it = m.find(key);
  if (it == m.end()) return def;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  require(!it->second.empty() && end == it->second.c_str() + it->second.size() && std::isfinite(v),
          "checkpoint metadata '" + key + "' = '" + it->second + "' is not a number");
  return v;
}

}  // namespace

TrainingCheckpoint decode_training_checkpoint(std::span<const uint8_t> bytes) {
  TrainingCheckpoint c;
  c.file = decode_safetensors(bytes);
  const auto& m = c.file.metadata;
  for (const auto& [k, v] : m)
    if (k.rfind("model.", 0) == 0) c.config.model[k.substr(6)] = v;
  require(c.config.model.count("model"), "checkpoint has no model config (metadata key 'model.model' is missing)");
  const double step = meta_number(m, "step", 0);
  require(step >= 0 && step < 1e15, "checkpoint metadata 'step' is out of range");
  c.step = static_cast<int64_t>(step);
  OptimConfig& o = c.config.optim;
  if (m.count("train.optimizer")) o.kind = m.at("train.optimizer");
  o.lr.base = static_cast<float>(meta_number(m, "train.lr", o.lr.base));
  o.lr.decay = static_cast<float>(meta_number(m, "train.lr_decay", o.lr.decay));
  o.lr.decay_steps = static_cast<int>(meta_number(m, "train.lr_decay_steps", o.lr.decay_steps));
  o.beta1 = static_cast<float>(meta_number(m, "train.beta1", o.beta1));
  o.beta2 = static_cast<float>(meta_number(m, "train.beta2", o.beta2));
  o.eps = static_cast<float>(meta_number(m, "train.eps", o.eps));
  o.momentum = static_cast<float>(meta_number(m, "train.momentum", o.momentum));
  o.weight_decay = static_cast<float>(meta_number(m, "train.weight_decay", o.weight_decay));
  o.clip_norm = static_cast<float>(meta_number(m, "train.clip_norm", o.clip_norm));
  const double batch = meta_number(m, "train.batch", 64);
  require(batch >= 1 && batch <= 4096, "checkpoint metadata 'train.batch' is out of range");
  c.config.batch = static_cast<int>(batch);
  const double seed = meta_number(m, "train.seed", 1);
  require(seed >= 0 && seed <= 1.8e19, "checkpoint metadata 'train.seed' is out of range");
  c.config.seed = m.count("train.seed") ? std::strtoull(m.at("train.seed").c_str(), nullptr, 10) : 1;
  return c;
}

std::unique_ptr<GenerativeModel> model_from_checkpoint(const TrainingCheckpoint& c) {
  auto model = make_model(c.config.model, c.config.seed);
  load_params(c.file, model->params());
  return model;
}

void restore_trainer(Trainer& t, const TrainingCheckpoint& c) {
  ParamSet& p = t.model().params();
  Optimizer& opt = t.optimizer();
  // Check everything before touching the trainer: on error it is unchanged.
  struct Moment {
    std::vector<float>* buf;
    size_t offset;
    const NamedTensor* tensor;
  };
  std::vector<Moment> moments;
  bool any_optim = false;
  for (const auto& tensor : c.file.tensors) any_optim |= tensor.name.rfind("optim.", 0) == 0;
  if (any_optim) {
    for (const auto& [prefix, buf] : {std::pair<std::string, std::vector<float>*>{"optim.m.", &opt.m()},
                                      std::pair<std::string, std::vector<float>*>{"optim.v.", &opt.v()}}) {
      if (buf->empty()) continue;
      for (const ParamInfo& info : p.infos()) {
        const NamedTensor* nt = c.file.find(prefix + info.name);
        require(nt != nullptr, "checkpoint has optimiser state but no tensor '" + prefix + info.name + "'");
        require(nt->data.size() == info.size, "checkpoint tensor '" + prefix + info.name + "' has the wrong size");
        moments.push_back({buf, info.offset, nt});
      }
    }
  }
  load_params(c.file, p);  // validates names and shapes itself; throws before writing on error
  for (const Moment& mo : moments) std::copy(mo.tensor->data.begin(), mo.tensor->data.end(), mo.buf->begin() + mo.offset);
  opt.set_steps(c.file.metadata.count("optim.steps") ? static_cast<int64_t>(meta_number(c.file.metadata, "optim.steps", 0))
                                                     : c.step);
}

}  // namespace genlab
