// The playground API (see playground.h): commands parsed from JSON, validated against the schema,
// dispatched onto a Trainer and the model; the buffers the panels draw; export/import through the
// trainer's checkpoint format plus the playground's own metadata ("genlab.setup", curves, board).
#include "playground.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <utility>

#include "autoencoder.h"
#include "checkpoint.h"
#include "error.h"
#include "json.h"
#include "losses.h"
#include "parallel.h"
#include "pixelcnn.h"
#include "trainer.h"

namespace genlab {

namespace {

constexpr double kLn2 = 0.6931471805599453;
constexpr size_t kMaxFileBytes = size_t{96} << 20;
constexpr int kMaxPickerImages = 1000;      // test images kept for pickers / scatter
constexpr int kMaxCurvePoints = 1500;       // train curve points kept (merged pairwise beyond)
constexpr double kRefreshMs = 3000;         // sample refresh period while training
constexpr int kTestCurveEvery = 200;        // steps between test-curve evaluations
constexpr int kTestCurveImages = 200;       // images per test-curve evaluation
constexpr int kTestCurveChunk = 20;         // images per slice of that evaluation
constexpr int kScoreIwaeK = 16;             // K of -L_K for VAE scores
constexpr uint64_t kScoreSeed = 0x73636F7265ull;  // "score": noise of VAE scores (same for drawing and test)

const std::vector<std::string> kKinds = {"ae", "vae", "pixelcnn", "gated-pixelcnn"};
const std::vector<std::string> kPanels = {"train", "samples", "latent", "order", "draw", "board"};
const std::vector<std::string> kControls = {"dataset", "model", "hyper", "seed", "train", "import", "export", "new",
                                            "train", "samples", "latent", "order", "draw", "board"};
const std::vector<std::string> kTrainingKeys = {"batch", "lr"};  // the rest of the schema is model config

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string fmt_num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

HyperParam hp(std::string key, std::string label, std::string type, double lo, double hi, std::string def,
              std::vector<std::string> kinds, std::vector<std::string> choices = {}, bool log_scale = false) {
  HyperParam h;
  h.key = std::move(key);
  h.label = std::move(label);
  h.type = std::move(type);
  h.min = lo;
  h.max = hi;
  h.def = std::move(def);
  h.kinds = std::move(kinds);
  h.choices = std::move(choices);
  h.log_scale = log_scale;
  return h;
}

const std::vector<HyperParam>& schema_table() {
  static const std::vector<HyperParam> table = [] {
    const std::vector<std::string> ae_vae = {"ae", "vae"}, vae = {"vae"}, ar = {"pixelcnn", "gated-pixelcnn"};
    std::vector<HyperParam> t;
    t.push_back(hp("batch", "batch size", "int", 1, 256, "64", ae_vae));
    t.push_back(hp("batch", "batch size", "int", 1, 256, "16", ar));
    t.push_back(hp("lr", "learning rate", "float", 1e-5, 0.1, "0.001", {"ae", "vae", "pixelcnn", "gated-pixelcnn"}, {}, true));
    t.push_back(hp("arch", "architecture", "choice", 0, 0, "mlp", ae_vae, {"mlp", "conv"}));
    t.push_back(hp("hidden", "hidden units", "int", 8, 1024, "400", ae_vae));
    t.push_back(hp("latent", "latent size", "int", 2, 64, "16", ae_vae));
    t.push_back(hp("activation", "activation", "choice", 0, 0, "relu", ae_vae, {"relu", "leaky_relu", "elu", "tanh", "sigmoid"}));
    t.push_back(hp("filters", "conv filters", "int", 4, 64, "32", ae_vae));
    t.push_back(hp("likelihood", "decoder likelihood", "choice", 0, 0, "bernoulli", vae, {"bernoulli", "gaussian"}));
    t.push_back(hp("beta", "KL weight beta", "float", 0, 10, "1", vae));
    t.push_back(hp("channels", "feature channels", "int", 4, 128, "32", ar));
    t.push_back(hp("layers", "residual layers", "int", 1, 15, "5", ar));
    t.push_back(hp("levels", "output levels", "choice", 0, 0, "2", ar, {"2", "256"}));
    t.push_back(hp("conditional", "class-conditional", "bool", 0, 1, "0", ar));
    return t;
  }();
  return table;
}

const HyperParam* find_param(const std::string& key, const std::string& kind) {
  for (const HyperParam& h : schema_table())
    if (h.key == key && contains(h.kinds, kind)) return &h;
  return nullptr;
}

bool known_key(const std::string& key) {
  for (const HyperParam& h : schema_table())
    if (h.key == key) return true;
  return false;
}

// A JSON value (number, string or bool) as the text a Setup stores, validated against h.
std::string validate_value(const HyperParam& h, const Json& v) {
  const std::string where = "setting '" + h.key + "'";
  if (h.type == "choice") {
    require(v.is_string(), where + " must be one of " + join(h.choices) + " (got " + v.dump() + ")");
    require(contains(h.choices, v.as_string()), where + ": '" + v.as_string() + "' is not one of " + join(h.choices));
    return v.as_string();
  }
  if (h.type == "bool") {
    if (v.is_bool()) return v.as_bool() ? "1" : "0";
    if (v.is_number() && (v.as_number() == 0 || v.as_number() == 1)) return v.as_number() == 1 ? "1" : "0";
    if (v.is_string() && (v.as_string() == "0" || v.as_string() == "1" || v.as_string() == "true" || v.as_string() == "false"))
      return (v.as_string() == "1" || v.as_string() == "true") ? "1" : "0";
    throw Error(where + " must be true or false (got " + v.dump() + ")");
  }
  double x = 0;
  if (v.is_number()) {
    x = v.as_number();
  } else if (v.is_string()) {
    const std::string& s = v.as_string();
    char* end = nullptr;
    x = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    require(!s.empty() && end == s.c_str() + s.size(), where + ": '" + s + "' is not a number");
  } else {
    throw Error(where + " must be a number (got " + v.dump() + ")");
  }
  require(std::isfinite(x), where + " must be a finite number");
  if (h.type == "int") {
    require(x == std::floor(x), where + " must be a whole number (got " + fmt_num(x) + ")");
    require(x >= h.min && x <= h.max, where + " = " + fmt_num(x) + " is out of range [" + fmt_num(h.min) + ", " +
                                          fmt_num(h.max) + "]");
    return std::to_string(static_cast<long long>(x));
  }
  require(x >= h.min && x <= h.max,
          where + " = " + fmt_num(x) + " is out of range [" + fmt_num(h.min) + ", " + fmt_num(h.max) + "]");
  return fmt_num(x);
}

uint64_t parse_seed(const Json& v) {
  double x = 0;
  if (v.is_number()) {
    x = v.as_number();
  } else if (v.is_string()) {
    char* end = nullptr;
    const std::string& s = v.as_string();
    x = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    require(!s.empty() && end == s.c_str() + s.size(), "seed: '" + s + "' is not a number");
  } else {
    throw Error("seed must be a number (got " + v.dump() + ")");
  }
  require(std::isfinite(x) && x == std::floor(x) && x >= 0 && x <= 4294967295.0,
          "seed must be a whole number in [0, 4294967295] (got " + v.dump() + ")");
  return static_cast<uint64_t>(x);
}

// Typed arguments of a command with range checks and clear messages.
struct Args {
  const Json& obj;
  std::string cmd;
  const Json* get(const char* key) const { return obj.find(key); }
  bool has(const char* key) const { return get(key) != nullptr && !get(key)->is_null(); }
  double number(const char* key, double def, double lo, double hi) const {
    const Json* v = get(key);
    if (!v || v->is_null()) return def;
    require(v->is_number(), cmd + ": '" + key + "' must be a number (got " + v->dump() + ")");
    const double x = v->as_number();
    require(std::isfinite(x) && x >= lo && x <= hi,
            cmd + ": '" + key + "' = " + v->dump() + " is out of range [" + fmt_num(lo) + ", " + fmt_num(hi) + "]");
    return x;
  }
  int integer(const char* key, int def, int lo, int hi) const {
    const double x = number(key, def, lo, hi);
    require(x == std::floor(x), cmd + ": '" + key + "' must be a whole number");
    return static_cast<int>(x);
  }
  std::string str(const char* key, const std::string& def) const {
    const Json* v = get(key);
    if (!v || v->is_null()) return def;
    require(v->is_string(), cmd + ": '" + key + "' must be a string (got " + v->dump() + ")");
    return v->as_string();
  }
  bool boolean(const char* key, bool def) const {
    const Json* v = get(key);
    if (!v || v->is_null()) return def;
    require(v->is_bool(), cmd + ": '" + key + "' must be true or false");
    return v->as_bool();
  }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    const Json* v = get(key);
    if (!v || v->is_null()) return out;
    if (v->is_string()) {  // "a,b,c" as in URLs
      std::string s = v->as_string(), cur;
      for (char c : s + ",") {
        if (c == ',') {
          if (!cur.empty()) out.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      return out;
    }
    require(v->is_array(), cmd + ": '" + key + "' must be a list of names");
    for (const Json& e : v->as_array()) {
      require(e.is_string(), cmd + ": '" + key + "' must contain only names");
      out.push_back(e.as_string());
    }
    return out;
  }
};

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Model-format value -> display value in [0, 1].
float to_display(float v, PixelFormat f) { return f == PixelFormat::Levels256 ? v / 255.f : std::clamp(v, 0.f, 1.f); }

// Display value in [0, 1] -> model input (drawings are thresholded for binary models).
float to_model(float v, PixelFormat f) {
  v = std::clamp(v, 0.f, 1.f);
  if (f == PixelFormat::Binary) return v >= 0.5f ? 1.f : 0.f;
  if (f == PixelFormat::Levels256) return std::round(v * 255.f);
  return v;
}

Json series_json(const CurveSeries& s) {
  Json o = Json::object();
  Json steps = Json::array();
  for (double v : s.step) steps.push_back(v);
  o["step"] = steps;
  for (const auto& [k, vals] : s.terms) {
    Json a = Json::array();
    for (double v : vals) a.push_back(v);
    o[k] = a;
  }
  return o;
}

CurveSeries series_from_json(const Json& o) {
  CurveSeries s;
  require(o.is_object(), "curves: expected an object");
  for (const auto& [k, v] : o.as_object()) {
    std::vector<double> vals;
    for (const Json& e : v.as_array()) vals.push_back(e.is_null() ? NAN : e.as_number());
    if (k == "step") s.step = std::move(vals);
    else s.terms[k] = std::move(vals);
  }
  for (const auto& [k, v] : s.terms) require(v.size() == s.step.size(), "curves: series '" + k + "' has the wrong length");
  return s;
}

void push_point(CurveSeries& s, double step, const std::map<std::string, double>& terms) {
  const size_t n = s.step.size();
  s.step.push_back(step);
  for (const auto& [k, v] : terms) {
    auto& vals = s.terms[k];
    vals.resize(n, NAN);
    vals.push_back(v);
  }
  for (auto& [k, vals] : s.terms) vals.resize(n + 1, NAN);
}

// Keeps at most max points by merging neighbours (means), oldest first.
void thin(CurveSeries& s, size_t max) {
  if (s.step.size() <= max) return;
  auto halve = [](std::vector<double>& v) {
    size_t w = 0;
    for (size_t i = 0; i + 1 < v.size(); i += 2) v[w++] = 0.5 * (v[i] + v[i + 1]);
    if (v.size() % 2) v[w++] = v.back();
    v.resize(w);
  };
  halve(s.step);
  for (auto& [k, v] : s.terms) halve(v);
}

Json setup_to_json(const Setup& s) {
  Json o = Json::object();
  o["dataset"] = s.dataset;
  o["model"] = s.model;
  o["seed"] = static_cast<double>(s.seed);
  for (const auto& [k, v] : s.hyper) o[k] = v;
  return o;
}

}  // namespace

// ---- internals --------------------------------------------------------------------------------

struct Playground::Internals {
  std::unique_ptr<Trainer> trainer;
  std::map<std::string, std::vector<uint8_t>> files;                     // put_file store
  std::map<std::string, std::shared_ptr<const Dataset>> datasets;        // "name/split"
  bool has_pending = false;                                              // a set-up waiting for data
  Setup pending;
  std::vector<uint8_t> pending_checkpoint;
  Rng sample_rng{1};
  int sample_n = 16;
  double since_refresh = 0;
  // training statistics
  std::map<std::string, double> acc_terms;
  int acc_steps = 0;
  int log_every = 1;
  double step_ms_ema = 0;
  double train_ms_window = 0, train_imgs_window = 0, window_start_ms = 0;
  double slice_img_per_sec = 0, train_share = 0;  // throughput inside the slices; share of wall time training
  double frame_ms_ema = 0;
  std::map<std::string, double> last_terms;
  // incremental test-curve evaluation
  bool eval_active = false;
  int eval_next = 0;
  int64_t eval_step = 0;
  int64_t last_eval_step = -1;
  std::map<std::string, double> eval_sums;
  Rng eval_rng{0};

};

// Parses and validates a set-up object: {dataset, model, seed, <schema keys>}; missing keys take
// the defaults of the model kind; keys of other model kinds are ignored, unknown keys rejected.
static Setup setup_from_json(const Json& o, const std::vector<std::string>& datasets_known) {
  require(o.is_object(), "set-up must be a JSON object");
  Setup s;
  if (const Json* v = o.find("model")) {
    require(v->is_string(), "model must be a string, one of " + join(kKinds));
    require(contains(kKinds, v->as_string()), "unknown model '" + v->as_string() + "' (expected " + join(kKinds) + ")");
    s.model = v->as_string();
  }
  if (const Json* v = o.find("dataset")) {
    require(v->is_string(), "dataset must be a string");
    require(contains(datasets_known, v->as_string()),
            "unknown data set '" + v->as_string() + "' (expected " + join(datasets_known) + ")");
    s.dataset = v->as_string();
  }
  if (const Json* v = o.find("seed")) s.seed = parse_seed(*v);
  for (const auto& [k, v] : o.as_object()) {
    if (k == "cmd" || k == "model" || k == "dataset" || k == "seed") continue;
    require(known_key(k), "unknown setting '" + k + "'");
    if (const HyperParam* h = find_param(k, s.model)) s.hyper[k] = validate_value(*h, v);
  }
  for (const HyperParam& h : schema_table())
    if (contains(h.kinds, s.model) && !s.hyper.count(h.key)) s.hyper[h.key] = h.def;
  return s;
}

Playground::Playground() : in_(std::make_unique<Internals>()) {
  for (const HyperParam& h : schema_table())
    if (contains(h.kinds, setup_.model)) setup_.hyper[h.key] = h.def;
}

Playground::~Playground() = default;

std::string Playground::version() { return GENLAB_VERSION; }

const std::vector<HyperParam>& Playground::schema() const { return schema_table(); }

std::string Playground::schema_json() {
  Json a = Json::array();
  for (const HyperParam& h : schema_table()) {
    Json o = Json::object();
    o["key"] = h.key;
    o["label"] = h.label;
    o["type"] = h.type;
    if (h.type == "int" || h.type == "float") {
      o["min"] = h.min;
      o["max"] = h.max;
    }
    if (h.log_scale) o["log"] = true;
    if (!h.choices.empty()) {
      Json c = Json::array();
      for (const auto& s : h.choices) c.push_back(s);
      o["choices"] = c;
    }
    o["default"] = h.def;
    Json k = Json::array();
    for (const auto& s : h.kinds) k.push_back(s);
    o["kinds"] = k;
    a.push_back(o);
  }
  Json out = Json::object();
  out["models"] = Json::array({"ae", "vae", "pixelcnn", "gated-pixelcnn"});
  out["datasets"] = Json::array({"mnist10k", "fashion-mnist", "upload"});
  out["panels"] = Json::array({"train", "samples", "latent", "order", "draw", "board"});
  Json c = Json::array();
  for (const auto& s : kControls) c.push_back(s);
  out["controls"] = c;
  out["hyper"] = a;
  return out.dump();
}

bool Playground::has_model() const { return in_->trainer != nullptr; }
const GenerativeModel* Playground::model() const { return in_->trainer ? &std::as_const(*in_->trainer).model() : nullptr; }
int64_t Playground::step() const { return in_->trainer ? in_->trainer->step() : 0; }
double Playground::epoch() const { return in_->trainer ? in_->trainer->epoch() : 0.0; }

bool Playground::has_latent() const {
  const GenerativeModel* m = model();
  return m && (m->kind() == "ae" || m->kind() == "vae");
}
int Playground::latent_size() const {
  const GenerativeModel* m = model();
  if (!m) return 0;
  if (auto* a = dynamic_cast<const AutoencoderBase*>(m)) return a->latent();
  return 0;
}
bool Playground::autoregressive() const {
  const GenerativeModel* m = model();
  return m && m->exact_likelihood();
}

// ---- data sets ----------------------------------------------------------------------------------

namespace {

// "mnist10k/train-images-idx3-ubyte", "fashion-mnist/test-labels-idx1-ubyte.gz" (as load_dataset names them).
std::string builtin_file(const std::string& name, const std::string& split, const std::string& what) {
  const std::string base = name + "/" + split + "-" + what + (what == "images" ? "-idx3-ubyte" : "-idx1-ubyte");
  return name == "fashion-mnist" ? base + ".gz" : base;
}

// The upload's split follows mnist10k's protocol: every image with index = 9 (mod 10) is a test image.
Dataset split_every_tenth(const Dataset& all, bool test) {
  Dataset d;
  d.name = "upload";
  d.height = all.height;
  d.width = all.width;
  d.channels = all.channels;
  d.num_classes = all.num_classes;
  for (int i = 0; i < all.n; ++i) {
    if ((i % 10 == 9) != test) continue;
    d.pixels.insert(d.pixels.end(), all.image(i), all.image(i) + all.dim());
    if (!all.labels.empty()) d.labels.push_back(all.labels[i]);
    ++d.n;
  }
  return d;
}

}  // namespace

// ---- commands -----------------------------------------------------------------------------------

namespace {

struct DataMissing {
  std::string name;
};

}  // namespace

// Everything that needs the members lives in these helpers (a nested type: it sees the private members).
struct Playground::Ops {
  static std::vector<std::string> datasets_known(const Playground& p) {
    std::vector<std::string> v = {"mnist10k", "fashion-mnist"};
    if (p.in_->files.count("upload/images")) v.push_back("upload");
    return v;
  }

