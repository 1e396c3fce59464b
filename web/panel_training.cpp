// Panel 1, "Model & training": the set-up editor (data set, model, hyperparameters from the
// playground's schema with their ranges, seed), Train / Pause / Step / Reset / New, progress
// (step, epoch, img/s, time to the step target) and live curves: train and test loss in nats or
// bits/dim, the VAE's reconstruction and KL terms separately, and the KL of every latent dimension.
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "app.h"
#include "imgui.h"
#include "parallel.h"

namespace genlab::web {

namespace {

const char* const kDatasets[] = {"mnist10k", "fashion-mnist", "upload"};
const char* const kModels[] = {"ae", "vae", "pixelcnn", "gated-pixelcnn"};
const char* const kModelLabels[] = {"Autoencoder (AE)", "Variational AE (VAE)", "PixelCNN", "Gated PixelCNN"};

bool applies_to(const HyperParam& hp, const std::string& kind) {
  return hp.kinds.empty() || std::find(hp.kinds.begin(), hp.kinds.end(), kind) != hp.kinds.end();
}

std::string value_or_default(const Setup& s, const HyperParam& hp) {
  auto it = s.hyper.find(hp.key);
  return it == s.hyper.end() ? hp.def : it->second;
}

std::string format_number(double v, bool integer) {
  char buf[64];
  if (integer) std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(std::llround(v)));
  else std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

ImU32 term_colour(const std::string& term, int index) {
  if (term == "loss") return IM_COL32(240, 240, 240, 255);
  if (term == "recon") return IM_COL32(90, 170, 255, 255);
  if (term == "kl") return IM_COL32(255, 150, 60, 255);
  if (term == "nll") return IM_COL32(120, 220, 120, 255);
  static const ImU32 others[] = {IM_COL32(220, 110, 220, 255), IM_COL32(230, 210, 80, 255),
                                 IM_COL32(100, 220, 220, 255), IM_COL32(255, 110, 110, 255)};
  return others[index % 4];
}

// A term is in nats per image (convertible to bits/dim) unless it is already a rate or a distance.
bool term_in_nats(const std::string& term) {
  return term != "bits_per_dim" && term != "mse" && term != "iwae_k" && term != "lr";
}

// Terms not plotted: the ELBO is the negated loss, the rest are not losses.
bool term_plotted(const std::string& term) {
  return term != "elbo" && term != "iwae_k" && term != "lr" && term != "bits_per_dim";
}

}  // namespace

void App::sync_setup_editor() {
  const Setup& now = pg_.setup();
  const bool changed = now.dataset != seen_setup_.dataset || now.model != seen_setup_.model ||
                       now.seed != seen_setup_.seed || now.hyper != seen_setup_.hyper;
  if (changed) {
    seen_setup_ = now;
    if (!edit_dirty_) edit_ = now;
  }
  if (edit_.model.empty()) edit_ = now;
}

void App::draw_setup_editor() {
  ImGui::TextDisabled("SET-UP");
  bool edited = false;
  const float label_w = 150.f;
  auto label = [&](const char* text) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(text);
    ImGui::SameLine(label_w);
    ImGui::SetNextItemWidth(-1);
  };

  if (!hidden("dataset")) {
    ImGui::BeginDisabled(locked("dataset"));
    label("Data set");
    if (ImGui::BeginCombo("##dataset", edit_.dataset.c_str())) {
      for (const char* d : kDatasets)
        if (ImGui::Selectable(d, edit_.dataset == d)) edit_.dataset = d, edited = true;
      ImGui::EndCombo();
    }
    ImGui::EndDisabled();
    ImGui::TextDisabled("(or drop an IDX image file on the page: data set \"upload\")");
  }
  if (!hidden("model")) {
    ImGui::BeginDisabled(locked("model"));
    label("Model");
    int current = 0;
    for (int i = 0; i < 4; ++i)
      if (edit_.model == kModels[i]) current = i;
    if (ImGui::BeginCombo("##model", kModelLabels[current])) {
      for (int i = 0; i < 4; ++i)
        if (ImGui::Selectable(kModelLabels[i], i == current)) edit_.model = kModels[i], edited = true;
      ImGui::EndCombo();
    }
    ImGui::EndDisabled();
  }

