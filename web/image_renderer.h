// GPU drawing of image grids for the panels: engine float buffers [n, C, H, W] go into a float
// texture atlas once per change, and a GLSL ES 3.00 program (shaders/image_grid.frag.glsl) renders
// the grid (nearest-neighbour upscaling, colour maps, per-pixel overlays, outlined pixel and cell)
// into a texture that ImGui::Image shows. The render is cached: it is redone only when the data,
// the style or the size change, so idle panels cost nothing on the GPU.
#pragma once
#include <GLES3/gl3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "imgui.h"

namespace genlab::web {

enum class Colormap : int { Grey = 0, Ink = 1, Viridis = 2, Diverging = 3 };

struct GridStyle {
  float gap = 2.f;              // CSS px between cells
  Colormap colormap = Colormap::Grey;
  float lo = 0.f, hi = 1.f;     // value range mapped onto the colour map
  int highlight_cell = -1;      // outlined pixel (cell, x, y); cell < 0: none
  int highlight_x = 0, highlight_y = 0;
  int selected_cell = -1;       // outlined cell
  bool pixel_grid = false;      // thin lines between image pixels when they are large
  ImVec4 background = ImVec4(0.08f, 0.09f, 0.10f, 1.f);
};

// Where the pointer is over a drawn grid.
struct GridHit {
  bool hovered = false;
  bool clicked = false;         // left click released on the item this frame
  int cell = -1;                // image index under the pointer (-1: gap or outside)
  int x = -1, y = -1;           // image pixel under the pointer
  float fx = 0.f, fy = 0.f;     // position inside the cell in image pixels (fractional)
};

// Compiled shader programs, shared by all views.
class ImageRenderer {
 public:
  ImageRenderer();  // reads /shaders/*.glsl (packed with the app); throws genlab::Error on failure
  ~ImageRenderer();
  ImageRenderer(const ImageRenderer&) = delete;
  ImageRenderer& operator=(const ImageRenderer&) = delete;

  GLuint grid_program() const { return grid_program_; }
  GLuint empty_vao() const { return vao_; }
  float device_pixel_ratio = 1.f;  // set by App every frame

 private:
  GLuint grid_program_ = 0;
  GLuint vao_ = 0;
};

// One grid on screen: its textures and its cached render target.
class GridView {
 public:
  GridView() = default;
  ~GridView();
  GridView(const GridView&) = delete;
  GridView& operator=(const GridView&) = delete;

  // Images [n, c, h, w] (c = 1 or 3) laid out in `cols` columns (0: about square). `version` identifies the content: the upload is skipped when
  // it and the layout are unchanged. An empty grid draws a placeholder.
  void set_images(const float* pixels, int n, int c, int h, int w, int cols, int64_t version);
  // Per-pixel RGBA overlay for every image (n*h*w colours, 0xAABBGGRR), or clear it.
  void set_overlay(const std::vector<uint32_t>& rgba, int64_t version);
  void clear_overlay();

  int count() const { return n_; }
  int cols() const { return cols_; }
  int rows() const { return rows_; }
  // Draws at the ImGui cursor, size in CSS px (aspect kept by the caller). Returns the hit info.
  GridHit draw(ImageRenderer& renderer, ImVec2 size, const GridStyle& style, const char* id);
  // Size that fits `avail` with the grid's aspect ratio.
  ImVec2 fit(ImVec2 avail, const GridStyle& style) const;

 private:
  void render(ImageRenderer& renderer, int out_w, int out_h, const GridStyle& style);

  GLuint images_tex_ = 0, overlay_tex_ = 0, target_tex_ = 0, fbo_ = 0;
  int n_ = 0, c_ = 1, h_ = 0, w_ = 0, cols_ = 1, rows_ = 1;
  int64_t version_ = -1, overlay_version_ = -1;
  bool has_overlay_ = false;
  int target_w_ = 0, target_h_ = 0;
  float fit_dpr_ = 1.f;        // DPR of the last draw (fit() rounds to whole device pixels)
  std::string rendered_key_;  // what the target texture currently shows
  int64_t content_serial_ = 0;  // bumped on every upload
};

}  // namespace genlab::web
