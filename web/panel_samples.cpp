// Panel 2, "Samples": a grid of samples from the current model (refreshed on demand and, while
// training, every few seconds), the sampling temperature, a label picker for conditional models,
// and a click on a sample to enlarge it. Drawn by the image-grid shader.
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace genlab::web {

namespace {
constexpr double kAutoRefreshMs = 4000.0;
}

void App::panel_samples() {
  const GenerativeModel* model = pg_.model();
  if (!model) {
    ImGui::TextWrapped("No model yet: choose one in \"Model & training\".");
    return;
  }
  // quiet: automatic refreshes leave the message line alone (an error from a link stays readable).
  auto request = [&](bool quiet = false) {
    Json c = Json::object();
    c["cmd"] = "sample";
    if (quiet) c["quiet"] = true;
    c["n"] = sample_count_;
    c["temperature"] = sample_temperature_;
    c["label"] = sample_label_;
    run(c);
    last_auto_refresh_ms_ = emscripten_get_now();
    samples_for_step_ = pg_.step();
  };

  // Controls row.
  ImGui::BeginDisabled(locked("samples"));
  ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.15f, 0.45f, 0.7f, 1.f));
  if (ImGui::Button("New samples", ImVec2(170, 40))) request();
  ImGui::PopStyleColor();
  ImGui::SameLine();
  ImGui::SetNextItemWidth(220);
  ImGui::SliderFloat("temperature", &sample_temperature_, 0.1f, 2.0f, "%.2f", ImGuiSliderFlags_AlwaysClamp);
  if (ImGui::IsItemDeactivatedAfterEdit()) request();
  ImGui::SameLine();
  ImGui::SetNextItemWidth(150);
  const int counts[] = {16, 36, 64, 100};
  char count_label[16];
  std::snprintf(count_label, sizeof(count_label), "%d", sample_count_);
  if (ImGui::BeginCombo("images", count_label)) {
    for (int n : counts) {
      std::snprintf(count_label, sizeof(count_label), "%d", n);
      if (ImGui::Selectable(count_label, n == sample_count_)) sample_count_ = n, request();
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::Checkbox("refresh while training", &auto_refresh_);
  if (model->conditional()) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("label:");
    ImGui::SameLine();
    if (ImGui::RadioButton("any", sample_label_ < 0)) sample_label_ = -1, request();
    for (int k = 0; k < model->num_classes(); ++k) {
      ImGui::SameLine();
      char lab[8];
      std::snprintf(lab, sizeof(lab), "%d", k);
      if (ImGui::RadioButton(lab, sample_label_ == k)) sample_label_ = k, request();
    }
  } else {
    ImGui::TextDisabled("Unconditional model: p(x). A conditional variant (in the set-up) samples p(x | label).");
  }
  ImGui::EndDisabled();

  const ImageGrid& s = pg_.samples();
  // Fresh samples when the model changed (first view, steps taken), every few seconds while training.
  if (!pg_.training() && samples_for_step_ != pg_.step()) request(true);
  if (auto_refresh_ && pg_.training() && emscripten_get_now() - last_auto_refresh_ms_ > kAutoRefreshMs) request(true);

  const int cols = s.n > 0 ? std::max(1, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(s.n))))) : 1;
  samples_view_.set_images(s.pixels.data(), s.n, s.c, s.h, s.w, cols, s.version);
  GridStyle style;
  style.gap = 3.f;
  style.selected_cell = enlarged_sample_;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool side = avail.x > avail.y * 1.4f;
  const ImVec2 grid_area = side ? ImVec2(avail.x * 0.62f, avail.y - 28) : ImVec2(avail.x, avail.y * 0.62f);
  ImGui::BeginGroup();
  const ImVec2 grid_origin = ImGui::GetCursorScreenPos();
  const ImVec2 grid_size = samples_view_.fit(grid_area, style);
  const GridHit hit = samples_view_.draw(*renderer_, grid_size, style, "samples");
  // Conditional models: the label each sample was drawn for, in the cell's corner.
  if (model->conditional() && static_cast<int>(s.labels.size()) == s.n && samples_view_.count() > 0) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const int gc = samples_view_.cols(), gr = samples_view_.rows();
    const float cw = (grid_size.x - style.gap * (gc - 1)) / gc, ch = (grid_size.y - style.gap * (gr - 1)) / gr;
    for (int i = 0; i < s.n; ++i) {
      if (s.labels[i] < 0) continue;
      const ImVec2 p(grid_origin.x + (i % gc) * (cw + style.gap) + 3, grid_origin.y + (i / gc) * (ch + style.gap) + 1);
      char lab[8];
      std::snprintf(lab, sizeof(lab), "%d", s.labels[i]);
      dl->AddText(p, IM_COL32(255, 200, 60, 255), lab);
    }
  }
  ImGui::TextDisabled("step %lld, temperature %.2f. Click a sample to enlarge it.",
                      static_cast<long long>(pg_.step()), pg_.temperature());
  ImGui::EndGroup();
  if (hit.clicked && hit.cell >= 0) enlarged_sample_ = hit.cell;
  if (enlarged_sample_ >= s.n) enlarged_sample_ = -1;

  if (side) ImGui::SameLine();
  ImGui::BeginGroup();
  if (enlarged_sample_ >= 0) {
    const size_t plane = static_cast<size_t>(s.c) * s.h * s.w;
    enlarged_view_.set_images(s.pixels.data() + plane * enlarged_sample_, 1, s.c, s.h, s.w, 1,
                              static_cast<int64_t>(s.version) * 1000 + enlarged_sample_);
    GridStyle big;
    big.gap = 0;
    big.pixel_grid = true;
    const ImVec2 area = side ? ImVec2(ImGui::GetContentRegionAvail().x, avail.y - 60)
                             : ImVec2(avail.x, ImGui::GetContentRegionAvail().y - 40);
    ImGui::Text("sample %d%s", enlarged_sample_,
                (s.labels.size() > static_cast<size_t>(enlarged_sample_) && s.labels[enlarged_sample_] >= 0)
                    ? (" (label " + std::to_string(s.labels[enlarged_sample_]) + ")").c_str()
                    : "");
    ImGui::SameLine();
    if (ImGui::SmallButton("close")) enlarged_sample_ = -1;
    const GridHit h = enlarged_view_.draw(*renderer_, enlarged_view_.fit(area, big), big, "enlarged");
    if (h.cell == 0) {
      const float v = s.pixels[plane * std::max(enlarged_sample_, 0) + static_cast<size_t>(h.y) * s.w + h.x];
      ImGui::SetTooltip("pixel (%d, %d) = %.3f", h.x, h.y, v);
    }
  } else {
    ImGui::TextDisabled("(click a sample)");
  }
  ImGui::EndGroup();
}

}  // namespace genlab::web