  if (!hidden("hyper")) {
    ImGui::BeginDisabled(locked("hyper"));
    for (const HyperParam& hp : pg_.schema()) {
      if (!applies_to(hp, edit_.model)) continue;
      ImGui::PushID(hp.key.c_str());
      const std::string text = value_or_default(edit_, hp);
      label(hp.label.empty() ? hp.key.c_str() : hp.label.c_str());
      if (hp.type == "int") {
        int v = std::atoi(text.c_str());
        const int lo = static_cast<int>(hp.min), hi = static_cast<int>(hp.max);
        if (ImGui::SliderInt("##v", &v, lo, hi, "%d", ImGuiSliderFlags_AlwaysClamp))
          edit_.hyper[hp.key] = format_number(v, true), edited = true;
      } else if (hp.type == "float") {
        float v = static_cast<float>(std::atof(text.c_str()));
        const ImGuiSliderFlags flags =
            ImGuiSliderFlags_AlwaysClamp | (hp.log_scale ? ImGuiSliderFlags_Logarithmic : 0);
        if (ImGui::SliderFloat("##v", &v, static_cast<float>(hp.min), static_cast<float>(hp.max),
                               hp.log_scale ? "%.2e" : "%.3g", flags))
          edit_.hyper[hp.key] = format_number(v, false), edited = true;
      } else if (hp.type == "bool") {
        bool v = text == "1" || text == "true";
        if (ImGui::Checkbox("##v", &v)) edit_.hyper[hp.key] = v ? "true" : "false", edited = true;
      } else if (hp.type == "choice") {
        if (ImGui::BeginCombo("##v", text.c_str())) {
          for (const std::string& c : hp.choices)
            if (ImGui::Selectable(c.c_str(), c == text)) edit_.hyper[hp.key] = c, edited = true;
          ImGui::EndCombo();
        }
      }
      ImGui::PopID();
    }
    ImGui::EndDisabled();
  }
  if (!hidden("seed")) {
    ImGui::BeginDisabled(locked("seed"));
    label("Seed");
    int seed = static_cast<int>(std::min<uint64_t>(edit_.seed, 2147483647u));
    if (ImGui::InputInt("##seed", &seed, 1, 100)) edit_.seed = static_cast<uint64_t>(std::max(0, seed)), edited = true;
    ImGui::EndDisabled();
  }
  if (edited) edit_dirty_ = true;

  const bool can_apply = !locked("model") || !locked("hyper") || !locked("dataset");
  ImGui::BeginDisabled(!can_apply);
  if (edit_dirty_) ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.75f, 0.45f, 0.1f, 1.f));
  if (ImGui::Button(edit_dirty_ ? "Apply set-up (new model)" : "Apply set-up", ImVec2(-1, 40))) {
    Json c = Json::object();
    c["cmd"] = "setup";
    c["dataset"] = edit_.dataset;
    c["model"] = edit_.model;
    c["seed"] = static_cast<double>(edit_.seed);
    for (const HyperParam& hp : pg_.schema()) {
      if (!applies_to(hp, edit_.model)) continue;
      const std::string v = value_or_default(edit_, hp);
      if (hp.type == "int" || hp.type == "float") c[hp.key] = std::atof(v.c_str());
      else if (hp.type == "bool") c[hp.key] = (v == "1" || v == "true");
      else c[hp.key] = v;
    }
    const Json reply = run(c);
    const Json* ok = reply.find("ok");
    if (ok && ok->is_bool() && ok->as_bool()) edit_dirty_ = false;
  }
  if (edit_dirty_) ImGui::PopStyleColor();
  ImGui::EndDisabled();
  if (edit_dirty_) {
    ImGui::TextColored(ImVec4(0.95f, 0.75f, 0.35f, 1.f), "Edited: apply to start a new model.");
    ImGui::SameLine();
    if (ImGui::SmallButton("revert")) edit_ = pg_.setup(), edit_dirty_ = false;
  }
}

