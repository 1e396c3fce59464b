// Panel 6, "Likelihood board": the test-set score of every model trained in this page, side by
// side in nats per image and bits/dim, so model families are compared on the same digits. Exact
// likelihoods (PixelCNN) and bounds (VAE: -ELBO, -L_K) are marked; an AE has no likelihood.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace genlab::web {

void App::panel_board() {
  ImGui::TextWrapped(
      "Negative log-likelihood of the test split, per image in nats and per pixel in bits (nats / (784 ln 2)); "
      "lower is better. PixelCNNs give the exact value; for a VAE the -ELBO and the importance-weighted -L_K are "
      "upper bounds of it. Evaluate each model after training to add it here.");
  ImGui::BeginDisabled(!pg_.has_model());
  if (ImGui::Button("Evaluate current model", ImVec2(240, 40))) {
    Json c = Json::object();
    c["cmd"] = "evaluate";
    run(c);
  }
  ImGui::EndDisabled();
  const std::vector<BoardEntry>& board = pg_.board();
  if (board.empty()) {
    ImGui::TextDisabled("(no evaluated models yet)");
    return;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp;
  if (ImGui::BeginTable("board", 7, flags)) {
    ImGui::TableSetupColumn("model");
    ImGui::TableSetupColumn("data set");
    ImGui::TableSetupColumn("configuration", ImGuiTableColumnFlags_WidthStretch, 2.f);
    ImGui::TableSetupColumn("step");
    ImGui::TableSetupColumn("metric");
    ImGui::TableSetupColumn("nats / image");
    ImGui::TableSetupColumn("bits / dim");
    ImGui::TableHeadersRow();
    for (const BoardEntry& e : board) {
      ImGui::TableNextRow(ImGuiTableRowFlags_None, 30.f);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(e.model.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(e.dataset.c_str());
      ImGui::TableNextColumn();
      ImGui::TextWrapped("%s", e.summary.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%lld", static_cast<long long>(e.step));
      ImGui::TableNextColumn();
      const bool bound = e.metric.rfind("neg_", 0) == 0;
      if (e.metric == "recon_error") ImGui::TextUnformatted("reconstruction error (no likelihood)");
      else ImGui::Text("%s%s", e.metric.c_str(), bound ? " (bound)" : e.metric == "nll" ? " (exact)" : "");
      ImGui::TableNextColumn();
      if (std::isfinite(e.nats)) ImGui::Text("%s%.2f", bound ? "<= " : "", e.nats);
      else ImGui::TextDisabled("-");
      ImGui::TableNextColumn();
      if (std::isfinite(e.bits_per_dim)) ImGui::Text("%s%.4f", bound ? "<= " : "", e.bits_per_dim);
      else ImGui::TextDisabled("-");
    }
    ImGui::EndTable();
  }

  // Bars of bits/dim per data set (only comparable within one data set).
  ImGui::Spacing();
  ImGui::TextDisabled("BITS/DIM (shorter is better; hatched: upper bound)");
  double bmax = 0;
  for (const BoardEntry& e : board)
    if (std::isfinite(e.bits_per_dim)) bmax = std::max(bmax, e.bits_per_dim);
  if (bmax <= 0) return;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float w = ImGui::GetContentRegionAvail().x;
  const float label_w = std::min(360.f, w * 0.4f);
  for (const BoardEntry& e : board) {
    if (!std::isfinite(e.bits_per_dim)) continue;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    char lab[160];
    std::snprintf(lab, sizeof(lab), "%s / %s @%lld", e.model.c_str(), e.dataset.c_str(), static_cast<long long>(e.step));
    dl->AddText(ImVec2(p.x, p.y + 4), IM_COL32(220, 220, 225, 255), lab);
    const float bw = static_cast<float>(e.bits_per_dim / bmax) * (w - label_w - 80);
    const bool bound = e.metric.rfind("neg_", 0) == 0;
    const ImU32 col = e.metric == "nll" ? IM_COL32(120, 220, 120, 255) : IM_COL32(255, 150, 60, 255);
    dl->AddRectFilled(ImVec2(p.x + label_w, p.y + 3), ImVec2(p.x + label_w + bw, p.y + 23), col);
    if (bound)
      for (float x = p.x + label_w + 6; x < p.x + label_w + bw; x += 8)
        dl->AddLine(ImVec2(x, p.y + 23), ImVec2(std::min(x + 8, p.x + label_w + bw), p.y + 3), IM_COL32(0, 0, 0, 90), 2.f);
    std::snprintf(lab, sizeof(lab), "%.4f", e.bits_per_dim);
    dl->AddText(ImVec2(p.x + label_w + bw + 6, p.y + 4), IM_COL32(220, 220, 225, 255), lab);
    ImGui::Dummy(ImVec2(w, 28));
  }
}

}  // namespace genlab::web
