// ImageRenderer / GridView: see image_renderer.h. The shaders are read from the app's packed file
// system (/shaders, from the repository's shaders/ folder) and compiled once at startup; a compile
// or link failure throws with the driver's log so the page shows it.
#include "image_renderer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "error.h"

namespace genlab::web {

namespace {

std::string read_shader_file(const std::string& name) {
  const std::string path = "/shaders/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("shader file " + path + " is missing from the app package");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

GLuint compile_shader(GLenum type, const std::string& source, const std::string& name) {
  GLuint shader = glCreateShader(type);
  const char* text = source.c_str();
  glShaderSource(shader, 1, &text, nullptr);
  glCompileShader(shader);
  GLint ok = 0;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    char log[2048] = {0};
    glGetShaderInfoLog(shader, sizeof(log) - 1, nullptr, log);
    glDeleteShader(shader);
    throw Error("shader " + name + " does not compile: " + log);
  }
  return shader;
}

GLuint link_program(const std::vector<std::string>& vertex_files, const std::vector<std::string>& fragment_files) {
  const std::string header = "#version 300 es\nprecision highp float;\nprecision highp int;\n";
  std::string vs = header, fs = header, names;
  for (const auto& f : vertex_files) vs += read_shader_file(f) + "\n";
  for (const auto& f : fragment_files) {
    fs += read_shader_file(f) + "\n";
    names += f + " ";
  }
  GLuint v = compile_shader(GL_VERTEX_SHADER, vs, vertex_files.back());
  GLuint f = compile_shader(GL_FRAGMENT_SHADER, fs, fragment_files.back());
  GLuint program = glCreateProgram();
  glAttachShader(program, v);
  glAttachShader(program, f);
  glLinkProgram(program);
  glDeleteShader(v);
  glDeleteShader(f);
  GLint ok = 0;
  glGetProgramiv(program, GL_LINK_STATUS, &ok);
  if (!ok) {
    char log[2048] = {0};
    glGetProgramInfoLog(program, sizeof(log) - 1, nullptr, log);
    glDeleteProgram(program);
    throw Error("shader program (" + names + ") does not link: " + log);
  }
  return program;
}

void texture_nearest(GLuint tex) {
  glBindTexture(GL_TEXTURE_2D, tex);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

}  // namespace

ImageRenderer::ImageRenderer() {
  grid_program_ = link_program({"fullscreen_quad.vert.glsl"}, {"colormaps.glsl", "image_grid.frag.glsl"});
  glGenVertexArrays(1, &vao_);
}

ImageRenderer::~ImageRenderer() {
  if (grid_program_) glDeleteProgram(grid_program_);
  if (vao_) glDeleteVertexArrays(1, &vao_);
}

GridView::~GridView() {
  GLuint textures[3] = {images_tex_, overlay_tex_, target_tex_};
  glDeleteTextures(3, textures);
  if (fbo_) glDeleteFramebuffers(1, &fbo_);
}

void GridView::set_images(const float* pixels, int n, int c, int h, int w, int cols, int64_t version) {
  if (n <= 0 || h <= 0 || w <= 0 || !pixels || (c != 1 && c != 3)) {
    n_ = 0;
    return;
  }
  if (cols <= 0) cols = std::max(1, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n)))));
  cols = std::min(cols, n);
  const int rows = (n + cols - 1) / cols;
  if (version == version_ && n == n_ && c == c_ && h == h_ && w == w_ && cols == cols_) return;
  n_ = n, c_ = c, h_ = h, w_ = w, cols_ = cols, rows_ = rows;
  version_ = version;
  ++content_serial_;
  // Atlas: cell (col, row) at (col*w, row*h), RGBA float (grey replicated).
  const int aw = cols * w, ah = rows * h;
  std::vector<float> atlas(static_cast<size_t>(aw) * ah * 4, 0.f);
  const size_t plane = static_cast<size_t>(h) * w;
  for (int i = 0; i < n; ++i) {
    const float* img = pixels + static_cast<size_t>(i) * c * plane;
    const int ox = (i % cols) * w, oy = (i / cols) * h;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float* dst = &atlas[(static_cast<size_t>(oy + y) * aw + ox + x) * 4];
        const size_t p = static_cast<size_t>(y) * w + x;
        for (int k = 0; k < 3; ++k) dst[k] = img[(c == 3 ? k : 0) * plane + p];
        dst[3] = 1.f;
      }
  }
  if (!images_tex_) glGenTextures(1, &images_tex_);
  texture_nearest(images_tex_);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA32F, aw, ah, 0, GL_RGBA, GL_FLOAT, atlas.data());
  overlay_version_ = -1;  // the overlay's atlas layout follows the images
}