void App::draw_training_controls() {
  ImGui::TextDisabled("TRAINING");
  if (hidden("train")) return;
  ImGui::BeginDisabled(locked("train") || !pg_.has_model());
  const float bw = (ImGui::GetContentRegionAvail().x - 3 * ImGui::GetStyle().ItemSpacing.x) / 4.f;
  const ImVec2 big(bw, 44);
  if (!pg_.training()) {
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.15f, 0.5f, 0.25f, 1.f));
    if (ImGui::Button("Train", big)) {
      // Past the target (e.g. a pretrained start): aim 2000 steps further.
      if (target_steps_ <= pg_.step()) target_steps_ = pg_.step() + 2000;
      Json c = Json::object();
      c["cmd"] = "train";
      c["until"] = static_cast<double>(target_steps_);
      run(c);
    }
    ImGui::PopStyleColor();
  } else if (ImGui::Button("Pause", big)) {
    run("pause");
  }
  ImGui::SameLine();
  if (ImGui::Button("Step", big)) {
    Json c = Json::object();
    c["cmd"] = "step";
    c["n"] = 1;
    run(c);
  }
  ImGui::SameLine();
  if (ImGui::Button("Reset", big)) run("reset");
  ImGui::SameLine();
  ImGui::BeginDisabled(locked("new") || hidden("new"));
  if (ImGui::Button("New", big)) {
    // A clean start: default set-up, fresh model, board cleared, autosave dropped.
    edit_dirty_ = false;
    run("new");
    EM_ASM({ if (window.genlab && window.genlab.clearAutosave) window.genlab.clearAutosave(); });
  }
  ImGui::EndDisabled();
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Stop at step");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  int target = static_cast<int>(target_steps_);
  if (ImGui::InputInt("##target", &target, 100, 1000)) target_steps_ = std::clamp(target, 1, 10000000);
  ImGui::EndDisabled();

  // Progress towards the target.
  const int64_t step = pg_.step();
  const int64_t until = pg_.train_until() > 0 ? pg_.train_until() : target_steps_;
  const float frac = until > 0 ? std::clamp(static_cast<float>(step) / static_cast<float>(until), 0.f, 1.f) : 0.f;
  char overlay[96];
  std::snprintf(overlay, sizeof(overlay), "%lld / %lld steps", static_cast<long long>(step),
                static_cast<long long>(until));
  ImGui::ProgressBar(frac, ImVec2(-1, 0), overlay);
  int batch = 64;
  auto it = pg_.setup().hyper.find("batch");
  if (it != pg_.setup().hyper.end()) batch = std::max(1, std::atoi(it->second.c_str()));
  // img/s while training runs (engine) and steps/s of wall-clock time (what the ETA needs).
  const double steps_per_sec = wall_steps_per_sec_;
  ImGui::Text("epoch %.2f   %.0f img/s   %.1f steps/s (batch %d)", pg_.epoch(), pg_.img_per_sec(), steps_per_sec,
              batch);
  if (pg_.training() && steps_per_sec > 0 && until > step) {
    const double secs = static_cast<double>(until - step) / steps_per_sec;
    ImGui::Text("time to step %lld: %d min %02d s", static_cast<long long>(until), static_cast<int>(secs) / 60,
                static_cast<int>(secs) % 60);
  }
  ImGui::Text("%.0f fps; training %.1f of %.1f ms per frame (%.0f%% of the time)", fps_, budget_.used_ms,
              budget_.budget_ms, 100.0 * budget_.wall_share);
  if (max_threads() > 1) {  // the threaded build (cross-origin isolated page)
    int n = threads();
    ImGui::TextUnformatted("threads");
    ImGui::SameLine();
    ImGui::RadioButton("1##threads", &n, 1);
    ImGui::SameLine();
    ImGui::RadioButton("2 (each batch split in halves)##threads", &n, 2);
    if (n != threads()) {
      Json c = Json::object();
      c["cmd"] = "threads";
      c["n"] = n;
      run(c);
    }
  } else {
    ImGui::TextDisabled("1 thread (the page is not cross-origin isolated)");
  }
  ImGui::Checkbox("keep training when the tab is hidden", &train_in_background_);
  if (ImGui::Button("Evaluate on test set", ImVec2(-1, 36))) {
    Json c = Json::object();
    c["cmd"] = "evaluate";
    run(c);
  }
}

