// The training state a checkpoint carries beside its tensors: written and
// read back exactly, and every kind of damage an nesgd::Error that says to
// delete the checkpoint (torch-free, like the reader).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "nesgd/error.h"
#include "nesgd/optim/noise_scale.h"
#include "nesgd/train/checkpoint_state.h"
#include "support/data.h"

namespace tr = nesgd::train;
using nesgd::testing::expect_error;

namespace {

tr::CheckpointState sample_state() {
  tr::CheckpointState s;
  s.config = tr::to_json(tr::RunConfig{});
  s.iterations = 12;
  s.iterations_to_l_star = 10;
  s.samples_processed = 4800;
  s.step_seconds = 1.5;
  s.elapsed = 2.25;
  s.last_train_loss = 0.75;
  s.epoch_mean = {0.8, 0.7};
  s.stream_b = "nesgd-stream-v1 ...";
  s.noise_tracker = "0x1.fae147ae147aep-1 0x0p+0 0x0p+0 0x0p+0 0";
  const double nan = std::nan("");
  s.curve = {{6, 0.9, nan, 0.001, 1.0, nan, nan, nan}, {12, 0.75, 0.7, 0.0005, 2.0, 3.5, 0.25, 0.875}};
  return s;
}

std::string text_with(const std::string& key, const nlohmann::json& value) {
  nlohmann::json j = tr::to_json(sample_state());
  j[key] = value;
  return j.dump();
}

std::string text_without(const std::string& key) {
  nlohmann::json j = tr::to_json(sample_state());
  j.erase(key);
  return j.dump();
}

}  // namespace

TEST(CheckpointState, RoundTripsExactlyWithNaNsAsNull) {
  const tr::CheckpointState s = sample_state();
  const tr::CheckpointState back = tr::checkpoint_state_from_text(tr::to_json(s).dump(), "run.ckpt");
  EXPECT_EQ(tr::to_json(back), tr::to_json(s));
  EXPECT_EQ(back.iterations_to_l_star, 10);
  ASSERT_EQ(back.curve.size(), 2u);
  EXPECT_TRUE(std::isnan(back.curve[0].minibatch_loss));
  EXPECT_EQ(back.curve[1].trace_sigma, 0.875);
}

// The trainer read this state with nlohmann::json's accessors: any damage
// escaped as their exceptions. Fuzzing the new reader then found
// (fuzz/corpus/checkpoint/crash-number-overflow.json) that a number too large
// for a double makes the JSON parser throw out_of_range, not parse_error.
TEST(CheckpointState, DamageIsANamedErrorThatSaysToDeleteTheCheckpoint) {
  std::ifstream crash(std::string(NESGD_SOURCE_DIR) + "/fuzz/corpus/checkpoint/crash-number-overflow.json");
  const std::string crash_text((std::istreambuf_iterator<char>(crash)), {});
  ASSERT_FALSE(crash_text.empty());
  auto read = [](const std::string& text) { return [text] { tr::checkpoint_state_from_text(text, "run.ckpt"); }; };
  const std::string fix = "delete it to start the run afresh";
  expect_error(read(crash_text), {"run.ckpt", fix});
  expect_error(read("{\"version\": 1e400}"), {"run.ckpt", "not valid JSON", fix});
  expect_error(read("[]"), {"state must be an object", fix});
  expect_error(read(text_with("version", 0)), {"state version 0, this nesgd reads version 1", fix});
  expect_error(read(text_without("curve")), {"state has no 'curve'", fix});
  expect_error(read(text_with("iterations", -3)), {"'iterations' must be in [0, "});
  expect_error(read(text_with("iterations_to_l_star", 13)), {"'iterations_to_l_star' must be in [-1, 12], got 13"});
  expect_error(read(text_with("iterations", 1e300)), {"'iterations' must be an integer, got 1e+300"});
  expect_error(read(text_with("epoch_mean", {0.5, "x"})), {"each of 'epoch_mean' must be a number"});
  expect_error(read(text_with("stream_b", 7)), {"'stream_b' must be a string"});
  expect_error(read(text_with("curve", {{1, 2}})), {"a curve point must be a list of 8 values"});
  expect_error(read(text_with("curve", {{"a", 0.9, 0.8, 0.001, 1.0, nullptr, nullptr, nullptr}})),
               {"a curve point: iteration must be an integer"});
  expect_error(read(text_with("config", "f1")), {"'config' must be an object"});
}

// Found while writing the checkpoint fuzz target: the noise-scale EMA state
// was taken unchecked (a decay outside [0, 1), a negative count), and
// half-applied when reading failed midway.
TEST(CheckpointState, NoiseScaleStateIsCheckedAndAllOrNothing) {
  nesgd::optim::NoiseScaleTracker tracker(0.5);
  tracker.add({2.0, 4.0, 2.0});
  const std::string saved = tracker.save_state();
  for (const char* bad : {"0x1p+1 0x0p+0 0x0p+0 0x0p+0 0", "0x1p-1 0x0p+0 0x0p+0 0x0p+0 -4", "nan 0 0 0 0",
                          "0x1p-1 0x1p+0"}) {
    nesgd::optim::NoiseScaleTracker t(0.5);
    t.add({2.0, 4.0, 2.0});
    EXPECT_THROW(t.load_state(bad), nesgd::Error) << bad;
    EXPECT_EQ(t.save_state(), saved) << "a refused state changed the tracker: " << bad;
  }
  nesgd::optim::NoiseScaleTracker restored;
  restored.load_state(saved);
  EXPECT_EQ(restored.save_state(), saved);
}
