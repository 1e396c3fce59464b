// App: the shell around the panels. Keeps the canvas backing store at CSS size * devicePixelRatio
// (crisp on HiDPI), lays ImGui out in CSS pixels with DisplayFramebufferScale = DPR, rasterises the
// TrueType font at the device resolution, turns touch events into ImGui mouse input, and runs
// training in time slices between frames (adaptive budget, visible behaviour when the tab hides).
#include "app.h"

#include <emscripten.h>
#include <emscripten/html5.h>

#include <GLES3/gl3.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "bindings.h"
#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"
#include "imgui_internal.h"  // ErrorCheckEndFrameRecover
#include "parallel.h"

namespace genlab::web {

namespace {

constexpr float kBaseFontPx = 17.f;  // readable on a laptop and a tablet
constexpr const char* kFontPath = "/fonts/ui.ttf";

// Touch state fed by html5 callbacks (coordinates in CSS pixels relative to the canvas).
struct TouchState {
  bool active = false;       // a finger is down
  bool just_pressed = false; // pressed since the last frame (so a quick tap is never missed)
  float x = 0, y = 0;
  bool seen = false;         // a touch is in progress or just ended: the mouse position follows the finger
  int frames_since_release = 0;
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
    g_touch.frames_since_release = 0;
    g_touch.active = true;
    g_touch.just_pressed = true;
  } else if (type == EMSCRIPTEN_EVENT_TOUCHEND || type == EMSCRIPTEN_EVENT_TOUCHCANCEL) {
    g_touch.active = false;
  }
  return EM_TRUE;  // no emulated mouse events, no page scroll/zoom
}

App* g_app_for_callbacks = nullptr;

EM_BOOL on_visibility_change(int, const EmscriptenVisibilityChangeEvent* e, void*) {
  if (g_app_for_callbacks) g_app_for_callbacks->on_visibility(e->hidden != 0);
  return EM_FALSE;
}

void on_background_timer(void*) {
  if (g_app_for_callbacks) g_app_for_callbacks->background_tick();
}

constexpr double kBackgroundSliceMs = 150.0;   // per timer tick while hidden (browsers throttle to ~1/s)
constexpr double kBackgroundIntervalMs = 250.0;

struct PanelTab {
  const char* name;   // playground panel name (URL, command "panel")
  const char* label;  // tab text
};
constexpr PanelTab kPanels[] = {{"train", "Model & training"}, {"samples", "Samples"},
                                {"latent", "Latent space"},    {"order", "Generation order"},
                                {"draw", "Draw & complete"},   {"board", "Likelihood board"}};

}  // namespace

void TrainBudget::adapt(double frame_interval_ms, double ui_work_ms) {
  // Shrink quickly when our own work makes frames slow, grow slowly when there is room. At 60 Hz
  // the cap is 12 ms; when frames are slow for other reasons (software WebGL, a busy GPU) training
  // may use up to half of the frame interval, since a smaller slice would not raise the fps.
  interval_ms = interval_ms == 0.0 ? frame_interval_ms : 0.9 * interval_ms + 0.1 * frame_interval_ms;
  const double ours = ui_work_ms + used_ms;
  if (frame_interval_ms > 20.0 && ours > 0.6 * frame_interval_ms) budget_ms *= 0.85;
  else if (frame_interval_ms < 18.0 || ours < 0.5 * frame_interval_ms) budget_ms += 0.25;
  const double cap = std::clamp(0.5 * interval_ms, 12.0, 40.0);
  budget_ms = std::clamp(budget_ms, 2.0, std::max(2.0, std::min(cap, cap + 3.0 - ui_work_ms)));
  const double share = std::clamp(used_ms / std::max(frame_interval_ms, 1.0), 0.0, 1.0);
  wall_share = 0.9 * wall_share + 0.1 * share;
}

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

App::App(GLFWwindow* window) : window_(window), pg_(web_playground()) {
  g_app_for_callbacks = this;
  emscripten_set_visibilitychange_callback(nullptr, false, on_visibility_change);
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
  renderer_ = std::make_unique<ImageRenderer>();
  last_frame_time_ = emscripten_get_now();
  // Empty: the first frame then selects the playground's panel (samples, or the link's) instead of
  // letting the tab bar's default first tab override it.
  open_panel_.clear();
}

App::~App() { g_app_for_callbacks = nullptr; }

Json App::run(const Json& command) {
  const std::string reply_text = pg_.command(command.dump());
  Json reply;
  try {
    reply = Json::parse(reply_text);
  } catch (const std::exception& e) {
    reply = Json::object();
    reply["ok"] = false;
    reply["error"] = std::string("unreadable reply: ") + e.what();
  }
  const Json* ok = reply.find("ok");
  if (!ok || !ok->is_bool() || !ok->as_bool()) {
    const Json* err = reply.find("error");
    last_error_ = err && err->is_string() ? err->as_string() : std::string("command failed");
    last_error_time_ = emscripten_get_now();
  }
  return reply;
}

float App::ui_width() const { return ImGui::GetContentRegionAvail().x; }

