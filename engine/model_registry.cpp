// make_model(): dispatches a config to the model family that knows its "model" key. Each family
// exposes one factory returning nullptr for kinds it does not own.
#include "error.h"
#include "model.h"

namespace genlab {

std::unique_ptr<GenerativeModel> make_autoencoder_model(const ModelConfig& config, uint64_t init_seed);  // autoencoder.cpp
std::unique_ptr<GenerativeModel> make_pixelcnn_model(const ModelConfig& config, uint64_t init_seed);    // pixelcnn.cpp

std::unique_ptr<GenerativeModel> make_model(const ModelConfig& config, uint64_t init_seed) {
  auto it = config.find("model");
  require(it != config.end(), "model config has no 'model' key");
  using Factory = std::unique_ptr<GenerativeModel> (*)(const ModelConfig&, uint64_t);
  for (Factory f : {&make_autoencoder_model, &make_pixelcnn_model})
    if (auto m = f(config, init_seed)) return m;
  throw Error("unknown model '" + it->second + "' (expected ae, vae, pixelcnn or gated-pixelcnn)");
}

}  // namespace genlab
