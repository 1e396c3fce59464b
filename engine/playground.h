// The playground API: the one small interface through which the web UI (ImGui panels, C++) and
// JavaScript (window.genlab, via Embind) drive genlab. It owns the current set-up (data set, model,
// hyperparameters, seed), the Trainer, and everything the panels show (samples, curves, latent
// views, the generation-order replay, the drawing and its score, the likelihood board).
//
// Two faces, one behaviour:
//   - command(json) -> JSON reply {"ok":true,...} or {"ok":false,"error":"..."}: every action of the
//     playground, validated; a bad command never throws out and never loses the current model.
//   - typed accessors the panels read every frame (image buffers [n,C,H,W] in [0,1], curves, ...),
//     plus train_slice(budget_ms), which the main loop calls between frames.
// The page has no file system: data sets arrive as bytes (put_file) fetched by the JS glue.
// Pure C++ (no Emscripten); tested natively in tests/engine/test_playground.cpp.
//
// Commands (JSON objects, key "cmd"; every other key optional unless marked *):
//   setup     {dataset, model, seed, batch, lr, <hyperparameters of schema()>}  new model from scratch
//   train     {until}            start training in slices (until: stop at this step)      pause {}
//   step      {n*}               run n steps now (synchronous)       reset {} (same set-up, fresh init)
//   new       {}                 default set-up, clean model, board cleared
//   sample    {n, temperature, label, seed, quiet}  (quiet: keep the message line) refresh {} (same options, new draw)
//   evaluate  {max}              test-set score -> curves and the likelihood board
//   interpolate {a*, b*, steps, mode: "linear"|"spherical"}  (test-image indices; AE/VAE)
//   traverse  {dim*, index, steps, range}                    latent_map {dims, grid, range}
//   encode_test {max}            scatter of encoded test images (latent dims `dims`)
//   replay    {label, temperature, seed}  sample one image with its trace (PixelCNN family)
//   replay_seek {pos*}   replay_play {speed}  replay_pause {}
//   receptive_field {pixel | x,y}   which input pixels the prediction of a pixel depends on
//   draw      {pixels*: [H*W numbers in 0..1]}  or  draw_test {index*}   set the drawing
//   score     {}                 score the drawing (+ reconstruction / latent position for AE/VAE)
//   score_test {max}             distribution of test-set scores (for comparison with the drawing)
//   complete  {rows, source: "drawing"|"test", index, n, seed}   PixelCNN completion of kept rows
//   panel     {name*}            open a panel: train, samples, latent, order, draw, board
//   ui        {lock: [..], hide: [..]}  instructor options (controls: dataset, model, hyper, train, ...)
//   hash      {}                 -> {"params": FNV-1a hex of the parameter bytes}
//   message   {text*, error}     show a message from the JS glue on the status line
//   threads   {n*}               engine threads (1 or 2; 1 where the build has none): training splits
//                                each batch in halves, large matrix products in strips; state
//                                "threads" tells the number in use
//   schema    {}                 -> hyperparameters with types, ranges and defaults per model kind
// Binary payloads (datasets, checkpoints) go through put_file / import_model / export_model.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "dataset.h"
#include "model.h"