void GridView::set_overlay(const std::vector<uint32_t>& rgba, int64_t version) {
  if (n_ == 0 || rgba.size() != static_cast<size_t>(n_) * h_ * w_) {
    clear_overlay();
    return;
  }
  if (has_overlay_ && version == overlay_version_) return;
  overlay_version_ = version;
  has_overlay_ = true;
  ++content_serial_;
  const int aw = cols_ * w_, ah = rows_ * h_;
  std::vector<uint32_t> atlas(static_cast<size_t>(aw) * ah, 0u);
  for (int i = 0; i < n_; ++i) {
    const int ox = (i % cols_) * w_, oy = (i / cols_) * h_;
    for (int y = 0; y < h_; ++y)
      for (int x = 0; x < w_; ++x)
        atlas[static_cast<size_t>(oy + y) * aw + ox + x] = rgba[(static_cast<size_t>(i) * h_ + y) * w_ + x];
  }
  if (!overlay_tex_) glGenTextures(1, &overlay_tex_);
  texture_nearest(overlay_tex_);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, aw, ah, 0, GL_RGBA, GL_UNSIGNED_BYTE, atlas.data());
}

void GridView::clear_overlay() {
  if (has_overlay_) ++content_serial_;
  has_overlay_ = false;
}

ImVec2 GridView::fit(ImVec2 avail, const GridStyle& style) const {
  if (n_ == 0) return ImVec2(std::max(avail.x, 1.f), std::max(std::min(avail.y, avail.x), 1.f));
  // Largest scale that fits; whole device pixels per image pixel when they are big (even pixels).
  const float gap = style.gap;
  float s = std::min((avail.x - gap * (cols_ - 1)) / (cols_ * w_), (avail.y - gap * (rows_ - 1)) / (rows_ * h_));
  s = std::max(s, 0.05f);
  const float dpr = fit_dpr_;
  if (s * dpr >= 4.f) s = std::floor(s * dpr) / dpr;  // below that, filling the space matters more
  return ImVec2(std::floor(cols_ * w_ * s + gap * (cols_ - 1)), std::floor(rows_ * h_ * s + gap * (rows_ - 1)));
}

void GridView::render(ImageRenderer& r, int out_w, int out_h, const GridStyle& st) {
  if (!target_tex_) {
    glGenTextures(1, &target_tex_);
    glGenFramebuffers(1, &fbo_);
  }
  if (out_w != target_w_ || out_h != target_h_) {
    glBindTexture(GL_TEXTURE_2D, target_tex_);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, out_w, out_h, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, target_tex_, 0);
    target_w_ = out_w, target_h_ = out_h;
  }
  glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
  glViewport(0, 0, out_w, out_h);
  glDisable(GL_SCISSOR_TEST);
  glDisable(GL_BLEND);
  glDisable(GL_DEPTH_TEST);
  glDisable(GL_CULL_FACE);
  const GLuint prog = r.grid_program();
  glUseProgram(prog);
  glActiveTexture(GL_TEXTURE0);
  glBindTexture(GL_TEXTURE_2D, images_tex_);
  glUniform1i(glGetUniformLocation(prog, "u_images"), 0);
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, has_overlay_ ? overlay_tex_ : images_tex_);
  glUniform1i(glGetUniformLocation(prog, "u_overlay"), 1);
  glActiveTexture(GL_TEXTURE0);
  glUniform2i(glGetUniformLocation(prog, "u_cell_size"), w_, h_);
  glUniform2i(glGetUniformLocation(prog, "u_grid"), cols_, rows_);
  glUniform1i(glGetUniformLocation(prog, "u_count"), n_);
  glUniform2f(glGetUniformLocation(prog, "u_out_size"), static_cast<float>(out_w), static_cast<float>(out_h));
  glUniform1f(glGetUniformLocation(prog, "u_gap"), std::round(st.gap * r.device_pixel_ratio));
  glUniform2f(glGetUniformLocation(prog, "u_range"), st.lo, st.hi);
  glUniform1i(glGetUniformLocation(prog, "u_colormap"), static_cast<int>(st.colormap));
  glUniform1i(glGetUniformLocation(prog, "u_has_overlay"), has_overlay_ ? 1 : 0);
  glUniform3i(glGetUniformLocation(prog, "u_highlight"), st.highlight_cell, st.highlight_x, st.highlight_y);
  glUniform1i(glGetUniformLocation(prog, "u_selected"), st.selected_cell);
  glUniform1i(glGetUniformLocation(prog, "u_pixel_grid"), st.pixel_grid ? 1 : 0);
  glUniform4f(glGetUniformLocation(prog, "u_background"), st.background.x, st.background.y, st.background.z,
              st.background.w);
  glBindVertexArray(r.empty_vao());
  glDrawArrays(GL_TRIANGLES, 0, 6);
  glBindVertexArray(0);
  glUseProgram(0);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
}