void App::on_visibility(bool hidden) {
  if (hidden == tab_hidden_) return;
  tab_hidden_ = hidden;
  const double now = emscripten_get_now();
  if (hidden) {
    hidden_since_ms_ = now;
    steps_when_hidden_ = pg_.step();
    if (pg_.training()) {
      if (train_in_background_) {
        // No animation frames while hidden: keep training from a (throttled) timer instead.
        emscripten_set_timeout(on_background_timer, kBackgroundIntervalMs, nullptr);
      } else {
        run("pause");
        paused_by_hiding_ = true;
      }
    }
  } else {
    char note[200];
    const double secs = (now - hidden_since_ms_) / 1000.0;
    if (paused_by_hiding_) {
      paused_by_hiding_ = false;
      Json c = Json::object();
      c["cmd"] = "train";
      if (pg_.train_until() > 0) c["until"] = static_cast<double>(pg_.train_until());
      run(c);
      std::snprintf(note, sizeof(note), "Training was paused while the tab was hidden (%.0f s); resumed.", secs);
      shell_note_ = note;
    } else if (pg_.step() != steps_when_hidden_) {
      std::snprintf(note, sizeof(note), "While the tab was hidden (%.0f s) training continued: %lld steps.", secs,
                    static_cast<long long>(pg_.step() - steps_when_hidden_));
      shell_note_ = note;
    }
  }
}

void App::background_tick() {
  if (!tab_hidden_ || !pg_.training()) return;
  try {
    pg_.train_slice(kBackgroundSliceMs);
    pg_.tick(kBackgroundIntervalMs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "genlab: background training error: %s\n", e.what());
  }
  emscripten_set_timeout(on_background_timer, kBackgroundIntervalMs, nullptr);
}

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
    // A tap that starts and ends between two frames still reads as held for one frame; the finger's
    // position stays two more frames (so the release lands on the button), then hover ends.
    io.MousePos = ImVec2(g_touch.x, g_touch.y);
    io.MouseDown[0] = g_touch.active || g_touch.just_pressed;
    g_touch.just_pressed = false;
    if (!g_touch.active && ++g_touch.frames_since_release > 2) {
      io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
      g_touch.seen = false;  // a real mouse takes over again
    }
    if (g_touch.active) g_touch.frames_since_release = 0;
  }
}

void App::frame() {
  const double now = emscripten_get_now();
  const double dt_ms = now - last_frame_time_;
  last_frame_time_ = now;
  if (dt_ms > 0) fps_ = fps_ == 0.0 ? 1000.0 / dt_ms : 0.95 * fps_ + 0.05 * (1000.0 / dt_ms);
  if (frame_count_ > 2 && dt_ms > 0 && dt_ms < 1000) {
    pg_.report_frame(dt_ms);
    if (pg_.training()) budget_.adapt(dt_ms, ui_work_ms_);
  }
  // Training first, within the frame's budget; then animations (replay, periodic sample refresh).
  budget_.used_ms = pg_.training() ? pg_.train_slice(budget_.budget_ms) : 0.0;
  pg_.tick(std::min(dt_ms, 100.0));
  if (now - rate_t0_ms_ >= 1000.0) {
    const int64_t step = pg_.step();
    wall_steps_per_sec_ = pg_.training() && step >= rate_step0_ ? (step - rate_step0_) * 1000.0 / (now - rate_t0_ms_) : 0.0;
    rate_t0_ms_ = now;
    rate_step0_ = step;
  }

  follow_canvas_size();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  apply_touch_input();
  ImGui::NewFrame();

  renderer_->device_pixel_ratio = canvas_.device_pixel_ratio;
  try {
    draw_ui();
  } catch (const std::exception& e) {
    // Close whatever the panel left open (windows, tables, groups) so the frame still renders.
    ImGui::ErrorCheckEndFrameRecover(nullptr);
    last_error_ = std::string("display error: ") + e.what();
    last_error_time_ = now;
  }

  ImGui::Render();
  glViewport(0, 0, canvas_.backing_width, canvas_.backing_height);
  const ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_WindowBg);
  glClearColor(bg.x, bg.y, bg.z, 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

  const double work = emscripten_get_now() - now - budget_.used_ms;
  ui_work_ms_ = ui_work_ms_ == 0.0 ? work : 0.95 * ui_work_ms_ + 0.05 * work;
  ++frame_count_;
  if (frame_count_ == 3) EM_ASM({ if (window.genlabShell) { window.genlabShell.started = true; window.genlabShell.ready(); } });
}