namespace genlab {

class Trainer;

// A batch of images for display: pixels [n, c, h, w], values in [0, 1].
struct ImageGrid {
  int n = 0, c = 1, h = 0, w = 0;
  std::vector<float> pixels;
  std::vector<int> labels;  // optional, one per image (-1 unknown)
  int version = 0;          // incremented on every change (re-upload textures only then)
};

// One hyperparameter the UI shows as a control and the URL carries.
struct HyperParam {
  std::string key;                 // URL / command key, e.g. "latent"
  std::string label;               // UI label, e.g. "latent size"
  std::string type;                // "int", "float", "choice", "bool"
  double min = 0, max = 0;         // int / float: inclusive range
  bool log_scale = false;          // float: a log slider
  std::vector<std::string> choices;  // choice
  std::string def;                 // default value as text
  std::vector<std::string> kinds;  // model kinds it applies to ("ae", "vae", "pixelcnn", "gated-pixelcnn")
};

// Everything that defines a training run (the URL hash holds exactly this plus the UI options).
struct Setup {
  std::string dataset = "mnist10k";
  std::string model = "vae";  // ae, vae, pixelcnn, gated-pixelcnn
  uint64_t seed = 1;
  std::map<std::string, std::string> hyper;  // key -> value text, validated against schema()
};

struct CurveSeries {
  std::vector<double> step;
  std::map<std::string, std::vector<double>> terms;  // "loss", "recon", "kl", "nll", "bits_per_dim", ...
};

struct Curves {
  CurveSeries train;                // one point per logged step (every few steps, smoothed over the interval)
  CurveSeries test;                 // one point per evaluation
  std::vector<double> kl_per_dim;   // VAE: latest mean KL per latent dimension
  int version = 0;
};

struct LatentPoint {
  float x = 0, y = 0;
  int label = -1;
  int index = 0;  // test-image index
};

// Generation-order replay of one autoregressive sample.
struct Replay {
  std::vector<SampleTraceStep> trace;  // one entry per sampled (sub-)pixel, in order
  int pos = 0;                         // number of steps shown (0..trace.size())
  bool playing = false;
  double speed = 200;                  // steps per second while playing
  ImageGrid image;                     // the image with the first `pos` steps filled in (rest 0)
  double accum = 0;                    // fractional steps carried between ticks
};

struct ReceptiveField {
  int pixel = -1;                 // raster index of the queried pixel (-1: none)
  std::vector<uint8_t> mask;      // [H*W]: 1 where the input pixel can influence the prediction
  int count = 0;                  // number of 1s
  int version = 0;
};

struct DrawingScore {
  bool valid = false;
  std::string metric;      // "nll" (exact, autoregressive) or "neg_elbo" (VAE) or "mse" (AE)
  double nats = 0, bits_per_dim = 0;
  double percentile = -1;  // fraction of scored test images with a lower (better) score; -1 unknown
  float latent_x = 0, latent_y = 0;  // AE/VAE: where the drawing lands (dims of `latent_dims`)
  bool has_latent = false;
};

struct BoardEntry {
  std::string id;          // model + config summary + data set, unique per configuration
  std::string model, dataset, summary;
  int64_t step = 0;
  std::string metric;      // "nll" (exact) or "neg_elbo" / "neg_iwae" (bounds) or "mse"
  double nats = 0, bits_per_dim = 0;
  int n_images = 0;
};

class Playground {
 public:
  Playground();
  ~Playground();
  Playground(const Playground&) = delete;
  Playground& operator=(const Playground&) = delete;

  static std::string version();

  // ---- the JSON face (also what Embind exposes) ----
  std::string command(const std::string& json);
  std::string state_json() const;
  static std::string schema_json();

  // ---- binary payloads ----
  // Stores a file for data sets: "mnist10k/train-images-idx3-ubyte", "fashion-mnist/...-ubyte.gz",
  // "upload/images" and "upload/labels" (a dropped IDX file; data set name "upload"). If a set-up
  // waits for this data set and it is now complete, it is applied. Returns a JSON reply.
  std::string put_file(const std::string& path, std::vector<uint8_t> bytes);
  // Native use (tests, CLI): read data sets from this directory when they were not put.
  void set_data_dir(const std::string& dir) { data_dir_ = dir; }
  // Data sets that a pending set-up needs and that have not been put yet (the JS glue fetches them).
  const std::vector<std::string>& missing_datasets() const { return missing_; }
  // safetensors with params, config, step, set-up; with_state adds optimiser moments and curves.
  std::vector<uint8_t> export_model(bool with_state) const;
  // Checks and loads a checkpoint (ours or the CLI's); the current model is untouched on error.
  std::string import_model(std::span<const uint8_t> bytes);
  // Loads the parameters (and step) of a checkpoint whose model config equals the current one, keeping
  // the set-up; the page's pretrained starting points. Error reply (model untouched) otherwise.
  std::string load_pretrained(std::span<const uint8_t> bytes);
  std::string curves_csv() const;