  static bool dataset_available(const Playground& p, const std::string& name) {
    auto& f = p.in_->files;
    if (name == "upload") return f.count("upload/images") > 0;
    bool all = true;
    for (const char* split : {"train", "test"})
      for (const char* what : {"images", "labels"}) all = all && f.count(builtin_file(name, split, what));
    return all || !p.data_dir_.empty();
  }

  static std::shared_ptr<const Dataset> dataset(Playground& p, const std::string& name, const std::string& split) {
    auto& in = *p.in_;
    const std::string key = name + "/" + split;
    if (auto it = in.datasets.find(key); it != in.datasets.end()) return it->second;
    std::shared_ptr<Dataset> d;
    if (name == "upload") {
      auto it = in.files.find("upload/images");
      if (it == in.files.end()) throw DataMissing{name};
      const IdxArray images = parse_idx(it->second, "uploaded images");
      IdxArray labels;
      const bool has_labels = in.files.count("upload/labels") > 0;
      if (has_labels) labels = parse_idx(in.files.at("upload/labels"), "uploaded labels");
      const Dataset all = dataset_from_idx(images, has_labels ? &labels : nullptr, "upload");
      require(all.n >= 10, "the uploaded data set needs at least 10 images (every tenth is a test image)");
      d = std::make_shared<Dataset>(split_every_tenth(all, split == "test"));
    } else {
      const std::string fi = builtin_file(name, split, "images"), fl = builtin_file(name, split, "labels");
      if (in.files.count(fi) && in.files.count(fl)) {
        const IdxArray images = parse_idx(in.files.at(fi), name + " " + split + " images");
        const IdxArray labels = parse_idx(in.files.at(fl), name + " " + split + " labels");
        d = std::make_shared<Dataset>(dataset_from_idx(images, &labels, name));
      } else if (!p.data_dir_.empty()) {
        d = std::make_shared<Dataset>(load_dataset(name, split, p.data_dir_));
      } else {
        throw DataMissing{name};
      }
    }
    in.datasets[key] = d;
    return d;
  }