void App::draw_header() {
  ImGui::TextUnformatted("genlab");
  ImGui::SameLine();
  ImGui::TextDisabled("v%s", Playground::version().c_str());
  ImGui::SameLine();
  if (pg_.has_model()) {
    const Setup& st = pg_.setup();
    ImGui::Text("| %s on %s |", st.model.c_str(), st.dataset.c_str());
    ImGui::SameLine();
    if (pg_.training())
      ImGui::TextColored(ImVec4(0.45f, 0.9f, 0.45f, 1.f), "training");
    else
      ImGui::TextColored(ImVec4(0.95f, 0.75f, 0.35f, 1.f), "paused");
    ImGui::SameLine();
    ImGui::Text("step %lld  epoch %.2f  %.0f img/s", static_cast<long long>(pg_.step()), pg_.epoch(),
                pg_.img_per_sec());
  } else {
    ImGui::TextDisabled("| no model yet");
  }
  char perf[128];
  std::snprintf(perf, sizeof(perf), "%.0f fps  ui %.1f ms  train %.1f ms  %d thread%s", fps_, ui_work_ms_,
                budget_.used_ms, threads(), threads() == 1 ? "" : "s");
  // Right-aligned on the status line when it fits, else on a line of its own.
  const float w = ImGui::CalcTextSize(perf).x;
  const float status_end = ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x;
  const float right = ImGui::GetWindowContentRegionMax().x - w;
  if (status_end + 16.f < right) ImGui::SameLine(right);
  ImGui::TextDisabled("%s", perf);

  // Sharing and files: the JS glue (web/js/genlab_api.js) does the browser side. Clicks arrive here
  // within the browser's user-activation window, so clipboard and file dialogs are allowed.
  const bool api_ready = EM_ASM_INT({ return window.genlab ? 1 : 0; }) != 0;
  ImGui::BeginDisabled(!api_ready);
  if (ImGui::Button("Copy link")) EM_ASM({ window.genlab.copyLink(); });
  if (!pg_.is_hidden("export")) {
    ImGui::BeginDisabled(pg_.is_locked("export") || !pg_.has_model());
    ImGui::SameLine();
    if (ImGui::Button("Export model")) EM_ASM({ window.genlab.downloadModel(); });
    ImGui::SameLine();
    if (ImGui::Button("Samples PNG")) EM_ASM({ window.genlab.downloadPng('samples', 4); });
    ImGui::SameLine();
    if (ImGui::Button("Curves CSV")) EM_ASM({ window.genlab.downloadCsv(); });
    ImGui::EndDisabled();
  }
  if (!pg_.is_hidden("import")) {
    ImGui::SameLine();
    ImGui::BeginDisabled(pg_.is_locked("import"));
    if (ImGui::Button("Import...")) EM_ASM({ window.genlab.openImportDialog(); });
    ImGui::EndDisabled();
  }
  ImGui::EndDisabled();
  ImGui::SameLine();

  // Messages: playground errors (red), shell notes (what happened while hidden), otherwise nothing.
  const double now = emscripten_get_now();
  if (!last_error_.empty() && now - last_error_time_ < 10000.0) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.f, 0.45f, 0.4f, 1.f));
    ImGui::TextWrapped("%s", last_error_.c_str());
    ImGui::PopStyleColor();
  } else if (!pg_.message().empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, pg_.message_is_error() ? ImVec4(1.f, 0.45f, 0.4f, 1.f)
                                                                : ImVec4(0.6f, 0.7f, 0.8f, 1.f));
    ImGui::AlignTextToFramePadding();
    ImGui::TextWrapped("%s", pg_.message().c_str());
    ImGui::PopStyleColor();
  } else {
    ImGui::NewLine();
  }
  if (!shell_note_.empty()) {
    ImGui::TextColored(ImVec4(0.95f, 0.75f, 0.35f, 1.f), "%s", shell_note_.c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("ok")) shell_note_.clear();
  }
}

void App::draw_ui() {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->Pos);
  ImGui::SetNextWindowSize(vp->Size);
  // No window background: glClear paints the same colour, saving a full-screen blended quad (fill
  // rate is what limits software WebGL such as SwiftShader).
  ImGui::Begin("genlab", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoBackground);
  draw_header();
  ImGui::Separator();
  const std::string want = pg_.panel();
  const bool forced = want != open_panel_;
  if (ImGui::BeginTabBar("panels", ImGuiTabBarFlags_FittingPolicyScroll)) {
    for (const PanelTab& tab : kPanels) {
      // Instructor links hide or lock whole panels by name ("train" names the training controls).
      const bool is_train = std::string(tab.name) == "train";
      if (!is_train && pg_.is_hidden(tab.name)) continue;
      const ImGuiTabItemFlags flags = (forced && want == tab.name) ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(tab.label, nullptr, flags)) {
        if (open_panel_ != tab.name) {
          if (!forced) {
            Json c = Json::object();
            c["cmd"] = "panel";
            c["name"] = tab.name;
            run(c);
          }
          open_panel_ = tab.name;
        }
        ImGui::BeginChild("panel_body", ImVec2(0, 0), false, ImGuiWindowFlags_NoSavedSettings);
        const bool panel_locked = !is_train && pg_.is_locked(tab.name);
        ImGui::BeginDisabled(panel_locked);
        const std::string name = tab.name;
        if (name == "train") panel_training();
        else if (name == "samples") panel_samples();
        else if (name == "latent") panel_latent();
        else if (name == "order") panel_order();
        else if (name == "draw") panel_draw();
        else panel_board();
        ImGui::EndDisabled();
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace genlab::web
