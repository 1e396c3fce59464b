// Panel 5, "Draw & complete": draw a digit with the mouse or a finger on a 28x28 pad. The VAE (or
// AE) reconstructs it and shows where it lands in latent space; a PixelCNN completes the top rows of
// the drawing (or of a test image). Every model scores the drawing (exact NLL, or the VAE's -L_K
// bound) against the distribution of test-set scores: a generative model can flag odd inputs.
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace genlab::web {

namespace {

void draw_score_histogram(const std::vector<double>& scores, const DrawingScore& ds, float width, float height) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(width, height));
  dl->AddRectFilled(p0, ImVec2(p0.x + width, p0.y + height), IM_COL32(22, 24, 28, 255), 4.f);
  if (scores.empty()) {
    dl->AddText(ImVec2(p0.x + 10, p0.y + height / 2 - 8), IM_COL32(150, 150, 160, 255), "(scoring the test set...)");
    return;
  }
  // Range: test scores' 1..99 % (and the drawing), so one wild value does not squash the plot.
  double lo = scores[scores.size() / 100], hi = scores[scores.size() - 1 - scores.size() / 100];
  if (ds.valid && std::isfinite(ds.nats)) lo = std::min(lo, ds.nats), hi = std::max(hi, ds.nats);
  if (hi <= lo) hi = lo + 1;
  const double pad = 0.04 * (hi - lo);
  lo -= pad, hi += pad;
  constexpr int kBins = 40;
  int counts[kBins] = {0};
  for (double s : scores) {
    const int b = static_cast<int>((s - lo) / (hi - lo) * kBins);
    if (b >= 0 && b < kBins) ++counts[b];
  }
  const int cmax = std::max(1, *std::max_element(counts, counts + kBins));
  const float left = p0.x + 8, right = p0.x + width - 8, bottom = p0.y + height - 22, top = p0.y + 8;
  const float bw = (right - left) / kBins;
  for (int b = 0; b < kBins; ++b) {
    const float h = (bottom - top) * counts[b] / cmax;
    dl->AddRectFilled(ImVec2(left + b * bw, bottom - h), ImVec2(left + (b + 1) * bw - 1, bottom),
                      IM_COL32(90, 170, 255, 255));
  }
  char lab[48];
  std::snprintf(lab, sizeof(lab), "%.0f", lo);
  dl->AddText(ImVec2(left, bottom + 3), IM_COL32(160, 160, 170, 255), lab);
  std::snprintf(lab, sizeof(lab), "%.0f nats", hi);
  dl->AddText(ImVec2(right - ImGui::CalcTextSize(lab).x, bottom + 3), IM_COL32(160, 160, 170, 255), lab);
  if (ds.valid && std::isfinite(ds.nats)) {
    const float x = left + static_cast<float>((ds.nats - lo) / (hi - lo)) * (right - left);
    dl->AddLine(ImVec2(x, top - 4), ImVec2(x, bottom), IM_COL32(255, 70, 60, 255), 3.f);
    dl->AddText(ImVec2(std::min(x + 4, right - 90), top), IM_COL32(255, 110, 100, 255), "your drawing");
  }
}

}  // namespace