  static ModelConfig model_config(const Setup& s, const Dataset& d) {
    ModelConfig c;
    c["model"] = s.model;
    for (const auto& [k, v] : s.hyper)
      if (!contains(kTrainingKeys, k)) c[k] = v;
    if (s.model == "ae" || s.model == "vae") {
      c["width"] = std::to_string(d.width);
      c["height"] = std::to_string(d.height);
      c["channels"] = std::to_string(d.channels);
      if (c.count("arch") && c["arch"] != "conv") c.erase("filters");
    } else {
      c["width"] = std::to_string(d.width);
      c["height"] = std::to_string(d.height);
      c["image_channels"] = std::to_string(d.channels);
      if (c.count("conditional") && c["conditional"] == "1") {
        require(d.num_classes > 0, "data set '" + d.name + "' has no labels: a class-conditional model needs them");
        c["num_classes"] = std::to_string(d.num_classes);
      }
    }
    return c;
  }

  static TrainConfig train_config(const Setup& s, const Dataset& d) {
    TrainConfig tc;
    tc.model = model_config(s, d);
    tc.batch = std::stoi(s.hyper.at("batch"));
    tc.optim.lr.base = std::stof(s.hyper.at("lr"));
    tc.seed = s.seed;
    return tc;
  }

  // Builds a trainer for s (and loads a checkpoint into it); swaps it in only when everything worked.
  // Returns false (and records the pending set-up) when a data set has not arrived yet.
  static bool apply(Playground& p, const Setup& s, const std::vector<uint8_t>* checkpoint) {
    auto& in = *p.in_;
    std::shared_ptr<const Dataset> train, test;
    try {
      train = dataset(p, s.dataset, "train");
      test = dataset(p, s.dataset, "test");
    } catch (const DataMissing& m) {
      in.has_pending = true;
      in.pending = s;
      in.pending_checkpoint = checkpoint ? *checkpoint : std::vector<uint8_t>{};
      p.missing_ = {m.name};
      return false;
    }
    TrainConfig tc = train_config(s, *train);
    std::unique_ptr<TrainingCheckpoint> ck;
    if (checkpoint) {
      ck = std::make_unique<TrainingCheckpoint>(decode_training_checkpoint(*checkpoint));
      tc.optim = ck->config.optim;
    }
    auto trainer = std::make_unique<Trainer>(tc, train, test);
    Curves curves;
    std::vector<BoardEntry> board = p.board_;
    if (ck) {
      for (const auto& [k, v] : ck->config.model) {
        auto it = trainer->config().model.find(k);
        require(it != trainer->config().model.end() && it->second == v,
                "the checkpoint's model setting " + k + "=" + v + " does not match the set-up built from it (" +
                    (it == trainer->config().model.end() ? std::string("absent") : it->second) + ")");
      }
      restore_trainer(*trainer, *ck);
      const auto& md = ck->file.metadata;
      if (auto it = md.find("genlab.curves"); it != md.end()) {
        const Json c = Json::parse(it->second);
        curves.train = series_from_json(c.at("train"));
        curves.test = series_from_json(c.at("test"));
        if (const Json* kl = c.find("kl_per_dim"))
          for (const Json& e : kl->as_array()) curves.kl_per_dim.push_back(e.as_number());
      }
      if (auto it = md.find("genlab.board"); it != md.end()) board = board_from_json(Json::parse(it->second), board);
    }
    // Everything succeeded: swap in.
    in.trainer = std::move(trainer);
    in.has_pending = false;
    in.pending_checkpoint.clear();
    p.missing_.clear();
    p.setup_ = s;
    p.training_ = false;
    p.until_ = -1;
    curves.version = p.curves_.version + 1;
    p.curves_ = std::move(curves);
    p.board_ = std::move(board);
    in.sample_rng.reseed(s.seed ^ 0x53414D504C45ull);  // "SAMPLE"
    in.acc_terms.clear();
    in.acc_steps = 0;
    in.log_every = 1;
    in.eval_active = false;
    in.last_eval_step = p.curves_.test.step.empty() ? -1 : static_cast<int64_t>(p.curves_.test.step.back());
    in.step_ms_ema = 0;
    in.train_ms_window = in.train_imgs_window = in.window_start_ms = 0;
    p.img_per_sec_ = 0;
    in.last_terms.clear();
    reset_views(p);
    if (!std::as_const(*in.trainer).model().conditional() || p.sample_label_ >= std::as_const(*in.trainer).model().num_classes()) p.sample_label_ = -1;
    refresh_samples(p, nullptr);
    return true;
  }

  static void reset_views(Playground& p) {
    const GenerativeModel& m = std::as_const(*p.in_->trainer).model();
    const Dataset& test = p.in_->trainer->test_data();
    auto bump = [](ImageGrid& g) {
      const int v = g.version + 1;
      g = ImageGrid{};
      g.version = v;
    };
    for (ImageGrid* g : {&p.latent_map_, &p.interpolation_, &p.traversal_, &p.reconstruction_, &p.completion_,
                         &p.replay_.image})
      bump(*g);
    p.latent_points_.clear();
    p.replay_.trace.clear();
    p.replay_.pos = 0;
    p.replay_.playing = false;
    p.receptive_ = ReceptiveField{-1, {}, 0, p.receptive_.version + 1};
    p.drawing_.assign(static_cast<size_t>(m.channels()) * m.height() * m.width(), 0.f);
    p.drawing_score_ = DrawingScore{};
    p.test_scores_.clear();
    const int L = latent_size_of(m);
    p.latent_dims_[0] = 0;
    p.latent_dims_[1] = L > 1 ? 1 : 0;
    // display copies of (up to kMaxPickerImages) test images
    ImageGrid& t = p.test_images_;
    const int v = t.version + 1;
    t = ImageGrid{};
    t.version = v;
    t.n = std::min(test.n, kMaxPickerImages);
    t.c = test.channels;
    t.h = test.height;
    t.w = test.width;
    t.pixels.resize(static_cast<size_t>(t.n) * test.dim());
    for (size_t i = 0; i < t.pixels.size(); ++i) t.pixels[i] = test.pixels[i] * (1.f / 255.f);
    for (int i = 0; i < t.n; ++i) t.labels.push_back(test.label(i));
  }

  static int latent_size_of(const GenerativeModel& m) {
    if (auto* a = dynamic_cast<const AutoencoderBase*>(&m)) return a->latent();
    return 0;
  }

  static Trainer& trainer(Playground& p) {
    require(p.in_->trainer != nullptr, p.in_->has_pending ? "the model is waiting for its data set to load"
                                                          : "no model yet: send a 'setup' command first");
    return *p.in_->trainer;
  }

  static void to_grid(ImageGrid& g, const GenerativeModel& m, const float* data, int n, const int* labels = nullptr) {
    const int v = g.version + 1;
    g.n = n;
    g.c = m.channels();
    g.h = m.height();
    g.w = m.width();
    g.pixels.resize(static_cast<size_t>(n) * g.c * g.h * g.w);
    for (size_t i = 0; i < g.pixels.size(); ++i) g.pixels[i] = to_display(data[i], m.pixel_format());
    g.labels.assign(n, -1);
    if (labels) std::copy(labels, labels + n, g.labels.begin());
    g.version = v;
  }

  // Samples into samples_ (an AE has no prior: its grid shows reconstructions of test images).
  static Json refresh_samples(Playground& p, Rng* rng_override) {
    Trainer& t = trainer(p);
    GenerativeModel& m = t.model();
    Rng& rng = rng_override ? *rng_override : p.in_->sample_rng;
    const int n = p.in_->sample_n;
    const size_t D = static_cast<size_t>(m.channels()) * m.height() * m.width();
    std::vector<float> out(static_cast<size_t>(n) * D);
    Json r = Json::object();
    std::vector<int> labels(n, -1);
    if (m.kind() == "ae") {
      auto& ae = dynamic_cast<Autoencoder&>(m);
      const int k = std::min(n, t.test_data().n);
      ae.reconstruct(t.test_inputs().data(), k, out.data());
      for (int i = 0; i < k; ++i) labels[i] = t.test_data().label(i);
      r["kind"] = "reconstructions";
    } else {
      SampleOptions opt;
      opt.n = n;
      opt.temperature = p.temperature_;
      opt.label = m.conditional() ? p.sample_label_ : -1;
      m.sample(opt, rng, out.data());
      if (m.conditional() && p.sample_label_ >= 0) labels.assign(n, p.sample_label_);
      r["kind"] = "samples";
    }
    to_grid(p.samples_, m, out.data(), n, labels.data());
    double mean = 0;
    for (float v : p.samples_.pixels) mean += v;
    r["n"] = n;
    r["mean"] = mean / static_cast<double>(p.samples_.pixels.size());
    r["hash"] = hex64(fnv1a(out.data(), out.size() * sizeof(float)));
    p.in_->since_refresh = 0;
    return r;
  }

