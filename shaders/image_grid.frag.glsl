// Draws a grid of images (cols x rows cells of W x H pixels) with nearest-neighbour upscaling into
// an output of any size, plus an optional per-pixel overlay (receptive fields, masks), an outlined
// pixel (generation order's current pixel), an outlined cell (selection) and pixel grid lines.
// The images come from one RGBA32F atlas texture (cell (c, r) at (c*W, r*H)), the overlay from an
// RGBA8 atlas of the same layout. Output pixel (0,0) is the top-left of the grid.
uniform highp sampler2D u_images;
uniform highp sampler2D u_overlay;
uniform ivec2 u_cell_size;   // W, H of one image
uniform ivec2 u_grid;        // cols, rows
uniform int u_count;         // cells >= count are background
uniform vec2 u_out_size;     // output size in pixels
uniform float u_gap;         // gap between cells, output pixels
uniform vec2 u_range;        // value range mapped to 0..1 before the colour map
uniform int u_colormap;      // see colormaps.glsl
uniform int u_has_overlay;
uniform ivec3 u_highlight;   // (cell, x, y) of the outlined pixel; cell < 0: none
uniform int u_selected;      // outlined cell; < 0: none
uniform int u_pixel_grid;    // 1: thin lines between image pixels (when they are big enough)
uniform vec4 u_background;
out vec4 frag_color;

void main() {
  vec2 p = vec2(gl_FragCoord.x, gl_FragCoord.y);  // row 0 of the target is shown at the top by ImGui::Image
  vec2 grid = vec2(u_grid);
  vec2 cell_px = (u_out_size - u_gap * (grid - 1.0)) / grid;
  vec2 pitch = cell_px + u_gap;
  ivec2 cell = ivec2(floor(p / pitch));
  vec2 within = p - vec2(cell) * pitch;
  int index = cell.y * u_grid.x + cell.x;
  if (any(greaterThanEqual(cell, u_grid)) || any(greaterThanEqual(within, cell_px)) || index >= u_count) {
    frag_color = u_background;
    return;
  }
  vec2 scale = cell_px / vec2(u_cell_size);
  ivec2 pix = clamp(ivec2(floor(within / scale)), ivec2(0), u_cell_size - 1);
  ivec2 texel = cell * u_cell_size + pix;
  vec3 v = texelFetch(u_images, texel, 0).rgb;
  vec3 rgb = apply_colormap(u_colormap, (v - u_range.x) / max(u_range.y - u_range.x, 1e-6));
  if (u_has_overlay == 1) {
    vec4 o = texelFetch(u_overlay, texel, 0);
    rgb = mix(rgb, o.rgb, o.a);
  }
  vec2 in_pix = within - vec2(pix) * scale;  // position inside the image pixel, output px
  if (u_pixel_grid == 1 && min(scale.x, scale.y) >= 6.0 && (in_pix.x < 1.0 || in_pix.y < 1.0))
    rgb = mix(rgb, vec3(0.5), 0.35);
  if (u_highlight.x == index && pix == u_highlight.yz) {
    float edge = min(min(in_pix.x, in_pix.y), min(scale.x - in_pix.x, scale.y - in_pix.y));
    float width = max(1.5, min(scale.x, scale.y) * 0.18);
    if (edge < width) rgb = vec3(1.0, 0.15, 0.1);
  }
  if (u_selected == index) {
    float edge = min(min(within.x, within.y), min(cell_px.x - within.x, cell_px.y - within.y));
    if (edge < 2.5) rgb = vec3(1.0, 0.8, 0.1);
  }
  frag_color = vec4(rgb, 1.0);
}
