// The playground's application object: owns the per-frame shell work (canvas size and
// devicePixelRatio, crisp fonts, touch input, fps), the time-sliced training loop and the six
// panels. It holds no model: everything goes through the Playground API (engine/playground.h),
// reads of its typed accessors and command(json) for actions, exactly what window.genlab uses.
// Each panel is one member function defined in its own web/panel_*.cpp; images are drawn by
// ImageRenderer (GLSL programs from shaders/).
#pragma once
#include <GLFW/glfw3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "image_renderer.h"
#include "json.h"
#include "playground.h"

namespace genlab::web {

// Size of the page's canvas: CSS pixels (what ImGui lays out in) and backing pixels (CSS * DPR).
struct CanvasSize {
  double css_width = 0, css_height = 0;
  float device_pixel_ratio = 1.f;
  int backing_width = 1, backing_height = 1;
};
CanvasSize query_canvas_size();

// Adapts the training time per frame so the UI keeps >= ~55 fps (12 ms at most, 2 ms at least,
// one optimisation step at least: a step is the smallest slice). It only shrinks when the page's
// own work (UI + training) is what makes frames slow; when the frame interval is long for other
// reasons (software GL, compositor) it keeps training, up to half of the interval.
struct TrainBudget {
  double budget_ms = 8.0;
  double used_ms = 0.0;           // last slice
  double wall_share = 0.0;        // fraction of wall time spent training (smoothed)
  double interval_ms = 0.0;       // frame interval (smoothed)
  void adapt(double frame_interval_ms, double ui_work_ms);
};

class App {
 public:
  explicit App(GLFWwindow* window);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // One browser frame: input, training slice, UI, render.
  void frame();
  // Page visibility (visibilitychange): hidden tabs get no animation frames.
  void on_visibility(bool hidden);
  // Timer tick while the tab is hidden (keeps training going in the background when enabled).
  void background_tick();

 private:
  // ---- shell (app.cpp) ----
  void follow_canvas_size();
  void rebuild_fonts(float device_pixel_ratio);
  void apply_touch_input();
  void draw_ui();
  void draw_header();
  // Runs a playground command; errors go to the message line. Returns the parsed reply.
  Json run(const Json& command);
  Json run(const char* cmd) { Json c = Json::object(); c["cmd"] = cmd; return run(c); }
  bool locked(const char* control) const { return pg_.is_locked(control); }
  bool hidden(const char* control) const { return pg_.is_hidden(control); }
  float ui_width() const;  // content width in CSS px

  // ---- panels (web/panel_*.cpp) ----
  void panel_training();
  void panel_samples();
  void panel_latent();
  void panel_order();
  void panel_draw();
  void panel_board();

  // panel_training.cpp helpers
  void sync_setup_editor();
  void draw_setup_editor();
  void draw_training_controls();
  void draw_curves(float height);
  void draw_kl_bars(float height);

  GLFWwindow* window_;
  Playground& pg_;
  std::unique_ptr<ImageRenderer> renderer_;
  CanvasSize canvas_;
  float font_dpr_ = 0.f;
  int64_t frame_count_ = 0;
  double fps_ = 0.0;
  double last_frame_time_ = 0.0;
  double ui_work_ms_ = 0.0;      // CPU time of a frame without training (smoothed)
  double rate_t0_ms_ = 0.0;      // wall-clock training rate: steps since rate_t0_ms_
  int64_t rate_step0_ = 0;
  double wall_steps_per_sec_ = 0.0;
  TrainBudget budget_;
  bool tab_hidden_ = false;
  bool train_in_background_ = true;
  bool paused_by_hiding_ = false;
  double hidden_since_ms_ = 0.0;
  int64_t steps_when_hidden_ = 0;
  std::string shell_note_;       // e.g. what happened while the tab was hidden
  std::string last_error_;       // of the last failed command
  double last_error_time_ = -1e9;
  std::string open_panel_;       // the panel the tab bar shows

  // Set-up editor: an edited copy of the playground's set-up, applied with "Apply".
  Setup edit_;
  Setup seen_setup_;
  bool edit_dirty_ = false;
  int64_t target_steps_ = 2000;
  bool curves_in_bits_ = false;
  bool curves_log_y_ = false;

  // Samples
  GridView samples_view_;
  int sample_count_ = 36;
  float sample_temperature_ = 1.f;
  int sample_label_ = -1;
  int enlarged_sample_ = -1;
  GridView enlarged_view_;
  double last_auto_refresh_ms_ = 0.0;
  bool auto_refresh_ = true;
  int64_t samples_for_step_ = -1;

  // Latent space
  GridView latent_map_view_, interpolation_view_, traversal_view_, anim_view_, pick_a_view_, pick_b_view_;
  int latent_grid_ = 15;
  float latent_range_ = 3.f;
  int latent_dims_[2] = {0, 1};
  int interp_a_ = 0, interp_b_ = 250;  // test split is in class order: a 0 and a 2
  int interp_steps_ = 10;
  bool interp_spherical_ = false;
  bool interp_animate_ = true;
  double interp_anim_t_ = 0.0;
  int traverse_dim_ = 0, traverse_index_ = 0, traverse_steps_ = 11;
  float traverse_range_ = 3.f;
  bool pick_for_a_ = true;
  int64_t latent_requested_for_step_ = -1;

  // Generation order
  GridView replay_view_, wavefront_view_;
  float replay_speed_ = 120.f;
  int replay_label_ = -1;
  float replay_temperature_ = 1.f;
  int replay_seed_ = 1;
  int receptive_requested_pixel_ = -2;
  bool show_receptive_ = true;
  bool follow_cursor_ = false;   // receptive field of the pixel under the pointer instead of the current one

  // Draw & complete
  GridView drawing_view_, reconstruction_view_, completion_view_;
  float brush_radius_ = 1.8f;
  bool erasing_ = false;
  bool drawing_changed_ = false;
  double last_score_ms_ = 0.0;
  int complete_rows_ = 14;
  int draw_test_index_ = 0;
  bool test_scores_requested_ = false;
  std::vector<float> local_drawing_;
};

}  // namespace genlab::web