GridHit GridView::draw(ImageRenderer& r, ImVec2 size, const GridStyle& st, const char* id) {
  GridHit hit;
  size.x = std::max(1.f, std::floor(size.x));
  size.y = std::max(1.f, std::floor(size.y));
  if (n_ == 0) {
    ImGui::PushID(id);
    ImGui::InvisibleButton("empty", size);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    dl->AddRect(a, b, IM_COL32(90, 90, 100, 255), 4.f);
    const char* text = "(nothing yet)";
    const ImVec2 ts = ImGui::CalcTextSize(text);
    dl->AddText(ImVec2((a.x + b.x - ts.x) / 2, (a.y + b.y - ts.y) / 2), IM_COL32(140, 140, 150, 255), text);
    ImGui::PopID();
    return hit;
  }
  const float dpr = r.device_pixel_ratio;
  fit_dpr_ = dpr;
  const int out_w = std::max(1, static_cast<int>(std::lround(size.x * dpr)));
  const int out_h = std::max(1, static_cast<int>(std::lround(size.y * dpr)));
  char key[320];
  std::snprintf(key, sizeof(key), "%lld|%dx%d|%.2f|%d|%.4f|%.4f|%d,%d,%d|%d|%d|%.3f,%.3f,%.3f|%.2f",
                static_cast<long long>(content_serial_), out_w, out_h, st.gap, static_cast<int>(st.colormap), st.lo,
                st.hi, st.highlight_cell, st.highlight_x, st.highlight_y, st.selected_cell, st.pixel_grid ? 1 : 0,
                st.background.x, st.background.y, st.background.z, dpr);
  if (rendered_key_ != key) {
    render(r, out_w, out_h, st);
    rendered_key_ = key;
  }
  ImGui::PushID(id);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(target_tex_)), size);
  hit.hovered = ImGui::IsItemHovered();
  hit.clicked = hit.hovered && ImGui::IsMouseReleased(ImGuiMouseButton_Left);
  if (hit.hovered) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const float gap = std::round(st.gap * dpr) / dpr;
    const float cw = (size.x - gap * (cols_ - 1)) / cols_, ch = (size.y - gap * (rows_ - 1)) / rows_;
    const float px = m.x - origin.x, py = m.y - origin.y;
    const int cx = static_cast<int>(std::floor(px / (cw + gap))), cy = static_cast<int>(std::floor(py / (ch + gap)));
    const float wx = px - cx * (cw + gap), wy = py - cy * (ch + gap);
    if (cx >= 0 && cy >= 0 && cx < cols_ && cy < rows_ && wx < cw && wy < ch && cy * cols_ + cx < n_) {
      hit.cell = cy * cols_ + cx;
      hit.fx = wx / cw * w_;
      hit.fy = wy / ch * h_;
      hit.x = std::clamp(static_cast<int>(hit.fx), 0, w_ - 1);
      hit.y = std::clamp(static_cast<int>(hit.fy), 0, h_ - 1);
    }
  }
  ImGui::PopID();
  return hit;
}

}  // namespace genlab::web