  static std::vector<BoardEntry> board_from_json(const Json& a, std::vector<BoardEntry> board) {
    for (const Json& e : a.as_array()) {
      BoardEntry b;
      b.id = e.at("id").as_string();
      b.model = e.at("model").as_string();
      b.dataset = e.at("dataset").as_string();
      b.summary = e.at("summary").as_string();
      b.step = e.at("step").as_int();
      b.metric = e.at("metric").as_string();
      b.nats = e.at("nats").as_number();
      b.bits_per_dim = e.at("bitsPerDim").as_number();
      b.n_images = static_cast<int>(e.at("images").as_int());
      auto it = std::find_if(board.begin(), board.end(), [&](const BoardEntry& x) { return x.id == b.id; });
      if (it == board.end()) board.push_back(b);
      else if (it->step < b.step) *it = b;
    }
    return board;
  }

  static Json board_json(const std::vector<BoardEntry>& board) {
    Json a = Json::array();
    for (const BoardEntry& b : board) {
      Json e = Json::object();
      e["id"] = b.id;
      e["model"] = b.model;
      e["dataset"] = b.dataset;
      e["summary"] = b.summary;
      e["step"] = static_cast<double>(b.step);
      e["metric"] = b.metric;
      e["nats"] = b.nats;
      e["bitsPerDim"] = b.bits_per_dim;
      e["images"] = b.n_images;
      a.push_back(e);
    }
    return a;
  }

  static Json curves_json(const Curves& c) {
    Json o = Json::object();
    o["train"] = series_json(c.train);
    o["test"] = series_json(c.test);
    Json kl = Json::array();
    for (double v : c.kl_per_dim) kl.push_back(v);
    o["kl_per_dim"] = kl;
    return o;
  }

  // ---- training ----
  static void accumulate(Playground& p, const LossTerms& t) {
    auto& in = *p.in_;
    in.acc_terms["loss"] += t.loss;
    for (const auto& [k, v] : t.terms)
      if (k != "lr" && k != "grad_norm") in.acc_terms[k] += v;
    if (!t.kl_per_dim.empty()) p.curves_.kl_per_dim = t.kl_per_dim;
    ++in.acc_steps;
    if (in.acc_steps < in.log_every) return;
    std::map<std::string, double> mean;
    for (const auto& [k, v] : in.acc_terms) mean[k] = v / in.acc_steps;
    const GenerativeModel& m = std::as_const(*in.trainer).model();
    const double D = static_cast<double>(m.channels()) * m.height() * m.width();
    if (m.exact_likelihood()) mean["bits_per_dim"] = mean["loss"] / (D * kLn2);
    in.last_terms = mean;
    push_point(p.curves_.train, static_cast<double>(in.trainer->step()), mean);
    if (p.curves_.train.step.size() > static_cast<size_t>(kMaxCurvePoints)) {
      thin(p.curves_.train, kMaxCurvePoints / 2);
      in.log_every *= 2;
    }
    ++p.curves_.version;
    in.acc_terms.clear();
    in.acc_steps = 0;
  }

  // One chunk of the periodic test-curve evaluation.
  static void eval_chunk(Playground& p) {
    auto& in = *p.in_;
    Trainer& t = *in.trainer;
    GenerativeModel& m = t.model();
    const int n = std::min(kTestCurveImages, t.test_data().n);
    const int B = std::min(kTestCurveChunk, n - in.eval_next);
    const size_t D = t.test_data().dim();
    std::vector<int> labels(B);
    for (int b = 0; b < B; ++b) labels[b] = t.test_data().label(in.eval_next + b);
    const LossTerms r = m.evaluate(t.test_inputs().data() + static_cast<size_t>(in.eval_next) * D,
                                   m.conditional() ? labels.data() : nullptr, B, in.eval_rng);
    in.eval_sums["loss"] += r.loss * B;
    for (const auto& [k, v] : r.terms) in.eval_sums[k] += v * B;
    in.eval_next += B;
    if (in.eval_next < n) return;
    std::map<std::string, double> mean;
    for (const auto& [k, v] : in.eval_sums) mean[k] = v / n;
    if (m.exact_likelihood()) mean["bits_per_dim"] = mean["loss"] / (static_cast<double>(D) * kLn2);
    push_point(p.curves_.test, static_cast<double>(in.eval_step), mean);
    ++p.curves_.version;
    in.eval_active = false;
  }

  static void start_eval(Playground& p) {
    auto& in = *p.in_;
    in.eval_active = true;
    in.eval_next = 0;
    in.eval_sums.clear();
    in.eval_step = in.trainer->step();
    in.last_eval_step = in.eval_step;
    in.eval_rng.reseed(0x6576616Cull);
  }

