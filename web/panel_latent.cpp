// Panel 3, "Latent space" (AE / VAE): the decoded latent map over two latent dimensions (all of
// them when the latent size is 2), the encoded test set drawn over it as a scatter coloured by
// label, interpolation between two test images (linear or spherical) as a strip and an animation,
// and the traversal of one latent dimension. Clicking a scatter point picks interpolation ends.
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace genlab::web {

namespace {

// Ten distinguishable label colours (Tableau 10).
const ImU32 kLabelColours[10] = {IM_COL32(78, 121, 167, 255),  IM_COL32(242, 142, 43, 255),
                                 IM_COL32(225, 87, 89, 255),   IM_COL32(118, 183, 178, 255),
                                 IM_COL32(89, 161, 79, 255),   IM_COL32(237, 201, 72, 255),
                                 IM_COL32(176, 122, 161, 255), IM_COL32(255, 157, 167, 255),
                                 IM_COL32(156, 117, 95, 255),  IM_COL32(186, 176, 172, 255)};

ImU32 label_colour(int label, int alpha = 255) {
  const ImU32 c = label >= 0 ? kLabelColours[label % 10] : IM_COL32(200, 200, 200, 255);
  return (c & 0x00FFFFFFu) | (static_cast<ImU32>(alpha) << 24);
}

}  // namespace

void App::panel_latent() {
  if (!pg_.has_model()) {
    ImGui::TextWrapped("No model yet: choose an AE or a VAE in \"Model & training\".");
    return;
  }
  if (!pg_.has_latent()) {
    ImGui::TextWrapped(
        "The latent space belongs to the autoencoder and the VAE: the current model (%s) maps nothing to a "
        "latent code. Choose AE or VAE in \"Model & training\"; the PixelCNN's story is in \"Generation order\".",
        pg_.setup().model.c_str());
    return;
  }
  const int Z = pg_.latent_size();
  const double now = emscripten_get_now();
  static double last_update_ms = -1e9;
  auto update_views = [&] {
    Json m = Json::object();
    m["cmd"] = "latent_map";
    m["dims"] = Json::array({latent_dims_[0], latent_dims_[1]});
    m["grid"] = latent_grid_;
    m["range"] = latent_range_;
    run(m);
    Json e = Json::object();
    e["cmd"] = "encode_test";  // all picker images (the test split is in class order: all labels)
    run(e);
    latent_requested_for_step_ = pg_.step();
    last_update_ms = now;
  };
  auto update_interpolation = [&] {
    Json c = Json::object();
    c["cmd"] = "interpolate";
    c["a"] = interp_a_;
    c["b"] = interp_b_;
    c["steps"] = interp_steps_;
    c["mode"] = interp_spherical_ ? "spherical" : "linear";
    run(c);
  };
  auto update_traversal = [&] {
    Json c = Json::object();
    c["cmd"] = "traverse";
    c["dim"] = std::min(traverse_dim_, Z - 1);
    c["index"] = traverse_index_;
    c["steps"] = traverse_steps_;
    c["range"] = traverse_range_;
    run(c);
  };
  // Keep the views current: after training steps (at most every 3 s while training).
  const bool stale = latent_requested_for_step_ != pg_.step() || pg_.latent_map().n == 0;
  if (stale && (!pg_.training() || now - last_update_ms > 3000.0)) {
    update_views();
    update_interpolation();
    update_traversal();
  }

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float map_side = std::max(200.f, std::min(avail.y - 120.f, avail.x * 0.5f));

  // ---- left: latent map + scatter ----
  ImGui::BeginGroup();
  ImGui::TextDisabled("LATENT MAP  decoded grid over z%d (x) and z%d (y); dots: encoded test images", latent_dims_[0],
                      latent_dims_[1]);
  bool changed = false;
  if (Z > 2) {
    ImGui::SetNextItemWidth(120);
    changed |= ImGui::SliderInt("x dim", &latent_dims_[0], 0, Z - 1, "z%d", ImGuiSliderFlags_AlwaysClamp);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(120);
    changed |= ImGui::SliderInt("y dim", &latent_dims_[1], 0, Z - 1, "z%d", ImGuiSliderFlags_AlwaysClamp);
    ImGui::SameLine();
  }
  ImGui::SetNextItemWidth(120);
  changed |= ImGui::SliderInt("grid", &latent_grid_, 4, 24, "%d", ImGuiSliderFlags_AlwaysClamp);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(120);
  changed |= ImGui::SliderFloat("range", &latent_range_, 0.5f, 6.f, "+-%.1f", ImGuiSliderFlags_AlwaysClamp);
  if (changed && latent_dims_[0] == latent_dims_[1]) latent_dims_[1] = (latent_dims_[0] + 1) % Z;
  if (changed) update_views();

  const ImageGrid& map = pg_.latent_map();
  const int g = std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(map.n)))));
  latent_map_view_.set_images(map.pixels.data(), map.n, map.c, map.h, map.w, g, map.version);
  GridStyle ms;
  ms.gap = 0.f;
  const ImVec2 map_size = latent_map_view_.fit(ImVec2(map_side, map_side), ms);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  latent_map_view_.draw(*renderer_, map_size, ms, "latent_map");
  // Scatter: cell centres sit at -range..+range, so the picture spans range * g / (g - 1).
  const float span = latent_range_ * static_cast<float>(g) / static_cast<float>(std::max(1, g - 1));
  auto to_screen = [&](float x, float y) {
    return ImVec2(origin.x + (x + span) / (2 * span) * map_size.x, origin.y + (span - y) / (2 * span) * map_size.y);
  };
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(origin, ImVec2(origin.x + map_size.x, origin.y + map_size.y), true);
  const auto& pts = pg_.latent_points();
  int nearest = -1;
  float nearest_d2 = 12.f * 12.f;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const bool over_map = mouse.x >= origin.x && mouse.y >= origin.y && mouse.x < origin.x + map_size.x &&
                        mouse.y < origin.y + map_size.y && ImGui::IsWindowHovered();
  for (size_t i = 0; i < pts.size(); ++i) {
    const ImVec2 s = to_screen(pts[i].x, pts[i].y);
    dl->AddCircleFilled(s, 3.2f, label_colour(pts[i].label, 210));
    if (over_map) {
      const float d2 = (s.x - mouse.x) * (s.x - mouse.x) + (s.y - mouse.y) * (s.y - mouse.y);
      if (d2 < nearest_d2) nearest_d2 = d2, nearest = static_cast<int>(i);
    }
  }
  for (const LatentPoint& p : pts) {
    if (p.index == interp_a_ || p.index == interp_b_) {
      const ImVec2 s = to_screen(p.x, p.y);
      dl->AddCircle(s, 8.f, IM_COL32(255, 255, 255, 255), 16, 2.5f);
      dl->AddText(ImVec2(s.x + 8, s.y - 18), IM_COL32(255, 255, 255, 255), p.index == interp_a_ ? "A" : "B");
    }
  }
  const DrawingScore& ds = pg_.drawing_score();
  if (ds.valid && ds.has_latent) {
    const ImVec2 s = to_screen(ds.latent_x, ds.latent_y);
    dl->AddCircle(s, 9.f, IM_COL32(255, 60, 60, 255), 4, 3.f);
    dl->AddText(ImVec2(s.x + 9, s.y + 2), IM_COL32(255, 90, 90, 255), "your drawing");
  }
  dl->PopClipRect();
  if (nearest >= 0) {
    const LatentPoint& p = pts[nearest];
    ImGui::SetTooltip("test image %d, label %d\nz = (%.2f, %.2f)\nclick: use as interpolation end %s", p.index,
                      p.label, p.x, p.y, pick_for_a_ ? "A" : "B");
    if (ImGui::IsMouseReleased(ImGuiMouseButton_Left)) {
      (pick_for_a_ ? interp_a_ : interp_b_) = p.index;
      pick_for_a_ = !pick_for_a_;
      update_interpolation();
    }
  }
  // Label legend.
  for (int k = 0; k < 10; ++k) {
    if (k) ImGui::SameLine(0, 6);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    dl->AddCircleFilled(ImVec2(p.x + 6, p.y + 9), 5.f, label_colour(k));
    ImGui::Dummy(ImVec2(12, 18));
    ImGui::SameLine(0, 2);
    ImGui::Text("%d", k);
  }
  if (ImGui::Button("Update views", ImVec2(160, 0))) {
    update_views();
    update_interpolation();
    update_traversal();
  }
  ImGui::EndGroup();

  // ---- right: interpolation and traversal ----
  ImGui::SameLine();
  ImGui::BeginGroup();
  const float rw = ImGui::GetContentRegionAvail().x;
  ImGui::TextDisabled("INTERPOLATION between two test images (click dots on the map, or type)");
  bool interp_changed = false;
  const int n_test = std::max(1, pg_.test_images().n);
  ImGui::SetNextItemWidth(130);
  interp_changed |= ImGui::InputInt("A", &interp_a_);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(130);
  interp_changed |= ImGui::InputInt("B", &interp_b_);
  interp_a_ = std::clamp(interp_a_, 0, n_test - 1);
  interp_b_ = std::clamp(interp_b_, 0, n_test - 1);
  ImGui::SameLine();
  interp_changed |= ImGui::Checkbox("spherical", &interp_spherical_);
  ImGui::SetNextItemWidth(160);
  interp_changed |= ImGui::SliderInt("steps", &interp_steps_, 3, 16, "%d", ImGuiSliderFlags_AlwaysClamp);
  ImGui::SameLine();
  ImGui::Checkbox("animate", &interp_animate_);
  if (interp_changed) update_interpolation();
  ImGui::TextDisabled(interp_spherical_ ? "slerp: follows the great circle, keeps |z| like a prior sample"
                                        : "lerp: straight line; the middle has a smaller norm than typical z");

  const ImageGrid& it = pg_.interpolation();
  interpolation_view_.set_images(it.pixels.data(), it.n, it.c, it.h, it.w, std::max(1, it.n), it.version);
  GridStyle strip;
  strip.gap = 2.f;
  const float anim_side = std::min(150.f, rw * 0.25f);
  interpolation_view_.draw(*renderer_, interpolation_view_.fit(ImVec2(rw - anim_side - 12, anim_side), strip), strip,
                           "interp_strip");
  if (interp_animate_ && it.n > 1) {
    ImGui::SameLine();
    interp_anim_t_ += ImGui::GetIO().DeltaTime * 5.0;  // frames per second
    const int period = 2 * (it.n - 1);
    int f = static_cast<int>(interp_anim_t_) % period;
    if (f >= it.n) f = period - f;
    const size_t plane = static_cast<size_t>(it.c) * it.h * it.w;
    anim_view_.set_images(it.pixels.data() + plane * f, 1, it.c, it.h, it.w, 1,
                          static_cast<int64_t>(it.version) * 64 + f);
    GridStyle one;
    one.gap = 0;
    anim_view_.draw(*renderer_, ImVec2(anim_side, anim_side), one, "interp_anim");
  }

  ImGui::Spacing();
  ImGui::TextDisabled("TRAVERSAL of one latent dimension (others fixed at a test image's code, or 0)");
  bool trav_changed = false;
  ImGui::SetNextItemWidth(110);
  trav_changed |= ImGui::SliderInt("dimension", &traverse_dim_, 0, Z - 1, "z%d", ImGuiSliderFlags_AlwaysClamp);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(120);
  trav_changed |= ImGui::InputInt("from image", &traverse_index_);
  traverse_index_ = std::clamp(traverse_index_, -1, n_test - 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(110);
  trav_changed |= ImGui::SliderFloat("range##trav", &traverse_range_, 0.5f, 6.f, "+-%.1f");
  if (trav_changed) update_traversal();
  const ImageGrid& tr = pg_.traversal();
  traversal_view_.set_images(tr.pixels.data(), tr.n, tr.c, tr.h, tr.w, std::max(1, tr.n), tr.version);
  traversal_view_.draw(*renderer_, traversal_view_.fit(ImVec2(rw, 120), strip), strip, "traversal");
  ImGui::TextDisabled("from image -1: z = 0 except the traversed dimension");
  ImGui::EndGroup();
}

}  // namespace genlab::web
