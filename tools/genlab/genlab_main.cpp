// genlab: the command-line tool on the engine (train / eval / sample / data export). The same program
// runs natively and as wasm under node (-sNODERAWFS). Generic over GenerativeModel: architecture
// options it does not know itself go into the model config, so every registered model kind works.
// Errors: one line on stderr and a non-zero exit; progress on stderr; results (eval JSON) on stdout.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include "autoencoder.h"
#include "checkpoint.h"
#include "cli_args.h"
#include "dataset.h"
#include "error.h"
#include "parallel.h"
#include "json.h"
#include "png_image.h"
#include "trainer.h"

namespace genlab::cli {
namespace {

const char* kUsage = R"(genlab - train, evaluate and sample generative models (AE, VAE, PixelCNN)

usage:
  genlab train  --model vae|ae|pixelcnn|gated-pixelcnn --dataset mnist10k|fashion-mnist|PATH.idx
                (--steps N | --seconds S) [--seed N] [--batch B] [--lr LR] [--optimizer adam|sgd]
                [--momentum M] [--clip NORM] [--lr-decay G --lr-decay-steps N] [--weight-decay W]
                [--log-every N] [--eval-iwae K] [--resume M.safetensors] [--no-optim-state]
                [model options: --arch mlp|conv --hidden H --latent Z --likelihood bernoulli|gaussian
                 --beta B --activation relu|elu|... --filters F --channels C --layers L --conditional ...]
                --out M.safetensors
  genlab eval   --checkpoint M.safetensors [--dataset D] [--split test|train] [--iwae K] [--max-images N]
                -> one JSON line of metrics on stdout
  genlab sample --checkpoint M.safetensors [--n 64] [--seed N] [--temperature T] [--label L] [--cols C]
                [--complete INDEX --keep-rows R [--dataset D]] [--sampler naive|cached] [--trace trace.json]
                [--interpolate I,J [--steps 10] [--spherical] [--dataset D]] --out grid.png
  genlab encode --checkpoint M.safetensors [--dataset D] [--split test|train] --out features.safetensors|features.csv
                (AE/VAE encoder features for a downstream task: z or mu [n, Z], VAE logvar, labels)
  genlab data export --dataset D [--split test|train] [--binarized] --out PATH-images-idx3-ubyte
                (labels go to the sibling ...-labels-idx1-ubyte file when the name contains images-idx3-ubyte)

Data sets are read from $GENLAB_DATA_DIR (default assets/data) or --data-dir DIR.
train, eval and sample take --threads N (default 1): threads for large matrix products (at most 2;
1 in a wasm build without pthreads). Results equal one thread's up to rounding.
)";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds used by this process (user + system): the fair throughput measure on a shared machine.
// Under node, std::clock() is wall time, so ask node itself.
double process_cpu_seconds() {
#ifdef __EMSCRIPTEN__
  return EM_ASM_DOUBLE({
    if (typeof process === 'object' && process.cpuUsage) {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }
    return performance.now() / 1e3;
  });
#else
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
#endif
}

std::shared_ptr<const Dataset> load_split(const std::string& name, const std::string& split, const std::string& dir) {
  return std::make_shared<const Dataset>(load_dataset(name, split, dir));
}

std::string data_dir(Args& a) { return a.str("data-dir", default_data_dir()); }

// --threads N: engine threads (engine/parallel.h clamps to what the build has; say so when it does).
void apply_threads(Args& a) {
  const int asked = static_cast<int>(a.integer("threads", 1, 1, 256));
  set_threads(asked);
  if (threads() != asked)
    std::fprintf(stderr, "genlab: --threads %d: this build runs on %d thread%s\n", asked,
                 threads(), threads() == 1 ? "" : "s");
}

std::string terms_line(const std::map<std::string, double>& sums, int count) {
  std::string s;
  char buf[64];
  for (const auto& [k, v] : sums) {
    if (k == "lr") continue;
    std::snprintf(buf, sizeof buf, "  %s %.4g", k.c_str(), v / count);
    s += buf;
  }
  return s;
}

// ---- train ----------------------------------------------------------------------------------------

int cmd_train(Args& a) {
  TrainConfig cfg;
  const std::string kind = a.required("model");
  const std::string dataset = a.str("dataset", "mnist10k");
  const std::string out = a.required("out");
  const bool has_steps = a.has("steps"), has_seconds = a.has("seconds");
  require(has_steps != has_seconds, "give exactly one of --steps N or --seconds S");
  const int64_t steps = a.integer("steps", 0, 0, 100000000);
  const double seconds = a.number("seconds", 0, 1e-3, 7 * 86400.0);
  cfg.seed = static_cast<uint64_t>(a.integer("seed", 1, 0, INT64_MAX));
  cfg.batch = static_cast<int>(a.integer("batch", 64, 1, 4096));
  cfg.optim.kind = a.str("optimizer", "adam");
  require(cfg.optim.kind == "adam" || cfg.optim.kind == "sgd", "--optimizer must be adam or sgd");
  cfg.optim.lr.base = static_cast<float>(a.number("lr", 1e-3, 1e-9, 10));
  cfg.optim.lr.decay = static_cast<float>(a.number("lr-decay", 1, 1e-6, 1));
  cfg.optim.lr.decay_steps = static_cast<int>(a.integer("lr-decay-steps", 1000, 1, 100000000));
  cfg.optim.momentum = static_cast<float>(a.number("momentum", 0.9, 0, 0.9999));
  cfg.optim.clip_norm = static_cast<float>(a.number("clip", 0, 0, 1e6));
  cfg.optim.weight_decay = static_cast<float>(a.number("weight-decay", 0, 0, 1));
  const int log_every = static_cast<int>(a.integer("log-every", 100, 1, 1000000));
  const int eval_iwae = static_cast<int>(a.integer("eval-iwae", 0, 0, 100000));
  const std::string resume = a.str("resume", "");
  const bool save_optim = !a.flag("no-optim-state");
  const bool quiet = a.flag("quiet");
  const std::string dir = data_dir(a);
  const bool conditional_flag = a.flag("conditional");

  // Everything left is a model option (dashes become underscores: --keep-rows -> keep_rows).
  cfg.model["model"] = kind;
  for (const auto& [k, v] : a.unused()) {
    std::string key = k;
    for (char& ch : key)
      if (ch == '-') ch = '_';
    cfg.model[key] = v;
  }
  if (conditional_flag) cfg.model["conditional"] = "1";

  auto train = load_split(dataset, "train", dir);
  auto test = load_split(dataset, "test", dir);
  // The image shape (and class count) come from the data set unless given explicitly. Model families
  // name the image-channel key differently (PixelCNN's "channels" are feature maps): ask a default model.
  const ModelConfig probe = make_model({{"model", kind}}, 0)->config();
  cfg.model.emplace("width", std::to_string(train->width));
  cfg.model.emplace("height", std::to_string(train->height));
  cfg.model.emplace(probe.count("image_channels") ? "image_channels" : "channels", std::to_string(train->channels));
  if (probe.count("num_classes") && train->num_classes > 0 && cfg.model.count("conditional") &&
      cfg.model.at("conditional") != "0")
    cfg.model.emplace("num_classes", std::to_string(train->num_classes));

  Trainer tr(cfg, train, test);
  if (!resume.empty()) {
    const TrainingCheckpoint ck = decode_training_checkpoint(read_file_bytes(resume));
    require(ck.config.model == tr.model().config(), "--resume: the checkpoint's model config differs from this run's");
    restore_trainer(tr, ck);
  }
  const GenerativeModel& m = tr.model();
  std::string summary;
  for (const auto& [k, v] : m.config()) summary += " " + k + "=" + v;
  if (!quiet)
    std::fprintf(stderr, "genlab train:%s\n  %zu parameters; %s: %d train / %d test images; batch %d, seed %llu; %d thread%s\n",
                 summary.c_str(), m.params().total(), dataset.c_str(), train->n, test->n, cfg.batch,
                 static_cast<unsigned long long>(cfg.seed), threads(), threads() == 1 ? "" : "s");

  const auto t0 = Clock::now();
  const double cpu0 = process_cpu_seconds();
  auto tlog = t0;
  const int64_t start = tr.step();
  std::map<std::string, double> sums;
  int count = 0;
  int64_t done = 0;
  for (;;) {
    if (has_steps && done >= steps) break;
    if (has_seconds && seconds_since(t0) >= seconds) break;
    const LossTerms t = tr.run_steps(1);
    ++done;
    sums["loss"] += t.loss;
    for (const auto& [k, v] : t.terms) sums[k] += v;
    ++count;
    if (!quiet && (tr.step() % log_every == 0 || (has_steps && done == steps))) {
      const double dt = seconds_since(tlog);
      std::fprintf(stderr, "step %lld%s  epoch %.2f%s  | %.0f img/s\n", static_cast<long long>(tr.step()),
                   has_steps ? ("/" + std::to_string(start + steps)).c_str() : "", tr.epoch(),
                   terms_line(sums, count).c_str(), dt > 0 ? count * cfg.batch / dt : 0.0);
      sums.clear();
      count = 0;
      tlog = Clock::now();
    }
  }
  const double elapsed = seconds_since(t0);
  const double cpu = process_cpu_seconds() - cpu0;
  write_file_bytes(out, encode_training_checkpoint(tr, save_optim, {{"train.dataset", dataset}}));
  if (!quiet) {
    std::fprintf(stderr, "trained %lld steps in %.1f s (%.0f img/s; %.1f CPU s, %.0f img/CPU-s); wrote %s\n",
                 static_cast<long long>(done), elapsed, elapsed > 0 ? done * cfg.batch / elapsed : 0.0, cpu,
                 cpu > 0 ? done * cfg.batch / cpu : 0.0, out.c_str());
    const EvalResult r = tr.evaluate("test", eval_iwae);
    std::string line;
    char buf[80];
    for (const auto& [k, v] : r.metrics) {
      std::snprintf(buf, sizeof buf, " %s=%.4f", k.c_str(), v);
      line += buf;
    }
    std::fprintf(stderr, "test (%d images):%s\n", r.n, line.c_str());
  }
  return 0;
}

// ---- checkpoint + data for eval and sample ------------------------------------------------------

struct Loaded {
  TrainingCheckpoint ck;
  std::string dataset;
  std::unique_ptr<Trainer> trainer;  // built on the evaluation split, parameters from the checkpoint
};

Loaded load_for(Args& a, const std::string& split, bool need_data) {
  Loaded l;
  const std::string path = a.required("checkpoint");
  l.ck = decode_training_checkpoint(read_file_bytes(path));
  auto it = l.ck.file.metadata.find("train.dataset");
  l.dataset = a.str("dataset", it != l.ck.file.metadata.end() ? it->second : "mnist10k");
  const std::string dir = data_dir(a);
  std::shared_ptr<const Dataset> data;
  if (need_data) {
    data = load_split(l.dataset, split, dir);
  } else {  // a blank data set of the model's shape (sampling from the prior needs no images)
    auto model = make_model(l.ck.config.model, 0);
    auto blank = std::make_shared<Dataset>();
    blank->name = "none";
    blank->n = 1;
    blank->channels = model->channels();
    blank->height = model->height();
    blank->width = model->width();
    blank->pixels.assign(blank->dim(), 0);
    if (model->conditional()) {
      blank->labels = {0};
      blank->num_classes = model->num_classes();
    }
    data = blank;
  }
  l.trainer = std::make_unique<Trainer>(l.ck.config, data, data);
  load_params(l.ck.file, l.trainer->model().params());
  return l;
}

int cmd_eval(Args& a) {
  const std::string split = a.str("split", "test");
  require(split == "test" || split == "train", "--split must be test or train");
  const int iwae = static_cast<int>(a.integer("iwae", 0, 0, 100000));
  const int max_images = static_cast<int>(a.integer("max-images", 0, 0, 100000000));
  Loaded l = load_for(a, split, true);
  a.reject_unused("eval");
  const auto t0 = Clock::now();
  const EvalResult r = l.trainer->evaluate("test", iwae, max_images);
  Json j = Json::object();
  j["model"] = l.trainer->model().kind();
  j["dataset"] = l.dataset;
  j["split"] = split;
  j["n"] = r.n;
  j["step"] = static_cast<long long>(l.ck.step);
  for (const auto& [k, v] : r.metrics) j[k] = v;
  j["seconds"] = seconds_since(t0);
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

// ---- encode: encoder features for a downstream task -------------------------------------------------

// Writes the latent codes of a split (AE: z; VAE: the posterior mean mu and log-variance) with the
// labels, as safetensors ("features" [n, Z], "logvar" [n, Z] for a VAE, "labels" [n] as F32) or CSV.
int cmd_encode(Args& a) {
  const std::string split = a.str("split", "test");
  require(split == "test" || split == "train", "--split must be test or train");
  const std::string out = a.required("out");
  Loaded l = load_for(a, split, true);
  a.reject_unused("encode");
  GenerativeModel& m = l.trainer->model();
  const Dataset& d = l.trainer->test_data();
  const std::vector<float>& x = l.trainer->test_inputs();
  const size_t dim = d.dim();
  const int n = d.n;
  auto* ae = dynamic_cast<Autoencoder*>(&m);
  auto* vae = dynamic_cast<VariationalAutoencoder*>(&m);
  require(ae || vae, "model '" + m.kind() + "' has no encoder (genlab encode needs an ae or vae checkpoint)");
  const int Z = ae ? ae->settings().latent : vae->settings().latent;
  std::vector<float> feats(static_cast<size_t>(n) * Z), logvar(vae ? feats.size() : 0);
  constexpr int kChunk = 256;
  for (int i = 0; i < n; i += kChunk) {
    const int B = std::min(kChunk, n - i);
    const float* xi = x.data() + static_cast<size_t>(i) * dim;
    if (ae) ae->encode(xi, B, feats.data() + static_cast<size_t>(i) * Z);
    else vae->encode(xi, B, feats.data() + static_cast<size_t>(i) * Z, logvar.data() + static_cast<size_t>(i) * Z);
  }
  if (out.size() >= 4 && out.compare(out.size() - 4, 4, ".csv") == 0) {
    std::string csv = "label";
    for (int j = 0; j < Z; ++j) csv += ",z" + std::to_string(j);
    csv += "\n";
    char buf[32];
    for (int i = 0; i < n; ++i) {
      csv += std::to_string(d.label(i));
      for (int j = 0; j < Z; ++j) {
        std::snprintf(buf, sizeof buf, ",%.9g", feats[static_cast<size_t>(i) * Z + j]);
        csv += buf;
      }
      csv += "\n";
    }
    write_file_bytes(out, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(csv.data()), csv.size()));
  } else {
    std::vector<NamedTensor> t;
    t.push_back({"features", {n, Z}, feats});
    if (vae) t.push_back({"logvar", {n, Z}, logvar});
    std::vector<float> labels(n);
    for (int i = 0; i < n; ++i) labels[i] = static_cast<float>(d.label(i));
    t.push_back({"labels", {n}, labels});
    ParamSet none;
    none.allocate();
    write_file_bytes(out, encode_safetensors(none, {{"genlab.content", vae ? "vae posterior mean (features) and logvar" : "ae latent codes"},
                                                    {"dataset", l.dataset}, {"split", split}},
                                             t));
  }
  std::fprintf(stderr, "genlab: wrote %d x %d %s codes of %s/%s to %s\n", n, Z, vae ? "VAE (mu)" : "AE", l.dataset.c_str(),
               split.c_str(), out.c_str());
  return 0;
}

// ---- sample ---------------------------------------------------------------------------------------

std::vector<float> to_display(const GenerativeModel& m, std::vector<float> v) {
  if (m.pixel_format() == PixelFormat::Levels256)
    for (float& x : v) x /= 255.f;
  return v;
}

void write_grid(const std::string& out, const GenerativeModel& m, const std::vector<float>& imgs, int n, int cols) {
  const std::vector<float> d = to_display(m, imgs);
  const RasterImage g = image_grid(d.data(), n, m.channels(), m.height(), m.width(), cols);
  write_file_bytes(out, encode_png(g));
  std::fprintf(stderr, "wrote %d images (%dx%d grid image) to %s\n", n, g.width, g.height, out.c_str());
}

void write_trace(const std::string& path, const GenerativeModel& m, const std::vector<SampleTraceStep>& trace) {
  Json steps = Json::array();
  for (const SampleTraceStep& s : trace) {
    Json e = Json::object();
    e["image"] = s.image;
    e["pixel"] = s.pixel;
    e["channel"] = s.channel;
    e["value"] = s.value;
    Json probs = Json::array();
    for (float p : s.probs) probs.push_back(p);
    e["probs"] = std::move(probs);
    steps.push_back(std::move(e));
  }
  Json j = Json::object();
  j["model"] = m.kind();
  j["width"] = m.width();
  j["height"] = m.height();
  j["channels"] = m.channels();
  j["steps"] = std::move(steps);
  const std::string text = j.dump() + "\n";
  write_file_bytes(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  std::fprintf(stderr, "wrote a trace of %zu steps to %s\n", trace.size(), path.c_str());
}

int cmd_sample(Args& a) {
  const std::string out = a.required("out");
  const int n = static_cast<int>(a.integer("n", 64, 1, 4096));
  const uint64_t seed = static_cast<uint64_t>(a.integer("seed", 1, 0, INT64_MAX));
  const int cols = static_cast<int>(a.integer("cols", 0, 0, 4096));
  const std::string interp = a.str("interpolate", "");
  const bool complete = a.has("complete");
  const bool need_data = !interp.empty() || complete;
  SampleOptions opt;
  opt.n = n;
  opt.temperature = static_cast<float>(a.number("temperature", 1.0, 1e-3, 10));
  opt.label = static_cast<int>(a.integer("label", -1, -1, 99));
  opt.sampler = a.str("sampler", "cached");
  require(opt.sampler == "cached" || opt.sampler == "naive", "--sampler must be naive or cached");
  const std::string trace_path = a.str("trace", "");
  const int interp_steps = static_cast<int>(a.integer("steps", 10, 2, 256));
  const bool spherical = a.flag("spherical");
  const int complete_index = static_cast<int>(a.integer("complete", 0, 0, 100000000));
  const int keep_rows = static_cast<int>(a.integer("keep-rows", -1, 0, 4096));
  Loaded l = load_for(a, "test", need_data);
  a.reject_unused("sample");
  GenerativeModel& m = l.trainer->model();
  Rng rng(seed);
  const size_t D = static_cast<size_t>(m.channels()) * m.height() * m.width();

  if (!interp.empty()) {
    auto* vae = dynamic_cast<VariationalAutoencoder*>(&m);
    require(vae != nullptr, "--interpolate needs a VAE checkpoint (this is a '" + m.kind() + "' model)");
    const auto comma = interp.find(',');
    require(comma != std::string::npos, "--interpolate takes two test-image indices I,J");
    const Dataset& d = l.trainer->test_data();
    const int i = static_cast<int>(parse_integer("--interpolate I", interp.substr(0, comma), 0, d.n - 1));
    const int j = static_cast<int>(parse_integer("--interpolate J", interp.substr(comma + 1), 0, d.n - 1));
    const float* xi = l.trainer->test_inputs().data() + i * D;
    const float* xj = l.trainer->test_inputs().data() + j * D;
    const int Z = vae->latent();
    std::vector<float> mu(2 * Z);
    vae->encode(xi, 1, mu.data(), nullptr);
    vae->encode(xj, 1, mu.data() + Z, nullptr);
    const std::vector<float> path = spherical ? VariationalAutoencoder::interpolate_spherical(mu.data(), mu.data() + Z, Z, interp_steps)
                                              : VariationalAutoencoder::interpolate_linear(mu.data(), mu.data() + Z, Z, interp_steps);
    std::vector<float> imgs((interp_steps + 2) * D);
    std::copy(xi, xi + D, imgs.begin());
    vae->decode(path.data(), interp_steps, imgs.data() + D);
    std::copy(xj, xj + D, imgs.begin() + (interp_steps + 1) * D);
    write_grid(out, m, imgs, interp_steps + 2, cols > 0 ? cols : interp_steps + 2);
    return 0;
  }

  std::vector<float> keep;
  std::vector<uint8_t> keep_mask;
  if (complete) {
    require(keep_rows >= 0, "--complete needs --keep-rows R (rows of the test image to keep)");
    require(keep_rows <= m.height(), "--keep-rows must be at most the image height (" + std::to_string(m.height()) + ")");
    const Dataset& d = l.trainer->test_data();
    require(complete_index < d.n, "--complete: test image " + std::to_string(complete_index) + " does not exist (the split has " +
                                      std::to_string(d.n) + ")");
    const float* src = l.trainer->test_inputs().data() + complete_index * D;
    keep.resize(n * D);
    for (int b = 0; b < n; ++b) std::copy(src, src + D, keep.begin() + b * D);
    keep_mask.assign(D, 0);
    for (int c = 0; c < m.channels(); ++c)
      for (int y = 0; y < keep_rows; ++y)
        for (int x = 0; x < m.width(); ++x) keep_mask[(static_cast<size_t>(c) * m.height() + y) * m.width() + x] = 1;
    opt.keep = keep.data();
    opt.keep_mask = keep_mask.data();
    if (opt.label < 0 && m.conditional()) opt.label = d.label(complete_index);
  } else {
    require(keep_rows < 0, "--keep-rows needs --complete INDEX");
  }
  std::vector<SampleTraceStep> trace;
  if (!trace_path.empty()) opt.trace = &trace;
  std::vector<float> imgs(n * D);
  const auto t0 = Clock::now();
  m.sample(opt, rng, imgs.data());
  std::fprintf(stderr, "sampled %d images in %.2f s\n", n, seconds_since(t0));
  write_grid(out, m, imgs, n, cols);
  if (!trace_path.empty()) {
    require(!trace.empty(), "--trace: this model does not record a generation trace (autoregressive models do)");
    write_trace(trace_path, m, trace);
  }
  return 0;
}

// ---- data export ----------------------------------------------------------------------------------

int cmd_data_export(Args& a) {
  const std::string name = a.required("dataset");
  const std::string split = a.str("split", "test");
  const std::string out = a.required("out");
  const bool binarized = a.flag("binarized");
  const std::string labels_out_opt = a.str("labels-out", "");
  const Dataset d = load_dataset(name, split, data_dir(a));
  a.reject_unused("data export");
  // Binarised pixels are written as 0/255: re-binarising them (any seed) gives the same bits, so
  // `genlab eval --dataset exported.idx` scores exactly these bits too.
  std::vector<uint8_t> px = binarized ? binarize_fixed(d, kTestBinarizeSeed) : d.pixels;
  if (binarized)
    for (uint8_t& v : px) v = v ? 255 : 0;
  std::vector<int> dims = {d.n, d.height, d.width};
  if (d.channels > 1) {  // engine [n][c][h][w] -> IDX [n][h][w][c]
    dims.push_back(d.channels);
    std::vector<uint8_t> hwc(px.size());
    const size_t hw = static_cast<size_t>(d.height) * d.width;
    for (int i = 0; i < d.n; ++i)
      for (int c = 0; c < d.channels; ++c)
        for (size_t p = 0; p < hw; ++p) hwc[(i * hw + p) * d.channels + c] = px[(static_cast<size_t>(i) * d.channels + c) * hw + p];
    px.swap(hwc);
  }
  write_file_bytes(out, encode_idx(dims, px));
  std::string labels_out = labels_out_opt;
  const auto pos = out.rfind("images-idx3-ubyte");
  if (labels_out.empty() && pos != std::string::npos) labels_out = std::string(out).replace(pos, 17, "labels-idx1-ubyte");
  if (!labels_out.empty() && !d.labels.empty()) {
    std::vector<uint8_t> lb(d.labels.begin(), d.labels.end());
    write_file_bytes(labels_out, encode_idx({d.n}, lb));
  }
  std::fprintf(stderr, "wrote %d %s images of %s/%s to %s%s%s\n", d.n, binarized ? "binarised (seed 20240901, 0/255)" : "grey",
               name.c_str(), split.c_str(), out.c_str(), labels_out.empty() || d.labels.empty() ? "" : " and labels to ",
               labels_out.empty() || d.labels.empty() ? "" : labels_out.c_str());
  return 0;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("genlab %s\n", GENLAB_VERSION);
    return 0;
  }
  const std::string cmd = args[0];
  const std::set<std::string> flags = {"binarized", "conditional", "spherical", "quiet", "no-optim-state"};
  if (cmd == "data") {
    require(args.size() >= 2 && args[1] == "export", "usage: genlab data export --dataset D --split S [--binarized] --out F");
    Args a({args.begin() + 2, args.end()}, flags);
    return cmd_data_export(a);
  }
  Args a({args.begin() + 1, args.end()}, flags);
  if (cmd == "train" || cmd == "eval" || cmd == "sample") apply_threads(a);  // before train reads model options
  if (cmd == "train") return cmd_train(a);
  if (cmd == "eval") return cmd_eval(a);
  if (cmd == "sample") return cmd_sample(a);
  if (cmd == "encode") return cmd_encode(a);
  throw Error("unknown command '" + cmd + "' (expected train, eval, sample, encode or data export; see genlab --help)");
}

}  // namespace
}  // namespace genlab::cli

int main(int argc, char** argv) {
  try {
    return genlab::cli::run(argc, argv);
  } catch (const genlab::Error& e) {
    std::fprintf(stderr, "genlab: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "genlab: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genlab: error: %s\n", e.what());
  }
  return 1;
}
