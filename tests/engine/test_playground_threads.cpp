// The playground's "threads" command and state field (engine/playground.h): bad values are refused
// with a message, the reply and state() report the count the build really uses (parallel.h clamps: 2
// natively, 1 in the single-thread wasm build), and training on 2 threads agrees with 1 thread.
#include <gtest/gtest.h>

#include <string>

#include "dataset.h"
#include "json.h"
#include "parallel.h"
#include "playground.h"

namespace genlab {
namespace {

Json run(Playground& p, const std::string& cmd) { return Json::parse(p.command(cmd)); }

TEST(PlaygroundThreads, CommandValidatesAndStateReportsTheCountInUse) {
  Playground p;
  for (const char* bad : {R"({"cmd":"threads"})", R"({"cmd":"threads","n":0})", R"({"cmd":"threads","n":"two"})",
                          R"({"cmd":"threads","n":1000})"}) {
    const Json r = run(p, bad);
    EXPECT_FALSE(r.at("ok").as_bool()) << bad;
    EXPECT_NE(r.at("error").as_string().find("n"), std::string::npos) << r.dump();
  }
  const Json r2 = run(p, R"({"cmd":"threads","n":2})");
  ASSERT_TRUE(r2.at("ok").as_bool()) << r2.dump();
  EXPECT_EQ(r2.at("threads").as_number(), threads());
  EXPECT_GE(threads(), 1);
  EXPECT_EQ(Json::parse(p.state_json()).at("threads").as_number(), threads());
  const Json r1 = run(p, R"({"cmd":"threads","n":1})");
  EXPECT_EQ(r1.at("threads").as_number(), 1);
  EXPECT_EQ(Json::parse(p.state_json()).at("threads").as_number(), 1);
}

TEST(PlaygroundThreads, TwoThreadsTrainLikeOne) {
  const char* setup = R"({"cmd":"setup","dataset":"mnist10k","model":"pixelcnn","channels":16,"layers":2,"batch":8,"seed":5})";
  std::string hash[2];
  double loss[2] = {0, 0};
  for (int n : {1, 2}) {
    Playground p;
    p.set_data_dir(default_data_dir());
    ASSERT_TRUE(run(p, std::string(R"({"cmd":"threads","n":)") + std::to_string(n) + "}").at("ok").as_bool());
    ASSERT_TRUE(run(p, setup).at("ok").as_bool());
    ASSERT_TRUE(run(p, R"({"cmd":"step","n":5})").at("ok").as_bool());
    hash[n - 1] = run(p, R"({"cmd":"hash"})").at("params").as_string();
    loss[n - 1] = run(p, R"({"cmd":"evaluate","max":50})").at("metrics").at("nll_nats").as_number();
  }
  set_threads(1);
  // On 2 threads each batch is split in halves: the same batch-mean gradient summed in another order
  // (test_parallel.cpp checks it closely). Builds without threads run both on one.
  EXPECT_NEAR(loss[0], loss[1], 1e-3 * loss[0]);
  if (max_threads() == 1) {
    EXPECT_EQ(hash[0], hash[1]);
  }
}

}  // namespace
}  // namespace genlab