void App::draw_curves(float height) {
  const Curves& cv = pg_.curves();
  const GenerativeModel* m = pg_.model();
  const double dims = m ? static_cast<double>(m->channels()) * m->height() * m->width() : 784.0;
  const double to_bits = 1.0 / (dims * std::log(2.0));

  ImGui::TextDisabled("CURVES");
  ImGui::SameLine();
  ImGui::Checkbox("bits/dim", &curves_in_bits_);
  ImGui::SameLine();
  ImGui::Checkbox("log y", &curves_log_y_);
  ImGui::SameLine();
  ImGui::TextDisabled("lines: train (smoothed), dots: test");

  // Series to draw: every nats term of train and test, converted if asked.
  struct Series {
    std::string name;
    const std::vector<double>* x;
    const std::vector<double>* y;
    bool test;
    ImU32 colour;
  };
  std::vector<Series> series;
  int idx = 0;
  for (const auto& [name, ys] : cv.train.terms) {
    if (!term_plotted(name)) continue;
    series.push_back({name, &cv.train.step, &ys, false, term_colour(name, idx++)});
  }
  for (const auto& [name, ys] : cv.test.terms) {
    if (!term_plotted(name)) continue;
    ImU32 col = IM_COL32(255, 255, 255, 255);
    for (const Series& s : series)
      if (s.name == name) col = s.colour;
    series.push_back({name, &cv.test.step, &ys, true, col});
  }
  auto convert = [&](const std::string& name, double v) {
    double out = (curves_in_bits_ && term_in_nats(name)) ? v * to_bits : v;
    if (curves_log_y_) out = std::log10(std::max(out, 1e-6));
    return out;
  };

  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  const ImVec2 size(w, height);
  ImGui::InvisibleButton("curves", size);
  const bool hovered = ImGui::IsItemHovered();
  dl->AddRectFilled(p0, ImVec2(p0.x + w, p0.y + height), IM_COL32(22, 24, 28, 255), 4.f);
  const float left = 58.f, bottom = 22.f, top = 8.f, right = 10.f;
  const ImVec2 a(p0.x + left, p0.y + top), b(p0.x + w - right, p0.y + height - bottom);

  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const Series& s : series) {
    const size_t n = std::min(s.x->size(), s.y->size());
    for (size_t i = 0; i < n; ++i) {
      const double y = convert(s.name, (*s.y)[i]);
      if (!std::isfinite(y)) continue;
      xmin = std::min(xmin, (*s.x)[i]), xmax = std::max(xmax, (*s.x)[i]);
      ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  }
  if (xmin > xmax) {
    const char* t = "Train to see the loss curves.";
    dl->AddText(ImVec2(p0.x + 16, p0.y + height / 2 - 8), IM_COL32(150, 150, 160, 255), t);
    return;
  }
  if (xmax <= xmin) xmax = xmin + 1;
  if (ymax <= ymin) ymax = ymin + 1;
  const bool non_negative = ymin >= 0;
  const double pad = 0.05 * (ymax - ymin);
  ymin -= pad, ymax += pad;
  if (!curves_log_y_ && non_negative && ymin < 0.3 * ymax) ymin = 0;  // losses: start the axis at 0
  auto X = [&](double x) { return a.x + static_cast<float>((x - xmin) / (xmax - xmin)) * (b.x - a.x); };
  auto Y = [&](double y) { return b.y - static_cast<float>((y - ymin) / (ymax - ymin)) * (b.y - a.y); };

  // Grid and axis labels.
  for (int i = 0; i <= 4; ++i) {
    const double yv = ymin + (ymax - ymin) * i / 4.0;
    const float y = Y(yv);
    dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), IM_COL32(60, 64, 72, 255));
    char lab[32];
    std::snprintf(lab, sizeof(lab), "%.3g", curves_log_y_ ? std::pow(10.0, yv) : yv);
    dl->AddText(ImVec2(p0.x + 4, y - 8), IM_COL32(160, 160, 170, 255), lab);
  }
  for (int i = 0; i <= 4; ++i) {
    const double xv = xmin + (xmax - xmin) * i / 4.0;
    char lab[32];
    std::snprintf(lab, sizeof(lab), "%.0f", xv);
    dl->AddText(ImVec2(X(xv) - 10, b.y + 3), IM_COL32(160, 160, 170, 255), lab);
  }
  dl->PushClipRect(a, b, true);
  for (const Series& s : series) {
    const size_t n = std::min(s.x->size(), s.y->size());
    if (s.test) {
      for (size_t i = 0; i < n; ++i) {
        const double y = convert(s.name, (*s.y)[i]);
        if (std::isfinite(y)) dl->AddCircleFilled(ImVec2(X((*s.x)[i]), Y(y)), 4.f, s.colour);
      }
      continue;
    }
    // Down-sample to about one point per pixel column.
    std::vector<ImVec2> pts;
    const size_t stride = std::max<size_t>(1, n / static_cast<size_t>(std::max(1.f, b.x - a.x)));
    for (size_t i = 0; i < n; i += stride) {
      const double y = convert(s.name, (*s.y)[i]);
      if (std::isfinite(y)) pts.emplace_back(X((*s.x)[i]), Y(y));
    }
    if (pts.size() >= 2) dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), s.colour, 0, 2.f);
    else if (pts.size() == 1) dl->AddCircleFilled(pts[0], 3.f, s.colour);
  }
  dl->PopClipRect();
  // Legend.
  float lx = a.x + 8, ly = a.y + 4;
  for (const Series& s : series) {
    if (s.test) continue;
    const double last = s.y->empty() ? 0 : (*s.y).back();
    const double shown = (curves_in_bits_ && term_in_nats(s.name)) ? last * to_bits : last;
    char lab[96];
    std::snprintf(lab, sizeof(lab), "%s %.4g", s.name.c_str(), shown);
    dl->AddRectFilled(ImVec2(lx, ly + 6), ImVec2(lx + 14, ly + 10), s.colour);
    dl->AddText(ImVec2(lx + 18, ly), IM_COL32(220, 220, 225, 255), lab);
    lx += ImGui::CalcTextSize(lab).x + 34;
  }
  if (hovered) {
    const double xv = xmin + (ImGui::GetIO().MousePos.x - a.x) / (b.x - a.x) * (xmax - xmin);
    ImGui::BeginTooltip();
    ImGui::Text("step %.0f", xv);
    for (const Series& s : series) {
      const size_t n = std::min(s.x->size(), s.y->size());
      if (n == 0) continue;
      const size_t i = static_cast<size_t>(std::lower_bound(s.x->begin(), s.x->begin() + n, xv) - s.x->begin());
      const size_t j = std::min(i, n - 1);
      const double v = (*s.y)[j];
      ImGui::Text("%s %s: %.4g %s", s.test ? "test " : "train", s.name.c_str(),
                  (curves_in_bits_ && term_in_nats(s.name)) ? v * to_bits : v,
                  term_in_nats(s.name) ? (curves_in_bits_ ? "bits/dim" : "nats") : "");
    }
    ImGui::EndTooltip();
  }
}

