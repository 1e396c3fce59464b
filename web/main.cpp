// Entry point of the browser playground: creates the GLFW window on the page's canvas (WebGL2),
// sets up Dear ImGui with the TrueType UI font (no ini file on the web) and hands every browser
// frame to App. Failures are shown in the page's status box instead of leaving it blank.
#include <emscripten.h>
#include <emscripten/html5.h>

#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>

#include <cstdio>
#include <exception>
#include <memory>

#include "app.h"
#include "imgui.h"
#include "imgui_impl_glfw.h"
#include "imgui_impl_opengl3.h"

namespace {

std::unique_ptr<genlab::web::App> g_app;

void show_startup_failure(const char* message) {
  EM_ASM({ if (window.genlabShell) window.genlabShell.fail(UTF8ToString($0)); }, message);
}

void main_loop_frame() {
  try {
    g_app->frame();
  } catch (const std::exception& e) {
    // A frame must never take the module down: report and keep running.
    std::fprintf(stderr, "genlab: frame error: %s\n", e.what());
  }
}

}  // namespace

int main() {
  if (!glfwInit()) {
    show_startup_failure("GLFW could not be initialised.");
    return 1;
  }
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  const genlab::web::CanvasSize size = genlab::web::query_canvas_size();
  GLFWwindow* window = glfwCreateWindow(size.backing_width, size.backing_height, "genlab", nullptr, nullptr);
  if (!window) {
    show_startup_failure("No WebGL2 context: this browser or GPU does not support WebGL2.");
    return 1;
  }
  glfwMakeContextCurrent(window);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // nothing written on the web
  io.LogFilename = nullptr;
  io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 300 es");

  try {
    g_app = std::make_unique<genlab::web::App>(window);
  } catch (const std::exception& e) {
    show_startup_failure(e.what());
    return 1;
  }
  emscripten_set_main_loop(main_loop_frame, 0, false);
  return 0;
}