  // Command groups (defined below).
  static Json latent(Playground& p, const Args& a);
  static Json replay(Playground& p, const Args& a);
  static Json receptive(Playground& p, const Args& a);
  static Json drawing(Playground& p, const Args& a);
  static Json replay_json(const Playground& p);
  static void set_replay_pos(Playground& p, int pos);
  static void set_receptive(Playground& p, int pixel, const std::vector<uint8_t>& mask);
  static double score_one(Playground& p, const float* x, Rng& rng, std::vector<double>* posterior);
};


std::string Playground::put_file(const std::string& path, std::vector<uint8_t> bytes) {
  Json r = Json::object();
  try {
    bool ok_path = path == "upload/images" || path == "upload/labels";
    for (const char* name : {"mnist10k", "fashion-mnist"})
      for (const char* split : {"train", "test"})
        for (const char* what : {"images", "labels"}) ok_path = ok_path || path == builtin_file(name, split, what);
    require(ok_path, "put_file: unexpected path '" + path + "'");
    require(!bytes.empty(), "put_file: '" + path + "' is empty");
    require(bytes.size() <= kMaxFileBytes, "put_file: '" + path + "' is larger than 96 MB");
    if (path.rfind("upload/", 0) == 0) {
      // Check it now, so a bad drop is reported at once (and nothing of the old upload is lost).
      const IdxArray a = parse_idx(bytes, path == "upload/images" ? "dropped images file" : "dropped labels file");
      if (path == "upload/images") {
        require(a.dims.size() == 3 || a.dims.size() == 4, "dropped images file must have 3 or 4 dimensions ([n,h,w] or [n,h,w,c])");
        in_->files.erase("upload/labels");
        r["images"] = a.dims[0];
        r["height"] = a.dims[1];
        r["width"] = a.dims[2];
      } else {
        require(a.dims.size() == 1, "dropped labels file must be one-dimensional");
        r["labels"] = a.dims[0];
      }
      in_->datasets.erase("upload/train");
      in_->datasets.erase("upload/test");
    }
    const std::string name = path.substr(0, path.find('/'));
    in_->files[path] = std::move(bytes);
    r["ok"] = true;
    if (in_->has_pending && in_->pending.dataset == name && Ops::dataset_available(*this, name)) {
      const Setup s = in_->pending;
      const std::vector<uint8_t> ck = in_->pending_checkpoint;
      const bool applied = Ops::apply(*this, s, ck.empty() ? nullptr : &ck);
      r["applied"] = applied;
      if (applied) {
        message_ = "loaded data set " + name + "; model " + s.model + " ready";
        message_error_ = false;
      }
    }
  } catch (const std::exception& e) {
    // A failing pending set-up is dropped with its message; the current model stays.
    if (in_->has_pending && path.rfind(in_->pending.dataset + "/", 0) == 0) {
      in_->has_pending = false;
      missing_.clear();
    }
    message_ = e.what();
    message_error_ = true;
    Json err = Json::object();
    err["ok"] = false;
    err["error"] = std::string(e.what());
    return err.dump();
  }
  Json out = Json::object();
  out["ok"] = true;
  for (auto& [k, v] : r.as_object())
    if (k != "ok") out[k] = v;
  return out.dump();
}

std::string Playground::command(const std::string& text) {
  Json reply = Json::object();
  reply["ok"] = true;
  std::string cmd;
  try {
    const Json j = Json::parse(text, Json::ParseLimits{size_t{4} << 20, 16});
    require(j.is_object(), "a command must be a JSON object like {\"cmd\":\"train\"}");
    const Json* c = j.find("cmd");
    require(c && c->is_string(), "a command needs a \"cmd\" string (e.g. {\"cmd\":\"train\"})");
    cmd = c->as_string();
    Args a{j, cmd};
    Json r = Json::object();
    std::string info;
    auto& in = *in_;

    if (cmd == "setup") {
      Setup s = setup_from_json(j, Ops::datasets_known(*this));
      // Keys not given keep the current value when the model kind stays the same.
      if (!j.find("model") || s.model == setup_.model) {
        s.model = setup_.model;
        for (const auto& [k, v] : setup_.hyper)
          if (!j.find(k) && find_param(k, s.model)) s.hyper[k] = v;
        if (!j.find("dataset")) s.dataset = setup_.dataset;
        if (!j.find("seed")) s.seed = setup_.seed;
      } else {
        if (!j.find("dataset")) s.dataset = setup_.dataset;
        if (!j.find("seed")) s.seed = setup_.seed;
      }
      const bool applied = Ops::apply(*this, s, nullptr);
      r["pending"] = !applied;
      r["config"] = setup_to_json(applied ? setup_ : s);
      info = applied ? "new " + s.model + " on " + s.dataset + " (seed " + std::to_string(s.seed) + ")"
                     : "loading data set " + s.dataset + "...";
    } else if (cmd == "train") {
      Ops::trainer(*this);
      const double until = a.number("until", -1, -1, 1e9);
      require(until < 0 || until > step(), "train: 'until' must be beyond the current step " + std::to_string(step()));
      until_ = static_cast<int64_t>(until);
      training_ = true;
      info = "training";
    } else if (cmd == "pause") {
      training_ = false;
      info = "paused at step " + std::to_string(step());
    } else if (cmd == "step") {
      Trainer& t = Ops::trainer(*this);
      const int n = a.integer("n", 1, 1, 10000);  // synchronous: keep it short in the browser
      const double t0 = now_ms();
      for (int i = 0; i < n; ++i) Ops::accumulate(*this, t.run_steps(1));
      const double ms = now_ms() - t0;
      if (ms > 0) img_per_sec_ = 1000.0 * n * t.config().batch / ms;
      r["step"] = static_cast<double>(t.step());
      r["ms"] = ms;
      info = "ran " + std::to_string(n) + " steps";
    } else if (cmd == "reset" || cmd == "new") {
      Setup s = setup_;
      if (cmd == "new") {
        s = Setup{};
        s = setup_from_json(Json::object(), Ops::datasets_known(*this));
        board_.clear();
      }
      const bool applied = Ops::apply(*this, s, nullptr);
      r["pending"] = !applied;
      info = cmd == "new" ? "new playground" : "model re-initialised";
    } else if (cmd == "sample" || cmd == "refresh") {
      Trainer& t = Ops::trainer(*this);
      if (cmd == "sample") {
        in.sample_n = a.integer("n", in.sample_n, 1, 64);
        temperature_ = static_cast<float>(a.number("temperature", temperature_, 0.05, 3.0));
        const int nc = std::as_const(t).model().num_classes();
        const int label = a.integer("label", sample_label_, -1, 1000);
        require(label == -1 || (std::as_const(t).model().conditional() && label < nc),
                std::as_const(t).model().conditional() ? "sample: label must be -1 (any) or in [0, " + std::to_string(nc - 1) + "]"
                                        : "sample: this model is not class-conditional (label must be -1)");
        sample_label_ = label;
      }
      if (a.has("seed")) {
        Rng rng(parse_seed(*a.get("seed")));
        r = Ops::refresh_samples(*this, &rng);
      } else {
        r = Ops::refresh_samples(*this, nullptr);
      }
      if (!a.boolean("quiet", false)) info = "sampled " + std::to_string(in.sample_n) + " images";
    } else if (cmd == "evaluate") {
      Trainer& t = Ops::trainer(*this);
      const int max = a.integer("max", 1000, 1, 100000);
      const int k = a.integer("k", kScoreIwaeK, 1, 1000);
      const bool vae = std::as_const(t).model().kind() == "vae";
      const EvalResult e = t.evaluate("test", vae ? k : 0, max);
      Json m = Json::object();
      for (const auto& [key, v] : e.metrics) m[key] = v;
      r["metrics"] = m;
      r["images"] = e.n;
      BoardEntry b;
      b.model = std::as_const(t).model().kind() + (std::as_const(t).model().conditional() ? " (conditional)" : "");
      b.dataset = setup_.dataset;
      std::string summary;
      for (const auto& [key, v] : setup_.hyper) summary += (summary.empty() ? "" : " ") + key + "=" + v;
      b.summary = summary;
      b.id = b.model + "|" + b.dataset + "|" + summary + "|seed=" + std::to_string(setup_.seed);
      b.step = t.step();
      b.n_images = e.n;
      if (e.metrics.count("nll_nats")) {
        b.metric = "nll";
        b.nats = e.metrics.at("nll_nats");
        b.bits_per_dim = e.metrics.at("bits_per_dim");
      } else if (e.metrics.count("neg_iwae_nats")) {
        b.metric = "neg_iwae_k" + std::to_string(k);
        b.nats = e.metrics.at("neg_iwae_nats");
        b.bits_per_dim = e.metrics.at("iwae_bits_per_dim");
      } else if (e.metrics.count("neg_elbo_nats")) {
        b.metric = "neg_elbo";
        b.nats = e.metrics.at("neg_elbo_nats");
        b.bits_per_dim = e.metrics.at("bits_per_dim");
      } else {
        b.metric = "recon_error";
        b.nats = e.metrics.count("loss") ? e.metrics.at("loss") : NAN;
        b.bits_per_dim = NAN;
      }
      auto it = std::find_if(board_.begin(), board_.end(), [&](const BoardEntry& x) { return x.id == b.id; });
      if (it == board_.end()) board_.push_back(b);
      else *it = b;
      r["board"] = Ops::board_json(board_);
      info = "evaluated on " + std::to_string(e.n) + " test images";
    } else if (cmd == "interpolate" || cmd == "traverse" || cmd == "latent_map" || cmd == "encode_test") {
      r = Ops::latent(*this, a);
      info = cmd + " done";
    } else if (cmd == "replay" || cmd == "replay_seek" || cmd == "replay_play" || cmd == "replay_pause") {
      r = Ops::replay(*this, a);
      info = cmd + " done";
    } else if (cmd == "receptive_field") {
      r = Ops::receptive(*this, a);
      info = "receptive field of pixel " + std::to_string(receptive_.pixel) + ": " + std::to_string(receptive_.count) +
             " pixels";
    } else if (cmd == "draw" || cmd == "draw_test" || cmd == "score" || cmd == "score_test" || cmd == "complete") {
      r = Ops::drawing(*this, a);
      info = cmd + " done";
    } else if (cmd == "panel") {
      const std::string name = a.str("name", "");
      require(contains(kPanels, name), "panel: unknown panel '" + name + "' (expected " + join(kPanels) + ")");
      panel_ = name;
      info = "panel " + name;
    } else if (cmd == "ui") {
      const auto lock = a.strings("lock"), hide = a.strings("hide");
      for (const auto& s : lock) require(contains(kControls, s), "ui: unknown control '" + s + "' (expected " + join(kControls) + ")");
      for (const auto& s : hide) require(contains(kControls, s), "ui: unknown control '" + s + "' (expected " + join(kControls) + ")");
      if (a.has("lock")) locked_ = std::set<std::string>(lock.begin(), lock.end());
      if (a.has("hide")) hidden_ = std::set<std::string>(hide.begin(), hide.end());
      info = "ui options set";
    } else if (cmd == "hash") {
      Trainer& t = Ops::trainer(*this);
      const auto v = std::as_const(t).model().params().values();
      r["params"] = hex64(fnv1a(v.data(), v.size() * sizeof(float)));
      r["count"] = static_cast<double>(v.size());
      r["step"] = static_cast<double>(t.step());
    } else if (cmd == "message") {
      // The JS glue reports what happened outside the engine (bad links, failed downloads) on the same line.
      std::string text = a.str("text", "");
      require(!text.empty(), "message: give a 'text'");
      if (text.size() > 500) text = text.substr(0, 500) + "...";
      message_ = text;
      message_error_ = a.boolean("error", false);
      return reply.dump();
    } else if (cmd == "threads") {
      // Engine threads (parallel.h: batch split in training, large matrix products); the build may allow
      // fewer: the reply says what is used.
      require(a.has("n"), "threads: give 'n' (1 or 2)");
      set_threads(a.integer("n", 1, 1, 256));
      r["threads"] = threads();
      info = "engine on " + std::to_string(threads()) + " thread" + (threads() == 1 ? "" : "s");
    } else if (cmd == "schema") {
      r = Json::parse(schema_json());
    } else if (cmd == "state") {
      r = Json::parse(state_json());
    } else {
      throw Error("unknown command '" + cmd +
                  "' (expected setup, train, pause, step, reset, new, sample, refresh, evaluate, interpolate, traverse, "
                  "latent_map, encode_test, replay, replay_seek, replay_play, replay_pause, receptive_field, draw, "
                  "draw_test, score, score_test, complete, panel, ui, hash, message, threads, schema, state)");
    }
    for (auto& [k, v] : r.as_object()) reply[k] = v;
    if (!info.empty()) {
      message_ = info;
      message_error_ = false;
    }
    return reply.dump();
  } catch (const std::exception& e) {
    message_ = (cmd.empty() ? std::string() : cmd + ": ") + e.what();
    if (!cmd.empty() && std::string(e.what()).rfind(cmd + ":", 0) == 0) message_ = e.what();
    message_error_ = true;
    Json err = Json::object();
    err["ok"] = false;
    err["error"] = message_;
    return err.dump();
  }
}

// ---- latent views (AE / VAE) ------------------------------------------------------------------

namespace {

struct LatentCoder {
  GenerativeModel& m;
  int Z = 0;
  void encode(const float* x, int B, float* z) const {
    if (auto* v = dynamic_cast<VariationalAutoencoder*>(&m)) {
      std::vector<float> logvar(static_cast<size_t>(B) * Z);
      v->encode(x, B, z, logvar.data());
    } else {
      dynamic_cast<Autoencoder&>(m).encode(x, B, z);
    }
  }
  void decode(const float* z, int B, float* out) const {
    if (auto* v = dynamic_cast<VariationalAutoencoder*>(&m)) v->decode(z, B, out);
    else dynamic_cast<Autoencoder&>(m).decode(z, B, out);
  }
};

}  // namespace

Json Playground::Ops::latent(Playground& p, const Args& a) {
  Trainer& t = Ops::trainer(p);
  GenerativeModel& m = t.model();
  require(p.has_latent(), a.cmd + ": latent views need an AE or a VAE (the current model is " + m.kind() + ")");
  const int Z = p.latent_size();
  LatentCoder coder{m, Z};
  const Dataset& test = t.test_data();
  const size_t D = test.dim();
  const int n_test = std::min(test.n, kMaxPickerImages);
  Json r = Json::object();

  if (a.has("dims")) {
    const Json& d = *a.get("dims");
    require(d.is_array() && d.size() == 2 && d.at(size_t{0}).is_number() && d.at(size_t{1}).is_number(),
            a.cmd + ": 'dims' must be two latent dimensions like [0, 1]");
    const double d0 = d.at(size_t{0}).as_number(), d1 = d.at(size_t{1}).as_number();
    require(d0 >= 0 && d0 < Z && d1 >= 0 && d1 < Z && d0 == std::floor(d0) && d1 == std::floor(d1),
            a.cmd + ": 'dims' must be in [0, " + std::to_string(Z - 1) + "]");
    p.latent_dims_[0] = static_cast<int>(d0);
    p.latent_dims_[1] = static_cast<int>(d1);
  }
  std::vector<float> out;
  if (a.cmd == "interpolate") {
    const int ia = a.integer("a", 0, 0, n_test - 1), ib = a.integer("b", 1, 0, n_test - 1);
    require(a.has("a") && a.has("b"), "interpolate: give two test-image indices 'a' and 'b'");
    const int steps = a.integer("steps", 10, 2, 32);
    const std::string mode = a.str("mode", "linear");
    require(mode == "linear" || mode == "spherical", "interpolate: 'mode' must be linear or spherical");
    std::vector<float> z(2 * static_cast<size_t>(Z));
    coder.encode(t.test_inputs().data() + ia * D, 1, z.data());
    coder.encode(t.test_inputs().data() + ib * D, 1, z.data() + Z);
    const std::vector<float> path = mode == "linear"
                                        ? VariationalAutoencoder::interpolate_linear(z.data(), z.data() + Z, Z, steps)
                                        : VariationalAutoencoder::interpolate_spherical(z.data(), z.data() + Z, Z, steps);
    out.resize(static_cast<size_t>(steps) * D);
    coder.decode(path.data(), steps, out.data());
    Ops::to_grid(p.interpolation_, m, out.data(), steps);
    r["steps"] = steps;
    r["mode"] = mode;
  } else if (a.cmd == "traverse") {
    require(a.has("dim"), "traverse: give the latent dimension 'dim'");
    const int dim = a.integer("dim", 0, 0, Z - 1);
    const int index = a.integer("index", -1, -1, n_test - 1);
    const int steps = a.integer("steps", 11, 2, 32);
    const double range = a.number("range", 3.0, 0.1, 20.0);
    std::vector<float> z(Z, 0.f);
    if (index >= 0) coder.encode(t.test_inputs().data() + index * D, 1, z.data());
    std::vector<float> values(steps);
    for (int i = 0; i < steps; ++i) values[i] = static_cast<float>(-range + 2 * range * i / (steps - 1));
    const std::vector<float> path = VariationalAutoencoder::traverse(z.data(), Z, dim, values);
    out.resize(static_cast<size_t>(steps) * D);
    coder.decode(path.data(), steps, out.data());
    Ops::to_grid(p.traversal_, m, out.data(), steps);
    r["steps"] = steps;
    r["dim"] = dim;
  } else if (a.cmd == "latent_map") {
    const int grid = a.integer("grid", 12, 2, 24);
    const double range = a.number("range", 3.0, 0.1, 20.0);
    std::vector<float> z(static_cast<size_t>(grid) * grid * Z, 0.f);
    for (int y = 0; y < grid; ++y)
      for (int x = 0; x < grid; ++x) {
        float* zi = z.data() + (static_cast<size_t>(y) * grid + x) * Z;
        zi[p.latent_dims_[0]] = static_cast<float>(-range + 2 * range * x / (grid - 1));
        zi[p.latent_dims_[1]] = static_cast<float>(range - 2 * range * y / (grid - 1));  // y up
      }
    out.resize(static_cast<size_t>(grid) * grid * D);
    coder.decode(z.data(), grid * grid, out.data());
    Ops::to_grid(p.latent_map_, m, out.data(), grid * grid);
    r["grid"] = grid;
    r["range"] = range;
  } else {  // encode_test
    const int max = a.integer("max", n_test, 1, n_test);
    std::vector<float> z(static_cast<size_t>(max) * Z);
    for (int i0 = 0; i0 < max; i0 += 100) {
      const int B = std::min(100, max - i0);
      coder.encode(t.test_inputs().data() + i0 * D, B, z.data() + static_cast<size_t>(i0) * Z);
    }
    p.latent_points_.clear();
    for (int i = 0; i < max; ++i)
      p.latent_points_.push_back({z[static_cast<size_t>(i) * Z + p.latent_dims_[0]], z[static_cast<size_t>(i) * Z + p.latent_dims_[1]],
                                test.label(i), i});
    r["points"] = max;
  }
  Json dims = Json::array({p.latent_dims_[0], p.latent_dims_[1]});
  r["dims"] = dims;
  return r;
}

}  // namespace genlab

namespace genlab {

// ---- generation order (PixelCNN family) ---------------------------------------------------------

void Playground::Ops::set_replay_pos(Playground& p, int pos) {
  Replay& r = p.replay_;
  const GenerativeModel& m = std::as_const(*p.in_->trainer).model();
  const int H = m.height(), W = m.width(), C = m.channels();
  pos = std::clamp(pos, 0, static_cast<int>(r.trace.size()));
  ImageGrid& g = r.image;
  const int v = g.version + 1;
  g.n = 1;
  g.c = C;
  g.h = H;
  g.w = W;
  g.pixels.assign(static_cast<size_t>(C) * H * W, 0.f);
  g.labels.assign(1, -1);
  for (int i = 0; i < pos; ++i) {
    const SampleTraceStep& s = r.trace[i];
    g.pixels[static_cast<size_t>(s.channel) * H * W + s.pixel] = to_display(s.value, m.pixel_format());
  }
  g.version = v;
  r.pos = pos;
  // The overlay follows the pixel being sampled.
  if (pos < static_cast<int>(r.trace.size())) {
    const SampleTraceStep& s = r.trace[pos];
    if (p.receptive_.pixel != s.pixel) {
      const std::vector<uint8_t> mask = genlab::receptive_field(m, s.pixel, s.channel);
      set_receptive(p, s.pixel, mask);
    }
  }
}

void Playground::Ops::set_receptive(Playground& p, int pixel, const std::vector<uint8_t>& mask) {
  const GenerativeModel& m = std::as_const(*p.in_->trainer).model();
  const size_t HW = static_cast<size_t>(m.height()) * m.width();
  ReceptiveField& f = p.receptive_;
  f.pixel = pixel;
  f.mask.assign(HW, 0);
  f.count = 0;
  for (size_t i = 0; i < mask.size(); ++i) {
    if (!mask[i]) continue;
    ++f.count;
    f.mask[i % HW] = 1;
  }
  ++f.version;
}

Json Playground::Ops::replay(Playground& p, const Args& a) {
  Trainer& t = trainer(p);
  GenerativeModel& m = t.model();
  require(m.exact_likelihood(), a.cmd + ": the generation-order replay needs a PixelCNN (the current model is " + m.kind() + ")");
  Replay& rp = p.replay_;
  if (a.cmd == "replay") {
    SampleOptions opt;
    opt.n = 1;
    opt.temperature = static_cast<float>(a.number("temperature", p.temperature_, 0.05, 3.0));
    const int nc = m.num_classes();
    opt.label = a.integer("label", m.conditional() ? p.sample_label_ : -1, -1, std::max(nc - 1, -1));
    require(opt.label == -1 || m.conditional(), "replay: this model is not class-conditional (label must be -1)");
    std::vector<SampleTraceStep> trace;
    opt.trace = &trace;
    std::vector<float> out(static_cast<size_t>(m.channels()) * m.height() * m.width());
    if (a.has("seed")) {
      Rng rng(parse_seed(*a.get("seed")));
      m.sample(opt, rng, out.data());
    } else {
      m.sample(opt, p.in_->sample_rng, out.data());
    }
    require(!trace.empty(), "replay: the sampler recorded no trace");
    rp.trace = std::move(trace);
    rp.speed = a.number("speed", rp.speed, 1, 1e6);
    rp.playing = a.boolean("play", true);
    rp.accum = 0;
    p.receptive_.pixel = -1;
    set_replay_pos(p, a.integer("pos", 0, 0, static_cast<int>(rp.trace.size())));
  } else {
    require(!rp.trace.empty(), a.cmd + ": nothing to replay yet (send {\"cmd\":\"replay\"} first)");
    if (a.cmd == "replay_seek") {
      require(a.has("pos"), "replay_seek: give 'pos' (0.." + std::to_string(rp.trace.size()) + ")");
      set_replay_pos(p, a.integer("pos", 0, 0, static_cast<int>(rp.trace.size())));
      rp.playing = false;
    } else if (a.cmd == "replay_play") {
      rp.speed = a.number("speed", rp.speed, 1, 1e6);
      if (rp.pos >= static_cast<int>(rp.trace.size())) set_replay_pos(p, 0);
      rp.playing = true;
      rp.accum = 0;
    } else {
      rp.playing = false;
    }
  }
  return replay_json(p);
}

Json Playground::Ops::replay_json(const Playground& p) {
  const Replay& rp = p.replay_;
  Json r = Json::object();
  r["pos"] = rp.pos;
  r["total"] = static_cast<double>(rp.trace.size());
  r["playing"] = rp.playing;
  r["speed"] = rp.speed;
  if (p.in_->trainer && rp.pos < static_cast<int>(rp.trace.size())) {
    const SampleTraceStep& s = rp.trace[rp.pos];  // the pixel being sampled next
    const int W = std::as_const(*p.in_->trainer).model().width();
    r["pixel"] = s.pixel;
    r["x"] = s.pixel % W;
    r["y"] = s.pixel / W;
    r["channel"] = s.channel;
    Json probs = Json::array();
    if (s.probs.size() <= 16)
      for (float v : s.probs) probs.push_back(v);
    r["probs"] = probs;
    r["value"] = s.value;
  }
  return r;
}

Json Playground::Ops::receptive(Playground& p, const Args& a) {
  Trainer& t = trainer(p);
  const GenerativeModel& m = std::as_const(t).model();
  require(m.exact_likelihood(), "receptive_field: needs a PixelCNN (the current model is " + m.kind() + ")");
  const int H = m.height(), W = m.width();
  int pixel = 0;
  if (a.has("pixel")) {
    pixel = a.integer("pixel", 0, 0, H * W - 1);
  } else {
    require(a.has("x") && a.has("y"), "receptive_field: give 'pixel' (raster index) or 'x' and 'y'");
    pixel = a.integer("y", 0, 0, H - 1) * W + a.integer("x", 0, 0, W - 1);
  }
  const int channel = a.integer("channel", 0, 0, m.channels() - 1);
  set_receptive(p, pixel, genlab::receptive_field(m, pixel, channel));
  Json r = Json::object();
  r["pixel"] = pixel;
  r["x"] = pixel % W;
  r["y"] = pixel / W;
  r["count"] = p.receptive_.count;
  r["before"] = pixel * m.channels() + channel;  // sub-pixels that come earlier in the order
  return r;
}

// ---- drawing, scoring, completion -----------------------------------------------------------------

double Playground::Ops::score_one(Playground& p, const float* x, Rng& rng, std::vector<double>* posterior) {
  GenerativeModel& m = p.in_->trainer->model();
  const double D = static_cast<double>(m.channels()) * m.height() * m.width();
  if (m.exact_likelihood()) {
    AutoregressiveModel& ar = as_autoregressive(m);
    if (!m.conditional()) return ar.nll_per_image(x, nullptr, 1)[0];
    // p(x) = sum_y p(x|y) p(y) with a uniform p(y); p(y|x) by Bayes' rule.
    const int nc = m.num_classes();
    std::vector<double> ll(nc);
    for (int y = 0; y < nc; ++y) ll[y] = -ar.nll_per_image(x, &y, 1)[0];
    const double lse = logsumexp(ll.data(), ll.size());
    if (posterior) {
      posterior->resize(nc);
      for (int y = 0; y < nc; ++y) (*posterior)[y] = std::exp(ll[y] - lse);
    }
    return -(lse - std::log(static_cast<double>(nc)));
  }
  if (auto* vae = dynamic_cast<VariationalAutoencoder*>(&m)) {
    const double dequant = vae->gaussian() ? D * std::log(256.0) : 0.0;
    return vae->neg_iwae_bound(x, 1, kScoreIwaeK, rng)[0] + dequant;
  }
  return m.evaluate(x, nullptr, 1, rng).loss;  // AE: reconstruction error (not a likelihood)
}

Json Playground::Ops::drawing(Playground& p, const Args& a) {
  Trainer& t = trainer(p);
  GenerativeModel& m = t.model();
  const int C = m.channels(), H = m.height(), W = m.width();
  const size_t D = static_cast<size_t>(C) * H * W;
  const int n_test = std::min(t.test_data().n, kMaxPickerImages);
  Json r = Json::object();
  const std::string metric = m.exact_likelihood() ? "nll" : m.kind() == "vae" ? "neg_iwae_k" + std::to_string(kScoreIwaeK)
                                                                               : "recon_error";
  if (a.cmd == "draw") {
    const Json* px = a.get("pixels");
    require(px && px->is_array(), "draw: 'pixels' must be an array of " + std::to_string(D) + " numbers in [0, 1]");
    require(px->size() == D, "draw: 'pixels' has " + std::to_string(px->size()) + " values, expected " + std::to_string(D) +
                                 " (" + std::to_string(H) + "x" + std::to_string(W) + ")");
    std::vector<float> v(D);
    for (size_t i = 0; i < D; ++i) {
      const Json& e = px->at(i);
      require(e.is_number() && e.as_number() >= 0 && e.as_number() <= 1,
              "draw: pixel " + std::to_string(i) + " must be a number in [0, 1]");
      v[i] = static_cast<float>(e.as_number());
    }
    p.drawing_ = std::move(v);
    r["pixels"] = static_cast<double>(D);
  } else if (a.cmd == "draw_test") {
    require(a.has("index"), "draw_test: give a test-image 'index'");
    const int index = a.integer("index", 0, 0, n_test - 1);
    p.drawing_.assign(p.test_images_.pixels.begin() + index * D, p.test_images_.pixels.begin() + (index + 1) * D);
    r["index"] = index;
    r["label"] = t.test_data().label(index);
  } else if (a.cmd == "score") {
    require(p.drawing_.size() == D, "score: the drawing does not match the model's image size");
    std::vector<float> x(D);
    for (size_t i = 0; i < D; ++i) x[i] = to_model(p.drawing_[i], m.pixel_format());
    Rng rng(kScoreSeed);
    std::vector<double> posterior;
    DrawingScore s;
    s.valid = true;
    s.metric = metric;
    s.nats = score_one(p, x.data(), rng, &posterior);
    s.bits_per_dim = metric == "recon_error" ? NAN : s.nats / (static_cast<double>(D) * kLn2);
    if (!p.test_scores_.empty()) {
      const auto below = std::lower_bound(p.test_scores_.begin(), p.test_scores_.end(), s.nats) - p.test_scores_.begin();
      s.percentile = static_cast<double>(below) / p.test_scores_.size();
    }
    if (p.has_latent()) {
      const int Z = p.latent_size();
      LatentCoder coder{m, Z};
      std::vector<float> z(Z), rec(D);
      coder.encode(x.data(), 1, z.data());
      coder.decode(z.data(), 1, rec.data());
      to_grid(p.reconstruction_, m, rec.data(), 1);
      s.has_latent = true;
      s.latent_x = z[p.latent_dims_[0]];
      s.latent_y = z[p.latent_dims_[1]];
      r["latent"] = Json::array({s.latent_x, s.latent_y});
    }
    p.drawing_score_ = s;
    r["metric"] = s.metric;
    r["nats"] = s.nats;
    r["bitsPerDim"] = s.bits_per_dim;
    r["percentile"] = s.percentile;
    if (!posterior.empty()) {
      Json post = Json::array();
      for (double v : posterior) post.push_back(v);
      r["posterior"] = post;  // p(y | x) of a class-conditional model
    }
  } else if (a.cmd == "score_test") {
    const int max = a.integer("max", std::min(200, n_test), 1, n_test);
    Rng rng(kScoreSeed);
    std::vector<double> scores(max);
    for (int i = 0; i < max; ++i) scores[i] = score_one(p, t.test_inputs().data() + i * D, rng, nullptr);
    std::sort(scores.begin(), scores.end());
    p.test_scores_ = scores;
    r["metric"] = metric;
    r["images"] = max;
    r["median"] = scores[max / 2];
    r["min"] = scores.front();
    r["max"] = scores.back();
  } else {  // complete
    require(m.exact_likelihood(), "complete: completion needs a PixelCNN (the current model is " + m.kind() + ")");
    const std::string source = a.str("source", "test");
    require(source == "test" || source == "drawing", "complete: 'source' must be test or drawing");
    const int rows = a.integer("rows", H / 2, 1, H - 1);
    const int n = a.integer("n", 4, 1, 16);
    std::vector<float> keep(static_cast<size_t>(n) * D);
    if (source == "test") {
      const int index = a.integer("index", 0, 0, n_test - 1);
      for (int i = 0; i < n; ++i)
        std::copy(t.test_inputs().begin() + index * D, t.test_inputs().begin() + (index + 1) * D, keep.begin() + i * D);
      r["index"] = index;
    } else {
      require(p.drawing_.size() == D, "complete: the drawing does not match the model's image size");
      for (int i = 0; i < n; ++i)
        for (size_t j = 0; j < D; ++j) keep[i * D + j] = to_model(p.drawing_[j], m.pixel_format());
    }
    std::vector<uint8_t> mask(D, 0);
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < rows; ++y)
        for (int x = 0; x < W; ++x) mask[(static_cast<size_t>(c) * H + y) * W + x] = 1;
    SampleOptions opt;
    opt.n = n;
    opt.temperature = p.temperature_;
    opt.label = m.conditional() ? p.sample_label_ : -1;
    opt.keep = keep.data();
    opt.keep_mask = mask.data();
    std::vector<float> out(static_cast<size_t>(n) * D);
    if (a.has("seed")) {
      Rng rng(parse_seed(*a.get("seed")));
      m.sample(opt, rng, out.data());
    } else {
      m.sample(opt, p.in_->sample_rng, out.data());
    }
    to_grid(p.completion_, m, out.data(), n);
    r["rows"] = rows;
    r["n"] = n;
    r["hash"] = hex64(fnv1a(out.data(), out.size() * sizeof(float)));
  }
  return r;
}

// ---- the main loop ------------------------------------------------------------------------------

double Playground::train_slice(double budget_ms) {
  const double t0 = now_ms();
  if (!in_->trainer) return 0;
  auto& in = *in_;
  try {
    Trainer& t = *in.trainer;
    if (training_) {
      int steps = 0;
      while (true) {
        if (until_ >= 0 && t.step() >= until_) {
          training_ = false;
          message_ = "reached step " + std::to_string(t.step());
          message_error_ = false;
          until_ = -1;
          Ops::refresh_samples(*this, nullptr);
          break;
        }
        if (!in.eval_active && (in.last_eval_step < 0 || t.step() - in.last_eval_step >= kTestCurveEvery))
          Ops::start_eval(*this);
        const double s0 = now_ms();
        Ops::accumulate(*this, t.run_steps(1));
        const double dt = now_ms() - s0;
        in.step_ms_ema = in.step_ms_ema == 0 ? dt : 0.9 * in.step_ms_ema + 0.1 * dt;
        ++steps;
        if (now_ms() - t0 + in.step_ms_ema > budget_ms) break;
      }
      // Throughput over wall-clock time (what the user gets, frames included) and within the slices.
      const double now = now_ms();
      if (in.window_start_ms == 0) in.window_start_ms = t0;
      in.train_ms_window += now - t0;
      in.train_imgs_window += static_cast<double>(steps) * t.config().batch;
      const double wall = now - in.window_start_ms;
      if ((wall >= 1000 || img_per_sec_ == 0) && wall > 0 && in.train_ms_window > 0) {
        img_per_sec_ = 1000.0 * in.train_imgs_window / wall;
        in.slice_img_per_sec = 1000.0 * in.train_imgs_window / in.train_ms_window;
        in.train_share = in.train_ms_window / wall;
        if (wall >= 1000) {
          in.window_start_ms = now;
          in.train_ms_window = in.train_imgs_window = 0;
        }
      }
    } else {
      in.window_start_ms = 0;
      in.train_ms_window = in.train_imgs_window = 0;
    }
    if (in.eval_active && now_ms() - t0 < budget_ms) Ops::eval_chunk(*this);
  } catch (const std::exception& e) {
    training_ = false;
    in.eval_active = false;
    message_ = std::string("training stopped: ") + e.what();
    message_error_ = true;
  }
  return now_ms() - t0;
}

void Playground::tick(double dt_ms) {
  if (!in_->trainer) return;
  dt_ms = std::clamp(dt_ms, 0.0, 1000.0);
  try {
    if (replay_.playing && !replay_.trace.empty()) {
      replay_.accum += replay_.speed * dt_ms / 1000.0;
      const int adv = static_cast<int>(replay_.accum);
      replay_.accum -= adv;
      if (adv > 0) Ops::set_replay_pos(*this, replay_.pos + adv);
      if (replay_.pos >= static_cast<int>(replay_.trace.size())) replay_.playing = false;
    }
    if (training_) {
      in_->since_refresh += dt_ms;
      if (in_->since_refresh >= kRefreshMs) Ops::refresh_samples(*this, nullptr);
    }
  } catch (const std::exception& e) {
    replay_.playing = false;
    message_ = e.what();
    message_error_ = true;
  }
}

void Playground::report_frame(double frame_ms) {
  if (!(frame_ms > 0) || frame_ms > 10000) return;
  in_->frame_ms_ema = in_->frame_ms_ema == 0 ? frame_ms : 0.95 * in_->frame_ms_ema + 0.05 * frame_ms;
  fps_ = 1000.0 / in_->frame_ms_ema;
}

// ---- state, export, import ------------------------------------------------------------------------

std::string Playground::state_json() const {
  const auto& in = *in_;
  Json s = Json::object();
  s["version"] = version();
  s["ready"] = has_model();
  const GenerativeModel* m = model();
  s["model"] = m ? m->kind() : setup_.model;
  s["conditional"] = m ? m->conditional() : false;
  s["autoregressive"] = autoregressive();
  s["dataset"] = setup_.dataset;
  s["step"] = static_cast<double>(step());
  s["epoch"] = epoch();
  s["training"] = training_;
  s["until"] = static_cast<double>(until_);
  Json losses = Json::object();
  for (const auto& [k, v] : in.last_terms) losses[k] = v;
  s["losses"] = losses;
  Json test = Json::object();
  if (!curves_.test.step.empty())
    for (const auto& [k, v] : curves_.test.terms) test[k] = v.back();
  s["testLosses"] = test;
  s["fps"] = fps_;
  s["imgPerSec"] = img_per_sec_;
  s["stepMs"] = in.step_ms_ema;
  s["sliceImgPerSec"] = in.slice_img_per_sec;
  s["trainShare"] = in.train_share;
  s["threads"] = threads();
  s["panel"] = panel_;
  s["config"] = setup_to_json(setup_);
  s["params"] = m ? static_cast<double>(m->params().total()) : 0.0;
  Json curves = Json::object();
  curves["trainPoints"] = static_cast<double>(curves_.train.step.size());
  curves["testPoints"] = static_cast<double>(curves_.test.step.size());
  curves["version"] = curves_.version;
  Json kl = Json::array();
  for (double v : curves_.kl_per_dim) kl.push_back(v);
  curves["klPerDim"] = kl;
  s["curves"] = curves;
  Json samples = Json::object();
  samples["n"] = samples_.n;
  samples["version"] = samples_.version;
  samples["temperature"] = std::round(temperature_ * 1e4) / 1e4;  // the float as the user typed it
  samples["label"] = sample_label_;
  s["samples"] = samples;
  s["replay"] = Ops::replay_json(*this);
  Json rf = Json::object();
  rf["pixel"] = receptive_.pixel;
  rf["count"] = receptive_.count;
  s["receptiveField"] = rf;
  Json ds = Json::object();
  ds["valid"] = drawing_score_.valid;
  if (drawing_score_.valid) {
    ds["metric"] = drawing_score_.metric;
    ds["nats"] = drawing_score_.nats;
    ds["bitsPerDim"] = drawing_score_.bits_per_dim;
    ds["percentile"] = drawing_score_.percentile;
  }
  s["drawingScore"] = ds;
  s["testScores"] = static_cast<double>(test_scores_.size());
  Json lat = Json::object();
  lat["size"] = latent_size();
  lat["dims"] = Json::array({latent_dims_[0], latent_dims_[1]});
  lat["points"] = static_cast<double>(latent_points_.size());
  s["latent"] = lat;
  s["board"] = Ops::board_json(board_);
  s["message"] = message_;
  s["messageError"] = message_error_;
  s["pending"] = in.has_pending;
  if (in.has_pending) s["pendingConfig"] = setup_to_json(in.pending);
  Json missing = Json::array();
  for (const auto& d : missing_) missing.push_back(d);
  s["missingData"] = missing;
  Json locked = Json::array(), hidden = Json::array();
  for (const auto& c : locked_) locked.push_back(c);
  for (const auto& c : hidden_) hidden.push_back(c);
  s["locked"] = locked;
  s["hidden"] = hidden;
  return s.dump();
}

std::vector<uint8_t> Playground::export_model(bool with_state) const {
  require(in_->trainer != nullptr, "there is no model to export yet");
  std::map<std::string, std::string> extra;
  extra["genlab.setup"] = setup_to_json(setup_).dump();
  extra["genlab.version"] = version();
  if (with_state) {
    extra["genlab.curves"] = Ops::curves_json(curves_).dump();
    extra["genlab.board"] = Ops::board_json(board_).dump();
  }
  return encode_training_checkpoint(*in_->trainer, with_state, extra);
}

std::string Playground::import_model(std::span<const uint8_t> bytes) {
  try {
    require(!bytes.empty(), "the file is empty");
    const TrainingCheckpoint ck = decode_training_checkpoint(bytes);
    const auto& md = ck.file.metadata;
    Setup s;
    if (auto it = md.find("genlab.setup"); it != md.end()) {
      s = setup_from_json(Json::parse(it->second), Ops::datasets_known(*this));
    } else {  // a checkpoint of the CLI: model.<key> and train.<key> metadata
      Json o = Json::object();
      const std::string kind = ck.config.model.at("model");
      require(contains(kKinds, kind), "the checkpoint's model '" + kind + "' is not one the playground knows");
      o["model"] = kind;
      for (const auto& [k, v] : ck.config.model)
        if (find_param(k, kind)) o[k] = v;
      o["batch"] = std::to_string(std::clamp(ck.config.batch, 1, 256));
      o["lr"] = fmt_num(ck.config.optim.lr.base);
      o["seed"] = static_cast<double>(ck.config.seed & 0xFFFFFFFFull);
      auto ds = md.find("train.dataset");
      o["dataset"] = ds != md.end() && contains(Ops::datasets_known(*this), ds->second) ? ds->second : setup_.dataset;
      s = setup_from_json(o, Ops::datasets_known(*this));
    }
    const std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    const bool applied = Ops::apply(*this, s, &copy);
    message_ = applied ? "imported " + s.model + " at step " + std::to_string(ck.step)
                       : "imported model waits for data set " + s.dataset;
    message_error_ = false;
    Json r = Json::object();
    r["ok"] = true;
    r["pending"] = !applied;
    r["model"] = s.model;
    r["step"] = static_cast<double>(ck.step);
    r["config"] = setup_to_json(s);
    return r.dump();
  } catch (const std::exception& e) {
    message_ = std::string("import failed: ") + e.what();
    message_error_ = true;
    Json err = Json::object();
    err["ok"] = false;
    err["error"] = message_;
    return err.dump();
  }
}

std::string Playground::curves_csv() const {
  std::set<std::string> keys;
  for (const auto& [k, v] : curves_.train.terms) keys.insert(k);
  for (const auto& [k, v] : curves_.test.terms) keys.insert(k);
  std::string out = "split,step";
  for (const auto& k : keys) out += "," + k;
  out += "\n";
  auto rows = [&](const char* split, const CurveSeries& s) {
    for (size_t i = 0; i < s.step.size(); ++i) {
      out += std::string(split) + "," + json_number(s.step[i]);
      for (const auto& k : keys) {
        out += ",";
        auto it = s.terms.find(k);
        if (it != s.terms.end() && std::isfinite(it->second[i])) out += json_number(it->second[i]);
      }
      out += "\n";
    }
  };
  rows("train", curves_.train);
  rows("test", curves_.test);
  return out;
}

}  // namespace genlab

