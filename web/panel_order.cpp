// Panel 4, "Generation order" (PixelCNN family): replays the ancestral sampling of one image pixel
// by pixel (play at an adjustable speed or scrub with a slider). The pixel being sampled is
// outlined; the model's real receptive field is overlaid (teal: pixels the prediction depends on;
// orange: earlier pixels it cannot see: out of reach of the layers, or inside the plain PixelCNN's
// blind spot, the wedge up and to the right that the gated PixelCNN's two stacks remove);
// p(x_i | x_<i) is shown as it is sampled. Beside it: raster order (N^2 sequential steps) versus
// PixelRNN's diagonal wavefront (2N-1 steps) after the same number of sequential steps.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace genlab::web {

namespace {

constexpr uint32_t rgba(int r, int g, int b, int a) {
  return static_cast<uint32_t>(r) | (static_cast<uint32_t>(g) << 8) | (static_cast<uint32_t>(b) << 16) |
         (static_cast<uint32_t>(a) << 24);
}
constexpr uint32_t kDependsColour = rgba(40, 200, 190, 120);
constexpr uint32_t kUnseenColour = rgba(255, 140, 30, 110);
constexpr uint32_t kNotYetColour = rgba(25, 27, 32, 215);

}  // namespace

void App::panel_order() {
  if (!pg_.has_model()) {
    ImGui::TextWrapped("No model yet: choose a PixelCNN in \"Model & training\".");
    return;
  }
  if (!pg_.autoregressive()) {
    ImGui::TextWrapped(
        "Generation order is about autoregressive models: p(x) = prod_i p(x_i | x_<i), sampled one pixel after "
        "the other. The current model (%s) draws all pixels at once from its decoder. Choose PixelCNN or Gated "
        "PixelCNN in \"Model & training\".",
        pg_.setup().model.c_str());
    return;
  }
  const GenerativeModel* model = pg_.model();
  const int H = model->height(), W = model->width();
  auto new_replay = [&] {
    Json c = Json::object();
    c["cmd"] = "replay";
    c["temperature"] = replay_temperature_;
    c["seed"] = replay_seed_;
    c["speed"] = replay_speed_;
    if (model->conditional()) c["label"] = replay_label_;
    run(c);
  };
  const Replay& rp = pg_.replay();
  if (rp.trace.empty()) new_replay();
  const int total = static_cast<int>(rp.trace.size());

  // ---- controls ----
  ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.15f, 0.45f, 0.7f, 1.f));
  if (ImGui::Button("New sample", ImVec2(150, 40))) {
    ++replay_seed_;
    new_replay();
  }
  ImGui::PopStyleColor();
  ImGui::SameLine();
  if (rp.playing) {
    if (ImGui::Button("Pause", ImVec2(110, 40))) run("replay_pause");
  } else if (ImGui::Button(rp.pos >= total ? "Replay" : "Play", ImVec2(110, 40))) {
    Json c = Json::object();
    c["cmd"] = "replay_play";
    c["speed"] = replay_speed_;
    run(c);
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(220);
  if (ImGui::SliderFloat("pixels/s", &replay_speed_, 1.f, 2000.f, "%.0f",
                         ImGuiSliderFlags_Logarithmic | ImGuiSliderFlags_AlwaysClamp) &&
      rp.playing) {
    Json c = Json::object();
    c["cmd"] = "replay_play";
    c["speed"] = replay_speed_;
    run(c);
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(150);
  ImGui::SliderFloat("temperature##order", &replay_temperature_, 0.1f, 2.f, "%.2f");
  if (model->conditional()) {
    ImGui::SameLine();
    ImGui::SetNextItemWidth(120);
    ImGui::SliderInt("label##order", &replay_label_, -1, model->num_classes() - 1, replay_label_ < 0 ? "any" : "%d");
  }
  int pos = rp.pos;
  ImGui::SetNextItemWidth(-1);
  if (ImGui::SliderInt("##scrub", &pos, 0, total, "step %d", ImGuiSliderFlags_AlwaysClamp)) {
    Json c = Json::object();
    c["cmd"] = "replay_seek";
    c["pos"] = pos;
    run(c);
  }

  // ---- the replayed image with the current pixel and its receptive field ----
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float side = std::max(220.f, std::min(avail.y - 40.f, avail.x * 0.48f));
  const bool has_current = rp.pos < total;
  const SampleTraceStep* cur = has_current ? &rp.trace[rp.pos] : nullptr;
  const ReceptiveField& rf = pg_.receptive_field();
  const ImageGrid& img = rp.image;
  replay_view_.set_images(img.pixels.data(), img.n, img.c, img.h, img.w, 1, img.version);
  if (show_receptive_ && rf.pixel >= 0 && static_cast<int>(rf.mask.size()) == H * W) {
    std::vector<uint32_t> overlay(static_cast<size_t>(H) * W, 0u);
    for (int i = 0; i < H * W; ++i) {
      if (rf.mask[i]) overlay[i] = kDependsColour;
      else if (i < rf.pixel) overlay[i] = kUnseenColour;
    }
    replay_view_.set_overlay(overlay, static_cast<int64_t>(rf.version) * 4096 + img.version % 4096);
  } else {
    replay_view_.clear_overlay();
  }
  GridStyle st;
  st.gap = 0;
  st.pixel_grid = true;
  st.colormap = Colormap::Ink;
  if (rf.pixel >= 0) st.highlight_cell = 0, st.highlight_x = rf.pixel % W, st.highlight_y = rf.pixel / W;
  ImGui::BeginGroup();
  const GridHit hit = replay_view_.draw(*renderer_, replay_view_.fit(ImVec2(side, side), st), st, "replay");
  if (hit.cell == 0 && !rp.playing) {
    const int pixel = hit.y * W + hit.x;
    ImGui::SetTooltip("pixel (%d, %d): raster step %d\nclick: show its receptive field", hit.x, hit.y, pixel + 1);
    if (hit.clicked) {
      Json c = Json::object();
      c["cmd"] = "receptive_field";
      c["pixel"] = pixel;
      run(c);
    }
  }
  ImGui::Checkbox("receptive field overlay", &show_receptive_);
  ImGui::EndGroup();

  // ---- right column: the current pixel, p(x_i | x_<i), raster vs wavefront ----
  ImGui::SameLine();
  ImGui::BeginGroup();
  const float rw = ImGui::GetContentRegionAvail().x;
  if (rf.pixel >= 0) {
    const int x = rf.pixel % W, y = rf.pixel / W;
    ImGui::Text("pixel x_%d at (%d, %d): step %d of %d", rf.pixel, x, y, rf.pixel + 1, H * W);
    ImGui::TextColored(ImVec4(0.2f, 0.85f, 0.8f, 1.f), "depends on %d pixels", rf.count);
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.f, 0.6f, 0.2f, 1.f), "does not see %d of the %d earlier pixels",
                       std::max(0, rf.pixel - rf.count), rf.pixel);
    ImGui::TextWrapped("%s", pg_.setup().model == "gated-pixelcnn"
                                 ? "Gated PixelCNN: its vertical and horizontal stacks see every earlier pixel within "
                                   "reach of its layers: no blind spot."
                                 : "PixelCNN: stacked masked convolutions leave a blind spot, the unseen wedge up and "
                                   "to the right inside the teal region's reach. Compare with the Gated PixelCNN.");
  } else {
    ImGui::TextDisabled("Sampling finished: all %d pixels drawn.", H * W);
  }

  // p(x_i | x_<i) of the pixel being sampled.
  ImGui::Spacing();
  ImGui::TextDisabled("p(x_i | x_<i) of the pixel being sampled");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float bars_h = 90.f;
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(rw, bars_h));
  dl->AddRectFilled(p0, ImVec2(p0.x + rw, p0.y + bars_h), IM_COL32(22, 24, 28, 255), 4.f);
  if (cur && !cur->probs.empty()) {
    const size_t k = cur->probs.size();
    if (k <= 16) {
      const float slot = (rw - 20) / static_cast<float>(k);
      for (size_t i = 0; i < k; ++i) {
        const float pv = std::clamp(cur->probs[i], 0.f, 1.f);
        const float x0 = p0.x + 10 + slot * i, x1 = x0 + slot * 0.8f;
        const float top = p0.y + 6 + (1 - pv) * (bars_h - 30);
        const bool chosen = std::lround(cur->value) == static_cast<long>(i);
        dl->AddRectFilled(ImVec2(x0, top), ImVec2(x1, p0.y + bars_h - 24),
                          chosen ? IM_COL32(255, 90, 70, 255) : IM_COL32(90, 170, 255, 255));
        char lab[48];
        if (k == 2) std::snprintf(lab, sizeof(lab), "%s: %.3f", i ? "ink (1)" : "paper (0)", static_cast<double>(pv));
        else std::snprintf(lab, sizeof(lab), "%zu: %.2f", i, static_cast<double>(pv));
        dl->AddText(ImVec2(x0, p0.y + bars_h - 21), IM_COL32(220, 220, 225, 255), lab);
      }
    } else {  // 256 levels: a dense histogram
      const float bw = (rw - 20) / static_cast<float>(k);
      float pmax = 1e-6f;
      for (float v : cur->probs) pmax = std::max(pmax, v);
      for (size_t i = 0; i < k; ++i) {
        const float x0 = p0.x + 10 + bw * i;
        const float top = p0.y + 6 + (1 - cur->probs[i] / pmax) * (bars_h - 30);
        dl->AddRectFilled(ImVec2(x0, top), ImVec2(x0 + std::max(1.f, bw), p0.y + bars_h - 24),
                          static_cast<long>(i) == std::lround(cur->value) ? IM_COL32(255, 90, 70, 255)
                                                                          : IM_COL32(90, 170, 255, 255));
      }
      dl->AddText(ImVec2(p0.x + 10, p0.y + bars_h - 21), IM_COL32(220, 220, 225, 255), "levels 0 .. 255");
    }
    ImGui::Text("sampled value: %.0f (red bar)", cur->value);
  } else {
    dl->AddText(ImVec2(p0.x + 12, p0.y + bars_h / 2 - 8), IM_COL32(150, 150, 160, 255), "(no pixel being sampled)");
  }

  // Raster order vs diagonal wavefront after the same number of sequential steps.
  ImGui::Spacing();
  const int t = rp.pos;
  const int raster_total = H * W, wave_total = H + W - 1;
  int wave_done = 0;
  for (int y = 0; y < H; ++y) wave_done += std::clamp(t - y, 0, W);
  ImGui::TextDisabled("SEQUENTIAL STEPS: raster order vs PixelRNN's diagonal wavefront");
  ImGui::TextWrapped("After %d sequential steps, raster order (PixelCNN sampling) has %d of %d pixels; the "
                     "diagonal wavefront (Diagonal BiLSTM, all pixels with x + y < t at once) has %d. Raster needs "
                     "N^2 = %d steps, the wavefront 2N - 1 = %d.",
                     t, std::min(t, raster_total), raster_total, std::min(wave_done, raster_total), raster_total,
                     wave_total);
  std::vector<float> orders(2 * static_cast<size_t>(H) * W);
  std::vector<uint32_t> pending(orders.size(), 0u);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const size_t i = static_cast<size_t>(y) * W + x;
      const int raster_step = y * W + x, wave_step = x + y;
      orders[i] = static_cast<float>(raster_step) / (raster_total - 1);
      orders[static_cast<size_t>(H) * W + i] = static_cast<float>(wave_step) / (wave_total - 1);
      if (raster_step >= t) pending[i] = kNotYetColour;
      if (wave_step >= t) pending[static_cast<size_t>(H) * W + i] = kNotYetColour;
    }
  wavefront_view_.set_images(orders.data(), 2, 1, H, W, 2, 1);
  wavefront_view_.set_overlay(pending, t);
  GridStyle ws;
  ws.gap = 16.f;
  ws.colormap = Colormap::Viridis;
  const ImVec2 wsize = wavefront_view_.fit(ImVec2(rw, std::max(120.f, ImGui::GetContentRegionAvail().y - 30)), ws);
  wavefront_view_.draw(*renderer_, wsize, ws, "wavefront");
  ImGui::TextDisabled("left: raster (colour = step / N^2)   right: wavefront (colour = step / (2N-1)); dark: not yet");
  ImGui::EndGroup();
}

}  // namespace genlab::web