void App::panel_draw() {
  const GenerativeModel* model = pg_.model();
  if (!model) {
    ImGui::TextWrapped("No model yet: choose one in \"Model & training\".");
    return;
  }
  const int H = model->height(), W = model->width();
  const size_t HW = static_cast<size_t>(H) * W;
  if (model->channels() != 1) {
    ImGui::TextWrapped("Drawing works on grey-level images; this model has %d channels.", model->channels());
    return;
  }
  const double now = emscripten_get_now();
  auto push_and_score = [&] {
    Json px = Json::array();
    for (float v : local_drawing_) px.push_back(std::round(v * 1000.f) / 1000.f);
    Json c = Json::object();
    c["cmd"] = "draw";
    c["pixels"] = px;
    run(c);
    run("score");
    last_score_ms_ = now;
    drawing_changed_ = false;
  };
  // Mirror the playground's drawing (it may be set by window.genlab or "use test image").
  if (local_drawing_.size() != HW) local_drawing_.assign(HW, 0.f);
  if (!drawing_changed_ && pg_.drawing().size() == HW && pg_.drawing() != local_drawing_)
    local_drawing_ = pg_.drawing();
  // Test-set scores to compare with (recomputed when the model changed).
  static int64_t scores_for_step = -1;
  static std::string scores_for_model;
  if ((scores_for_step != pg_.step() || scores_for_model != pg_.setup().model) && !pg_.training()) {
    Json c = Json::object();
    c["cmd"] = "score_test";
    c["max"] = 200;
    run(c);
    scores_for_step = pg_.step();
    scores_for_model = pg_.setup().model;
    if (pg_.drawing().size() == HW) run("score");
  }

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float pad_side = std::max(220.f, std::min(avail.y - 110.f, avail.x * 0.42f));

  // ---- left: the drawing pad ----
  ImGui::BeginGroup();
  ImGui::TextDisabled("DRAW a digit (mouse or finger; right button or Erase to rub out)");
  uint64_t content = 1469598103934665603ull;  // FNV-1a of the pad: re-upload only when it changed
  for (float v : local_drawing_) content = (content ^ static_cast<uint64_t>(v * 255.f)) * 1099511628211ull;
  drawing_view_.set_images(local_drawing_.data(), 1, 1, H, W, 1, static_cast<int64_t>(content >> 1));
  GridStyle st;
  st.gap = 0;
  st.colormap = Colormap::Ink;
  st.pixel_grid = true;
  const GridHit hit = drawing_view_.draw(*renderer_, drawing_view_.fit(ImVec2(pad_side, pad_side), st), st, "pad");
  const bool left_down = ImGui::IsMouseDown(ImGuiMouseButton_Left), right_down = ImGui::IsMouseDown(ImGuiMouseButton_Right);
  if (hit.cell == 0 && (left_down || right_down)) {
    const bool erase = erasing_ || right_down;
    const float r = brush_radius_;
    for (int y = std::max(0, static_cast<int>(hit.fy - r - 1)); y <= std::min(H - 1, static_cast<int>(hit.fy + r + 1)); ++y)
      for (int x = std::max(0, static_cast<int>(hit.fx - r - 1)); x <= std::min(W - 1, static_cast<int>(hit.fx + r + 1)); ++x) {
        const float dx = x + 0.5f - hit.fx, dy = y + 0.5f - hit.fy;
        const float d = std::sqrt(dx * dx + dy * dy);
        const float ink = std::clamp(1.2f - d / r, 0.f, 1.f);  // soft edge like a pen stroke on MNIST
        float& v = local_drawing_[static_cast<size_t>(y) * W + x];
        v = erase ? std::min(v, 1.f - ink) : std::max(v, ink);
      }
    drawing_changed_ = true;
  }
  // Score while drawing (throttled) and when the stroke ends.
  if (drawing_changed_ && (!(left_down || right_down) || now - last_score_ms_ > 400.0)) push_and_score();

  if (ImGui::Button("Clear", ImVec2(100, 40))) {
    std::fill(local_drawing_.begin(), local_drawing_.end(), 0.f);
    push_and_score();
  }
  ImGui::SameLine();
  if (ImGui::Button(erasing_ ? "Erase: on" : "Erase: off", ImVec2(120, 40))) erasing_ = !erasing_;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(std::max(80.f, pad_side - 250));
  ImGui::SliderFloat("brush", &brush_radius_, 0.7f, 3.f, "%.1f");
  const int n_test = std::max(1, pg_.test_images().n);
  ImGui::SetNextItemWidth(140);
  ImGui::InputInt("##testindex", &draw_test_index_);
  draw_test_index_ = std::clamp(draw_test_index_, 0, n_test - 1);
  ImGui::SameLine();
  if (ImGui::Button("Use test image")) {
    Json c = Json::object();
    c["cmd"] = "draw_test";
    c["index"] = draw_test_index_;
    run(c);
    run("score");
    local_drawing_ = pg_.drawing();
  }
  ImGui::EndGroup();

  // ---- right: score, reconstruction / completion ----
  ImGui::SameLine();
  ImGui::BeginGroup();
  const float rw = ImGui::GetContentRegionAvail().x;
  const DrawingScore& ds = pg_.drawing_score();
  ImGui::TextDisabled("SCORE of the drawing against %zu test images", pg_.test_scores().size());
  if (ds.valid) {
    const bool bound = ds.metric.rfind("neg_", 0) == 0;
    if (ds.metric == "recon_error")
      ImGui::Text("reconstruction error %.3f (an AE has no likelihood: this is not a probability)", ds.nats);
    else
      ImGui::Text("%s = %.1f nats = %.3f bits/dim %s", bound ? "-log p(x) <= -L_K" : "-log p(x)", ds.nats,
                  ds.bits_per_dim, bound ? "(upper bound)" : "(exact)");
    if (ds.percentile >= 0) {
      const double worse_than = 100.0 * ds.percentile;
      const ImVec4 col = worse_than > 95 ? ImVec4(1.f, 0.45f, 0.4f, 1.f) : ImVec4(0.5f, 0.9f, 0.5f, 1.f);
      ImGui::TextColored(col, "%.0f%% of test digits score better (lower) than the drawing%s", worse_than,
                         worse_than > 95 ? ": the model finds it unusual" : "");
    }
  } else {
    ImGui::TextDisabled("(draw something)");
  }
  draw_score_histogram(pg_.test_scores(), ds, rw, 120.f);

  if (pg_.has_latent()) {
    ImGui::Spacing();
    ImGui::TextDisabled("RECONSTRUCTION by the %s and the drawing's place in latent space", pg_.setup().model.c_str());
    const ImageGrid& rec = pg_.reconstruction();
    reconstruction_view_.set_images(rec.pixels.data(), rec.n, rec.c, rec.h, rec.w, 1, rec.version);
    GridStyle rs;
    rs.gap = 0;
    rs.colormap = Colormap::Ink;  // same paper and ink as the pad
    const float s = std::min(180.f, rw * 0.4f);
    reconstruction_view_.draw(*renderer_, ImVec2(s, s), rs, "reconstruction");
    ImGui::SameLine();
    // Mini latent scatter.
    if (pg_.latent_points().empty()) {
      Json e = Json::object();
      e["cmd"] = "encode_test";
      run(e);
    }
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(s, s));
    dl->AddRectFilled(p0, ImVec2(p0.x + s, p0.y + s), IM_COL32(22, 24, 28, 255), 4.f);
    float span = 3.f;
    for (const LatentPoint& p : pg_.latent_points()) span = std::max({span, std::fabs(p.x), std::fabs(p.y)});
    span = std::min(span, 10.f);
    auto to_screen = [&](float x, float y) {
      return ImVec2(p0.x + (x + span) / (2 * span) * s, p0.y + (span - y) / (2 * span) * s);
    };
    dl->PushClipRect(p0, ImVec2(p0.x + s, p0.y + s), true);
    static const ImU32 colours[10] = {IM_COL32(78, 121, 167, 200),  IM_COL32(242, 142, 43, 200),
                                      IM_COL32(225, 87, 89, 200),   IM_COL32(118, 183, 178, 200),
                                      IM_COL32(89, 161, 79, 200),   IM_COL32(237, 201, 72, 200),
                                      IM_COL32(176, 122, 161, 200), IM_COL32(255, 157, 167, 200),
                                      IM_COL32(156, 117, 95, 200),  IM_COL32(186, 176, 172, 200)};
    for (const LatentPoint& p : pg_.latent_points())
      dl->AddCircleFilled(to_screen(p.x, p.y), 2.f, p.label >= 0 ? colours[p.label % 10] : IM_COL32(200, 200, 200, 200));
    if (ds.valid && ds.has_latent) {
      const ImVec2 q = to_screen(ds.latent_x, ds.latent_y);
      dl->AddCircle(q, 8.f, IM_COL32(255, 60, 60, 255), 4, 3.f);
    }
    dl->PopClipRect();
    ImGui::TextDisabled("left: decoded code of the drawing; right: z%d/z%d of test images (red: drawing)",
                        pg_.latent_dim_x(), pg_.latent_dim_y());
  }
  if (pg_.autoregressive()) {
    ImGui::Spacing();
    ImGui::TextDisabled("COMPLETION by the PixelCNN: keep the top rows, sample the rest");
    ImGui::SetNextItemWidth(200);
    ImGui::SliderInt("kept rows", &complete_rows_, 1, H - 1, "%d", ImGuiSliderFlags_AlwaysClamp);
    auto complete = [&](const char* source) {
      Json c = Json::object();
      c["cmd"] = "complete";
      c["rows"] = complete_rows_;
      c["source"] = source;
      c["index"] = draw_test_index_;
      c["n"] = 8;
      run(c);
    };
    if (ImGui::Button("Complete my drawing", ImVec2(200, 40))) {
      if (drawing_changed_) push_and_score();
      complete("drawing");
    }
    ImGui::SameLine();
    if (ImGui::Button("Complete test image", ImVec2(200, 40))) complete("test");
    const ImageGrid& cp = pg_.completion();
    completion_view_.set_images(cp.pixels.data(), cp.n, cp.c, cp.h, cp.w, std::min(cp.n, 8), cp.version);
    // Tint the kept rows so completion and given part are told apart.
    std::vector<uint32_t> tint(static_cast<size_t>(std::max(cp.n, 0)) * cp.h * cp.w, 0u);
    for (int i = 0; i < cp.n; ++i)
      for (int y = 0; y < std::min(complete_rows_, cp.h); ++y)
        for (int x = 0; x < cp.w; ++x) tint[(static_cast<size_t>(i) * cp.h + y) * cp.w + x] = 0x3000A0FFu;
    completion_view_.set_overlay(tint, static_cast<int64_t>(cp.version) * 64 + complete_rows_);
    GridStyle cs;
    cs.gap = 3.f;
    cs.colormap = Colormap::Ink;
    completion_view_.draw(*renderer_, completion_view_.fit(ImVec2(rw, ImGui::GetContentRegionAvail().y - 30), cs),
                          cs, "completion");
    ImGui::TextDisabled("orange tint: kept rows (given); the rest is sampled pixel by pixel");
  }
  ImGui::EndGroup();
}

}  // namespace genlab::web
