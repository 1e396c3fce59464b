// The playground API (engine/playground.h): commands validate their input and never lose the model,
// training is deterministic for a set-up and seed, export -> import reproduces samples exactly,
// data sets arrive as bytes, and the latent / generation-order / drawing commands fill their buffers.
#include "playground.h"

#include <gtest/gtest.h>

#include <string>

#include "dataset.h"
#include "json.h"

namespace genlab {
namespace {

Json run(Playground& p, const std::string& cmd) { return Json::parse(p.command(cmd)); }

void expect_ok(const Json& r) {
  ASSERT_TRUE(r.find("ok") && r.at("ok").as_bool()) << r.dump();
}

void expect_error(const Json& r, const std::string& fragment) {
  ASSERT_FALSE(r.at("ok").as_bool()) << r.dump();
  EXPECT_NE(r.at("error").as_string().find(fragment), std::string::npos) << r.dump();
}

std::string params_hash(Playground& p) { return run(p, R"({"cmd":"hash"})").at("params").as_string(); }

// A small VAE that trains in well under a second natively.
const char* kSmallVae = R"({"cmd":"setup","dataset":"mnist10k","model":"vae","hidden":48,"latent":2,"batch":16,"seed":3})";
const char* kSmallPixelCnn = R"({"cmd":"setup","dataset":"mnist10k","model":"pixelcnn","channels":8,"layers":2,"batch":8,"seed":5})";

std::unique_ptr<Playground> make_playground(const char* setup = kSmallVae) {
  auto p = std::make_unique<Playground>();
  p->set_data_dir(default_data_dir());
  const Json r = Json::parse(p->command(setup));
  EXPECT_TRUE(r.at("ok").as_bool()) << r.dump();
  return p;
}

TEST(Playground, BadCommandsAreRejectedAndKeepTheModel) {
  auto p = make_playground();
  expect_ok(run(*p, R"({"cmd":"step","n":5})"));
  const std::string before = params_hash(*p);
  expect_error(run(*p, "{not json"), "");
  expect_error(run(*p, "[1,2]"), "JSON object");
  expect_error(run(*p, R"({"n":3})"), "cmd");
  expect_error(run(*p, R"({"cmd":"fly"})"), "unknown command 'fly'");
  expect_error(run(*p, R"({"cmd":"setup","hidden":100000})"), "out of range");
  expect_error(run(*p, R"({"cmd":"setup","lr":"abc"})"), "not a number");
  expect_error(run(*p, R"({"cmd":"setup","lr":5})"), "out of range");
  expect_error(run(*p, R"({"cmd":"setup","latent":1.5})"), "whole number");
  expect_error(run(*p, R"({"cmd":"setup","model":"gan"})"), "unknown model 'gan'");
  expect_error(run(*p, R"({"cmd":"setup","dataset":"cifar"})"), "unknown data set 'cifar'");
  expect_error(run(*p, R"({"cmd":"setup","seed":-1})"), "seed");
  expect_error(run(*p, R"({"cmd":"setup","wings":2})"), "unknown setting 'wings'");
  expect_error(run(*p, R"({"cmd":"step","n":0})"), "out of range");
  expect_error(run(*p, R"({"cmd":"sample","temperature":"hot"})"), "must be a number");
  expect_error(run(*p, R"({"cmd":"sample","label":3})"), "not class-conditional");
  expect_error(run(*p, R"({"cmd":"panel","name":"<script>"})"), "unknown panel");
  expect_error(run(*p, R"({"cmd":"ui","lock":["everything"]})"), "unknown control");
  expect_error(run(*p, R"({"cmd":"replay"})"), "needs a PixelCNN");
  expect_error(run(*p, R"({"cmd":"draw","pixels":[1,2]})"), "784");
  EXPECT_EQ(params_hash(*p), before);
  const Json s = Json::parse(p->state_json());
  EXPECT_EQ(s.at("model").as_string(), "vae");
  EXPECT_EQ(s.at("step").as_int(), 5);
  EXPECT_TRUE(s.at("messageError").as_bool());
  // Garbage checkpoints are rejected with a message and nothing changes.
  const std::vector<uint8_t> junk = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  expect_error(Json::parse(p->import_model(junk)), "import failed");
  EXPECT_EQ(params_hash(*p), before);
}

TEST(Playground, TrainingLowersTheTestLoss) {
  auto p = make_playground();
  const double before = run(*p, R"({"cmd":"evaluate","max":200,"k":1})").at("metrics").at("neg_elbo_nats").as_number();
  expect_ok(run(*p, R"({"cmd":"step","n":150})"));
  const Json after = run(*p, R"({"cmd":"evaluate","max":200,"k":4})");
  EXPECT_LT(after.at("metrics").at("neg_elbo_nats").as_number(), before - 40) << after.dump();
  ASSERT_EQ(p->board().size(), 1u);
  EXPECT_EQ(p->board()[0].step, 150);
  EXPECT_EQ(p->curves().train.step.size(), 150u);
  EXPECT_GT(p->samples().n, 0);
}

TEST(Playground, SameSetupAndSeedGiveIdenticalParameters) {
  auto a = make_playground(), b = make_playground();
  expect_ok(run(*a, R"({"cmd":"step","n":20})"));
  // b trains through slices of the main loop instead: the result must not depend on slicing.
  expect_ok(run(*b, R"({"cmd":"train","until":20})"));
  for (int i = 0; i < 10000 && b->training(); ++i) b->train_slice(1.0);
  EXPECT_EQ(b->step(), 20);
  EXPECT_FALSE(b->training());
  EXPECT_EQ(params_hash(*a), params_hash(*b));
  auto c = make_playground(R"({"cmd":"setup","dataset":"mnist10k","model":"vae","hidden":48,"latent":2,"batch":16,"seed":4})");
  expect_ok(run(*c, R"({"cmd":"step","n":20})"));
  EXPECT_NE(params_hash(*a), params_hash(*c));
}

TEST(Playground, ExportImportGivesIdenticalSamples) {
  for (const char* setup : {kSmallVae, kSmallPixelCnn}) {
    auto a = make_playground(setup);
    expect_ok(run(*a, R"({"cmd":"step","n":10})"));
    const std::string s1 = run(*a, R"({"cmd":"sample","n":4,"seed":7})").at("hash").as_string();
    for (bool with_state : {false, true}) {
      const std::vector<uint8_t> bytes = a->export_model(with_state);
      Playground b;
      b.set_data_dir(default_data_dir());
      const Json r = Json::parse(b.import_model(bytes));
      expect_ok(r);
      EXPECT_EQ(b.step(), 10);
      EXPECT_EQ(b.setup().model, a->setup().model);
      EXPECT_EQ(params_hash(b), params_hash(*a));
      EXPECT_EQ(run(b, R"({"cmd":"sample","n":4,"seed":7})").at("hash").as_string(), s1);
      if (with_state) {
        EXPECT_EQ(b.curves().train.step.size(), a->curves().train.step.size());
      }
    }
    // A truncated file is rejected and the model stays.
    std::vector<uint8_t> bytes = a->export_model(false);
    bytes.resize(bytes.size() / 2);
    const std::string h = params_hash(*a);
    expect_error(Json::parse(a->import_model(bytes)), "import failed");
    EXPECT_EQ(params_hash(*a), h);
  }
}

TEST(Playground, DataSetsArriveAsBytes) {
  Playground p;  // no data directory: like the page
  const Json r = run(p, R"({"cmd":"setup","dataset":"mnist10k","model":"vae","hidden":32,"latent":2,"batch":8})");
  expect_ok(r);
  EXPECT_TRUE(r.at("pending").as_bool());
  ASSERT_EQ(p.missing_datasets().size(), 1u);
  EXPECT_EQ(p.missing_datasets()[0], "mnist10k");
  EXPECT_FALSE(p.has_model());
  expect_error(run(p, R"({"cmd":"step","n":1})"), "waiting for its data set");
  expect_error(Json::parse(p.put_file("../etc/passwd", {1, 2, 3})), "unexpected path");
  const std::string dir = default_data_dir() + "/mnist10k/";
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "test-images-idx3-ubyte"})
    expect_ok(Json::parse(p.put_file(std::string("mnist10k/") + f, read_file_bytes(dir + f))));
  EXPECT_FALSE(p.has_model());
  const Json last = Json::parse(p.put_file("mnist10k/test-labels-idx1-ubyte", read_file_bytes(dir + "test-labels-idx1-ubyte")));
  expect_ok(last);
  EXPECT_TRUE(last.at("applied").as_bool());
  ASSERT_TRUE(p.has_model());
  EXPECT_TRUE(p.missing_datasets().empty());
  EXPECT_EQ(p.test_images().n, 1000);
  expect_ok(run(p, R"({"cmd":"step","n":2})"));
  // A dropped file that is not IDX is explained; a good one becomes the "upload" data set.
  expect_error(Json::parse(p.put_file("upload/images", {'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0})), "dropped images file");
  std::vector<uint8_t> images = read_file_bytes(dir + "test-images-idx3-ubyte");
  const Json up = Json::parse(p.put_file("upload/images", images));
  expect_ok(up);
  EXPECT_EQ(up.at("images").as_int(), 1000);
  expect_ok(run(p, R"({"cmd":"setup","dataset":"upload"})"));
  EXPECT_EQ(p.setup().dataset, "upload");
  EXPECT_EQ(p.test_images().n, 100);
}

TEST(Playground, LatentViews) {
  auto p = make_playground();
  expect_ok(run(*p, R"({"cmd":"step","n":30})"));
  expect_ok(run(*p, R"({"cmd":"interpolate","a":0,"b":5,"steps":6,"mode":"spherical"})"));
  EXPECT_EQ(p->interpolation().n, 6);
  EXPECT_EQ(p->interpolation().pixels.size(), 6u * 784);
  expect_ok(run(*p, R"({"cmd":"traverse","dim":1,"index":3,"steps":5})"));
  EXPECT_EQ(p->traversal().n, 5);
  expect_ok(run(*p, R"({"cmd":"latent_map","grid":8})"));
  EXPECT_EQ(p->latent_map().n, 64);
  expect_ok(run(*p, R"({"cmd":"encode_test","max":300})"));
  EXPECT_EQ(p->latent_points().size(), 300u);
  expect_error(run(*p, R"({"cmd":"traverse","dim":2})"), "out of range");
  expect_error(run(*p, R"({"cmd":"interpolate","a":0})"), "'a' and 'b'");
  // Draw a test digit, score it against the test-set distribution, and see where it lands.
  expect_ok(run(*p, R"({"cmd":"score_test","max":50})"));
  EXPECT_EQ(p->test_scores().size(), 50u);
  expect_ok(run(*p, R"({"cmd":"draw_test","index":2})"));
  const Json s = run(*p, R"({"cmd":"score"})");
  expect_ok(s);
  EXPECT_TRUE(p->drawing_score().valid);
  EXPECT_TRUE(p->drawing_score().has_latent);
  EXPECT_GE(p->drawing_score().percentile, 0.0);
  EXPECT_EQ(p->reconstruction().n, 1);
  // Pixel soup must score much worse than a real digit (the model flags unreasonable inputs).
  std::string noise = R"({"cmd":"draw","pixels":[)";
  for (int i = 0; i < 784; ++i) {
    if (i) noise.push_back(',');
    noise.push_back((i * 7919) % 3 ? '0' : '1');
  }
  noise += "]}";
  expect_ok(run(*p, noise));
  const Json sn = run(*p, R"({"cmd":"score"})");
  EXPECT_GT(sn.at("nats").as_number(), s.at("nats").as_number() + 50);
  EXPECT_GT(sn.at("percentile").as_number(), 0.9);
}

TEST(Playground, GenerationOrderReplayAndReceptiveField) {
  auto p = make_playground(kSmallPixelCnn);
  expect_ok(run(*p, R"({"cmd":"step","n":5})"));
  const Json r = run(*p, R"({"cmd":"replay","seed":3,"play":false})");
  expect_ok(r);
  EXPECT_EQ(r.at("total").as_int(), 784);
  EXPECT_EQ(r.at("pos").as_int(), 0);
  expect_ok(run(*p, R"({"cmd":"replay_seek","pos":406})"));
  EXPECT_EQ(p->replay().pos, 406);
  EXPECT_EQ(p->receptive_field().pixel, 406);  // the overlay follows the pixel being sampled
  expect_ok(run(*p, R"({"cmd":"replay_play","speed":1000})"));
  p->tick(100);  // 100 ms at 1000 steps/s
  EXPECT_EQ(p->replay().pos, 506);
  // Plain PixelCNN: a blind spot, so fewer than all earlier pixels; none after the pixel.
  const Json f = run(*p, R"({"cmd":"receptive_field","x":14,"y":14})");
  expect_ok(f);
  const int count = static_cast<int>(f.at("count").as_int());
  EXPECT_GT(count, 0);
  EXPECT_LT(count, 14 * 28 + 14);
  for (int i = 14 * 28 + 14; i < 784; ++i) EXPECT_EQ(p->receptive_field().mask[i], 0) << i;
  expect_ok(run(*p, R"({"cmd":"complete","rows":14,"source":"test","index":0,"n":2,"seed":1})"));
  EXPECT_EQ(p->completion().n, 2);
  for (int i = 0; i < 14 * 28; ++i) EXPECT_EQ(p->completion().pixels[i], p->completion().pixels[784 + i]);
  expect_ok(run(*p, R"({"cmd":"draw_test","index":0})"));
  const Json s = run(*p, R"({"cmd":"score"})");
  EXPECT_EQ(s.at("metric").as_string(), "nll");
  EXPECT_GT(s.at("nats").as_number(), 0);
  expect_error(run(*p, R"({"cmd":"latent_map"})"), "need an AE or a VAE");
}

TEST(Playground, InstructorOptionsAndState) {
  auto p = make_playground();
  expect_ok(run(*p, R"({"cmd":"ui","lock":"model,dataset","hide":["draw"]})"));
  expect_ok(run(*p, R"({"cmd":"panel","name":"latent"})"));
  EXPECT_TRUE(p->is_locked("model"));
  EXPECT_TRUE(p->is_locked("dataset"));
  EXPECT_FALSE(p->is_locked("train"));
  EXPECT_TRUE(p->is_hidden("draw"));
  const Json s = Json::parse(p->state_json());
  EXPECT_EQ(s.at("panel").as_string(), "latent");
  EXPECT_EQ(s.at("locked").size(), 2u);
  EXPECT_EQ(s.at("config").at("hidden").as_string(), "48");
  const Json schema = Json::parse(Playground::schema_json());
  EXPECT_GT(schema.at("hyper").size(), 5u);
  // "new" goes back to the defaults but keeps the instructor's locks.
  expect_ok(run(*p, R"({"cmd":"new"})"));
  EXPECT_EQ(p->setup().hyper.at("hidden"), "400");
  EXPECT_TRUE(p->is_locked("model"));
  EXPECT_EQ(p->step(), 0);
  EXPECT_FALSE(p->curves_csv().empty());
}

}  // namespace
}  // namespace genlab