  // ---- the main loop ----
  // Runs training steps for about budget_ms (when training); returns the milliseconds used.
  double train_slice(double budget_ms);
  // Advances time-based things (replay animation, periodic sample refresh while training).
  void tick(double dt_ms);
  // The UI reports its frame time so state() can tell fps.
  void report_frame(double frame_ms);

  // ---- what the panels read ----
  bool has_model() const;
  const GenerativeModel* model() const;
  const Setup& setup() const { return setup_; }
  const std::vector<HyperParam>& schema() const;
  bool training() const { return training_; }
  int64_t step() const;
  double epoch() const;
  int64_t train_until() const { return until_; }
  double img_per_sec() const { return img_per_sec_; }
  double fps() const { return fps_; }
  const std::string& message() const { return message_; }
  bool message_is_error() const { return message_error_; }

  const ImageGrid& samples() const { return samples_; }
  float temperature() const { return temperature_; }
  int sample_label() const { return sample_label_; }
  const Curves& curves() const { return curves_; }

  bool has_latent() const;             // AE/VAE
  int latent_size() const;
  int latent_dim_x() const { return latent_dims_[0]; }
  int latent_dim_y() const { return latent_dims_[1]; }
  const ImageGrid& latent_map() const { return latent_map_; }       // grid x grid decoded images
  const std::vector<LatentPoint>& latent_points() const { return latent_points_; }
  const ImageGrid& interpolation() const { return interpolation_; }
  const ImageGrid& traversal() const { return traversal_; }

  bool autoregressive() const;         // PixelCNN family
  const Replay& replay() const { return replay_; }
  const ReceptiveField& receptive_field() const { return receptive_; }

  // The drawing pad [H*W] in [0,1] (the panel may write into it, then call command score/complete).
  std::vector<float>& drawing() { return drawing_; }
  const ImageGrid& reconstruction() const { return reconstruction_; }
  const ImageGrid& completion() const { return completion_; }
  const DrawingScore& drawing_score() const { return drawing_score_; }
  const std::vector<double>& test_scores() const { return test_scores_; }  // sorted ascending (nats)

  const std::vector<BoardEntry>& board() const { return board_; }

  const std::string& panel() const { return panel_; }
  bool is_locked(const std::string& control) const { return locked_.count(control) > 0; }
  bool is_hidden(const std::string& control) const { return hidden_.count(control) > 0; }

  // Test images of the current data set as [n,1,H,W] in [0,1] (for pickers); empty without a model.
  const ImageGrid& test_images() const { return test_images_; }

 private:
  // Implementation details live in playground.cpp (private helpers are declared there as statics
  // or here when they need the members).
  struct Internals;
  struct Ops;
  std::unique_ptr<Internals> in_;  // trainer, RNG streams, stored files, timers

  Setup setup_;
  std::string data_dir_;
  std::vector<std::string> missing_;
  bool training_ = false;
  int64_t until_ = -1;
  double img_per_sec_ = 0, fps_ = 0;
  std::string message_;
  bool message_error_ = false;
  ImageGrid samples_, latent_map_, interpolation_, traversal_, reconstruction_, completion_, test_images_;
  float temperature_ = 1.f;
  int sample_label_ = -1;
  Curves curves_;
  int latent_dims_[2] = {0, 1};
  std::vector<LatentPoint> latent_points_;
  Replay replay_;
  ReceptiveField receptive_;
  std::vector<float> drawing_;
  DrawingScore drawing_score_;
  std::vector<double> test_scores_;
  std::vector<BoardEntry> board_;
  std::string panel_ = "samples";
  std::set<std::string> locked_, hidden_;
};

}  // namespace genlab
