// Embind bindings: the Playground API (engine/playground.h) as functions on the Emscripten Module,
// which web/js/genlab_api.js wraps into window.genlab. Strings carry JSON; bytes (data sets,
// checkpoints) cross as Uint8Array copies; image buffers come back as Float32Array copies.
// Nothing here throws into JavaScript: errors come back as {"ok":false,"error":...} replies.
#include "bindings.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <exception>
#include <string>
#include <vector>

#include "json.h"

using emscripten::val;

genlab::Playground& web_playground() {
  static genlab::Playground playground;
  return playground;
}

namespace {

std::string error_reply(const std::string& message) {
  std::string out = "{\"ok\":false,\"error\":";
  genlab::json_escape_to(out, message);
  return out + "}";
}

// Copies a JS Uint8Array (or ArrayBuffer view) into a vector with one bulk copy.
std::vector<uint8_t> bytes_from_js(const val& array) {
  const size_t n = array["length"].as<size_t>();
  std::vector<uint8_t> bytes(n);
  if (n > 0) val(emscripten::typed_memory_view(n, bytes.data())).call<void>("set", array);
  return bytes;
}

val bytes_to_js(const std::vector<uint8_t>& bytes) {
  return val::global("Uint8Array").new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
}

std::string version() { return genlab::Playground::version(); }
std::string state() { return web_playground().state_json(); }
std::string command(const std::string& json) { return web_playground().command(json); }
std::string schema() { return genlab::Playground::schema_json(); }
std::string curves_csv() { return web_playground().curves_csv(); }

std::string put_file(const std::string& path, const val& bytes) {
  try {
    return web_playground().put_file(path, bytes_from_js(bytes));
  } catch (const std::exception& e) {
    return error_reply(e.what());
  }
}

std::string import_model(const val& bytes) {
  try {
    const std::vector<uint8_t> b = bytes_from_js(bytes);
    return web_playground().import_model(b);
  } catch (const std::exception& e) {
    return error_reply(e.what());
  }
}

std::string load_pretrained(const val& bytes) {
  try {
    const std::vector<uint8_t> b = bytes_from_js(bytes);
    return web_playground().load_pretrained(b);
  } catch (const std::exception& e) {
    return error_reply(e.what());
  }
}

// Uint8Array with the safetensors file, or a string with the error.
val export_model(bool with_state) {
  try {
    return bytes_to_js(web_playground().export_model(with_state));
  } catch (const std::exception& e) {
    return val(std::string(e.what()));
  }
}

// {n, c, h, w, version, pixels: Float32Array [n,c,h,w] in [0,1], labels: [..]} of a named buffer, or null.
val image_grid(const std::string& name) {
  genlab::Playground& p = web_playground();
  const genlab::ImageGrid* g = nullptr;
  if (name == "samples") g = &p.samples();
  else if (name == "latent_map") g = &p.latent_map();
  else if (name == "interpolation") g = &p.interpolation();
  else if (name == "traversal") g = &p.traversal();
  else if (name == "reconstruction") g = &p.reconstruction();
  else if (name == "completion") g = &p.completion();
  else if (name == "replay") g = &p.replay().image;
  else if (name == "test") g = &p.test_images();
  if (!g) return val::null();
  val out = val::object();
  out.set("n", g->n);
  out.set("c", g->c);
  out.set("h", g->h);
  out.set("w", g->w);
  out.set("version", g->version);
  out.set("pixels", val::global("Float32Array").new_(emscripten::typed_memory_view(g->pixels.size(), g->pixels.data())));
  val labels = val::array();
  for (int l : g->labels) labels.call<void>("push", l);
  out.set("labels", labels);
  return out;
}

// The receptive-field overlay [H*W] (1 = the current pixel depends on it).
val receptive_mask() {
  const genlab::ReceptiveField& f = web_playground().receptive_field();
  return bytes_to_js(f.mask);
}

// Points of the latent scatter: Float32Array [x0, y0, x1, y1, ...] and labels.
val latent_points() {
  const auto& pts = web_playground().latent_points();
  std::vector<float> xy;
  std::vector<int> labels;
  for (const auto& q : pts) {
    xy.push_back(q.x);
    xy.push_back(q.y);
    labels.push_back(q.label);
  }
  val out = val::object();
  out.set("xy", val::global("Float32Array").new_(emscripten::typed_memory_view(xy.size(), xy.data())));
  out.set("labels", val::global("Int32Array").new_(emscripten::typed_memory_view(labels.size(), labels.data())));
  return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(genlab_playground) {
  emscripten::function("genlabVersion", &version);
  emscripten::function("genlabState", &state);
  emscripten::function("genlabCommand", &command);
  emscripten::function("genlabSchema", &schema);
  emscripten::function("genlabCurvesCsv", &curves_csv);
  emscripten::function("genlabPutFile", &put_file);
  emscripten::function("genlabImportModel", &import_model);
  emscripten::function("genlabLoadPretrained", &load_pretrained);
  emscripten::function("genlabExportModel", &export_model);
  emscripten::function("genlabImageGrid", &image_grid);
  emscripten::function("genlabReceptiveMask", &receptive_mask);
  emscripten::function("genlabLatentPoints", &latent_points);
}
