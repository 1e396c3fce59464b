// The playground's application object: owns the per-frame shell work (canvas size and
// devicePixelRatio, crisp fonts, touch input, fps), the time-sliced training loop and the six
// panels. Panels live in web/panel_*.cpp and draw through ImGui; images go through ImageRenderer.
#pragma once
#include <GLFW/glfw3.h>

#include <cstdint>
#include <string>

namespace genlab::web {

// Size of the page's canvas: CSS pixels (what ImGui lays out in) and backing pixels (CSS * DPR).
struct CanvasSize {
  double css_width = 0, css_height = 0;
  float device_pixel_ratio = 1.f;
  int backing_width = 1, backing_height = 1;
};
CanvasSize query_canvas_size();

class App {
 public:
  explicit App(GLFWwindow* window);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // One browser frame: input, training slice, UI, render.
  void frame();

 private:
  void follow_canvas_size();
  void rebuild_fonts(float device_pixel_ratio);
  void apply_touch_input();
  void draw_ui();

  GLFWwindow* window_;
  CanvasSize canvas_;
  float font_dpr_ = 0.f;
  int64_t frame_count_ = 0;
  double fps_ = 0.0;
  double last_frame_time_ = 0.0;
};

}  // namespace genlab::web