void App::draw_kl_bars(float height) {
  const std::vector<double>& kl = pg_.curves().kl_per_dim;
  ImGui::TextDisabled("KL PER LATENT DIMENSION (nats)");
  ImGui::SameLine();
  ImGui::TextDisabled("grey: inactive (< 0.05 nats, posterior collapse)");
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x;
  ImGui::InvisibleButton("kl_bars", ImVec2(w, height));
  dl->AddRectFilled(p0, ImVec2(p0.x + w, p0.y + height), IM_COL32(22, 24, 28, 255), 4.f);
  if (kl.empty()) {
    dl->AddText(ImVec2(p0.x + 16, p0.y + height / 2 - 8), IM_COL32(150, 150, 160, 255), "(VAE only, after training)");
    return;
  }
  double kmax = 0.1;
  for (double v : kl) kmax = std::max(kmax, v);
  const float bottom = 18.f;
  const float slot = (w - 16) / static_cast<float>(kl.size());
  const float bar = std::max(2.f, slot * 0.75f);
  const int hovered_bar = ImGui::IsItemHovered()
                              ? static_cast<int>((ImGui::GetIO().MousePos.x - p0.x - 8) / slot)
                              : -1;
  for (size_t i = 0; i < kl.size(); ++i) {
    const float x = p0.x + 8 + slot * i;
    const float h = static_cast<float>(kl[i] / kmax) * (height - bottom - 8);
    const ImU32 col = kl[i] < 0.05 ? IM_COL32(110, 110, 115, 255) : IM_COL32(255, 150, 60, 255);
    dl->AddRectFilled(ImVec2(x, p0.y + height - bottom - h), ImVec2(x + bar, p0.y + height - bottom), col);
    if (slot >= 18 || i % 4 == 0) {
      char lab[8];
      std::snprintf(lab, sizeof(lab), "%zu", i);
      dl->AddText(ImVec2(x, p0.y + height - bottom + 1), IM_COL32(160, 160, 170, 255), lab);
    }
  }
  if (hovered_bar >= 0 && hovered_bar < static_cast<int>(kl.size()))
    ImGui::SetTooltip("z%d: KL %.4f nats", hovered_bar, kl[hovered_bar]);
}

void App::panel_training() {
  sync_setup_editor();
  const float avail = ImGui::GetContentRegionAvail().x;
  const bool vae = pg_.setup().model == "vae";
  if (avail < 760.f) {
    // Narrow (portrait tablet, phone): one scrolling column, the training buttons first.
    draw_training_controls();
    ImGui::Separator();
    draw_curves(300.f);
    if (vae) draw_kl_bars(150.f);
    ImGui::Separator();
    draw_setup_editor();
    return;
  }
  const float left_w = std::clamp(avail * 0.34f, 340.f, 460.f);
  ImGui::BeginChild("setup", ImVec2(left_w, 0.f), false);
  draw_setup_editor();
  ImGui::Spacing();
  ImGui::Separator();
  draw_training_controls();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("plots", ImVec2(0, 0), false);
  const float h = ImGui::GetContentRegionAvail().y;
  draw_curves(std::max(220.f, vae ? h * 0.62f : h - 40.f));
  if (vae) draw_kl_bars(std::max(110.f, ImGui::GetContentRegionAvail().y - 30.f));
  ImGui::EndChild();
}

}  // namespace genlab::web
