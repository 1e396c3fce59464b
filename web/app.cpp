// App: the shell around the panels. Keeps the canvas backing store at CSS size * devicePixelRatio
// (crisp on HiDPI), lays ImGui out in CSS pixels with DisplayFramebufferScale = DPR, rasterises the
// TrueType font at the device resolution, and turns touch events into ImGui mouse input.
#include "app.h"

#include <emscripten.h>
#include <emscripten/html5.h>

#include <GLES3/gl3.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"

namespace genlab::web {

namespace {

constexpr float kBaseFontPx = 17.f;  // readable on a laptop and a tablet
constexpr const char* kFontPath = "/fonts/ui.ttf";

// Touch state fed by html5 callbacks (coordinates in CSS pixels relative to the canvas).
struct TouchState {
  bool active = false;       // a finger is down
  bool just_pressed = false; // pressed since the last frame (so a quick tap is never missed)
  float x = 0, y = 0;
  bool seen = false;         // any touch this session: mouse position then follows the finger
};
TouchState g_touch;

EM_BOOL on_touch(int type, const EmscriptenTouchEvent* e, void*) {
  const EmscriptenTouchPoint* t = nullptr;
  for (int i = 0; i < e->numTouches; ++i)
    if (e->touches[i].isChanged) { t = &e->touches[i]; break; }
  if (!t) return EM_FALSE;
  g_touch.seen = true;
  g_touch.x = static_cast<float>(t->targetX);
  g_touch.y = static_cast<float>(t->targetY);
  if (type == EMSCRIPTEN_EVENT_TOUCHSTART) {
    g_touch.active = true;
    g_touch.just_pressed = true;
  } else if (type == EMSCRIPTEN_EVENT_TOUCHEND || type == EMSCRIPTEN_EVENT_TOUCHCANCEL) {
    g_touch.active = false;
  }
  return EM_TRUE;  // no emulated mouse events, no page scroll/zoom
}

}  // namespace

CanvasSize query_canvas_size() {
  CanvasSize s;
  emscripten_get_element_css_size("#canvas", &s.css_width, &s.css_height);
  if (s.css_width < 1) s.css_width = 1;
  if (s.css_height < 1) s.css_height = 1;
  s.device_pixel_ratio = static_cast<float>(std::clamp(emscripten_get_device_pixel_ratio(), 0.5, 4.0));
  s.backing_width = std::max(1, static_cast<int>(std::lround(s.css_width * s.device_pixel_ratio)));
  s.backing_height = std::max(1, static_cast<int>(std::lround(s.css_height * s.device_pixel_ratio)));
  return s;
}

App::App(GLFWwindow* window) : window_(window) {
  emscripten_set_touchstart_callback("#canvas", nullptr, true, on_touch);
  emscripten_set_touchmove_callback("#canvas", nullptr, true, on_touch);
  emscripten_set_touchend_callback("#canvas", nullptr, true, on_touch);
  emscripten_set_touchcancel_callback("#canvas", nullptr, true, on_touch);

  ImGuiStyle& style = ImGui::GetStyle();
  ImGui::StyleColorsDark();
  style.WindowRounding = 0.f;
  style.FrameRounding = 4.f;
  style.GrabRounding = 4.f;
  style.FramePadding = ImVec2(8, 5);
  style.ItemSpacing = ImVec2(10, 7);
  style.GrabMinSize = 14.f;
  style.ScrollbarSize = 18.f;  // finger-sized
  style.TouchExtraPadding = ImVec2(2, 2);

  follow_canvas_size();
  last_frame_time_ = emscripten_get_now();
}

App::~App() = default;

void App::rebuild_fonts(float dpr) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFontConfig cfg;
  cfg.OversampleH = 2;
  cfg.OversampleV = 1;
  // Rasterise at device resolution and scale back in layout: crisp text on HiDPI screens.
  ImFont* font = io.Fonts->AddFontFromFileTTF(kFontPath, kBaseFontPx * dpr, &cfg);
  if (!font) {
    std::fprintf(stderr, "genlab: font %s missing, falling back to the built-in bitmap font\n", kFontPath);
    io.Fonts->AddFontDefault();
    io.FontGlobalScale = 1.f;
  } else {
    io.FontGlobalScale = 1.f / dpr;
  }
  ImGui_ImplOpenGL3_DestroyFontsTexture();
  ImGui_ImplOpenGL3_CreateFontsTexture();
  font_dpr_ = dpr;
}

void App::follow_canvas_size() {
  const CanvasSize s = query_canvas_size();
  int w = 0, h = 0;
  glfwGetWindowSize(window_, &w, &h);
  if (w != s.backing_width || h != s.backing_height) glfwSetWindowSize(window_, s.backing_width, s.backing_height);
  canvas_ = s;
  if (s.device_pixel_ratio != font_dpr_) rebuild_fonts(s.device_pixel_ratio);
}

void App::apply_touch_input() {
  // The GLFW backend works in backing pixels (the canvas size GLFW knows); ImGui lays out in CSS px.
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(canvas_.css_width), static_cast<float>(canvas_.css_height));
  io.DisplayFramebufferScale = ImVec2(canvas_.device_pixel_ratio, canvas_.device_pixel_ratio);
  if (io.MousePos.x != -FLT_MAX)
    io.MousePos = ImVec2(io.MousePos.x / canvas_.device_pixel_ratio, io.MousePos.y / canvas_.device_pixel_ratio);
  if (g_touch.seen) {
    io.MousePos = ImVec2(g_touch.x, g_touch.y);
    // A tap that starts and ends between two frames still reads as held for one frame.
    io.MouseDown[0] = g_touch.active || g_touch.just_pressed;
    g_touch.just_pressed = false;
  }
}

void App::frame() {
  const double now = emscripten_get_now();
  const double dt_ms = now - last_frame_time_;
  last_frame_time_ = now;
  if (dt_ms > 0) fps_ = fps_ == 0.0 ? 1000.0 / dt_ms : 0.95 * fps_ + 0.05 * (1000.0 / dt_ms);

  follow_canvas_size();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  apply_touch_input();
  ImGui::NewFrame();

  draw_ui();

  ImGui::Render();
  glViewport(0, 0, canvas_.backing_width, canvas_.backing_height);
  glClearColor(0.106f, 0.114f, 0.133f, 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

  ++frame_count_;
  if (frame_count_ == 3) EM_ASM({ if (window.genlabShell) { window.genlabShell.started = true; window.genlabShell.ready(); } });
}

void App::draw_ui() {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->Pos);
  ImGui::SetNextWindowSize(vp->Size);
  ImGui::Begin("genlab", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  ImGui::Text("genlab");
  ImGui::SameLine();
  ImGui::TextDisabled("generative models playground");
  ImGui::SameLine(ImGui::GetWindowWidth() - 260);
  ImGui::Text("%.0f fps  %dx%d @%.2gx", fps_, canvas_.backing_width, canvas_.backing_height,
              canvas_.device_pixel_ratio);
  ImGui::Separator();
  if (ImGui::BeginTabBar("panels")) {
    const char* names[] = {"Model & training", "Samples", "Latent space", "Generation order", "Draw & complete",
                           "Likelihood board"};
    for (const char* name : names) {
      if (ImGui::BeginTabItem(name)) {
        ImGui::TextWrapped("%s: loading the engine...", name);
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace genlab::web