namespace genlab {

std::string Playground::load_pretrained(std::span<const uint8_t> bytes) {
  try {
    require(in_->trainer != nullptr, "no model to load pretrained weights into");
    const TrainingCheckpoint ck = decode_training_checkpoint(bytes);
    const ModelConfig& mine = in_->trainer->config().model;
    require(ck.config.model == mine, "the pretrained weights are for a different model configuration");
    // Parameters and step only: the set-up (batch, learning rate, seed) of the link stays.
    TrainingCheckpoint params_only;
    params_only.config = ck.config;
    params_only.step = ck.step;
    params_only.file.metadata = ck.file.metadata;
    params_only.file.metadata.erase("optim.steps");
    for (const NamedTensor& t : ck.file.tensors)
      if (t.name.rfind("optim.", 0) != 0) params_only.file.tensors.push_back(t);
    restore_trainer(*in_->trainer, params_only);
    curves_ = Curves{{}, {}, {}, curves_.version + 1};
    in_->last_terms.clear();
    in_->last_eval_step = -1;
    Ops::refresh_samples(*this, nullptr);
    message_ = "pretrained " + setup_.model + " loaded (" + std::to_string(ck.step) + " steps)";
    message_error_ = false;
    Json r = Json::object();
    r["ok"] = true;
    r["step"] = static_cast<double>(ck.step);
    return r.dump();
  } catch (const std::exception& e) {
    Json err = Json::object();
    err["ok"] = false;
    err["error"] = std::string("pretrained weights not used: ") + e.what();
    return err.dump();
  }
}

}  // namespace genlab
