#include "nesgd/train/checkpoint_state.h"

#include <cmath>

#include "nesgd/error.h"
#include "nesgd/json_read.h"
#include "nesgd/numeric.h"

namespace nesgd::train {
namespace {

// JSON has no NaN or infinity: non-finite values (a loss not measured yet) are stored as null.
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

double number_or_nan(const nlohmann::json& v, const std::string& what) {
  return v.is_null() ? kNaN : json_read::number(v, what);
}

}  // namespace

nlohmann::json to_json(const CheckpointState& s) {
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& p : s.curve) {
    curve.push_back({p.iteration, finite_or_null(p.train_loss), finite_or_null(p.minibatch_loss), p.lr, p.seconds,
                     finite_or_null(p.b_simple), finite_or_null(p.g_squared), finite_or_null(p.trace_sigma)});
  }
  nlohmann::json j{{"version", kCheckpointVersion},
          {"config", s.config},
          {"iterations", s.iterations},
          {"iterations_to_l_star", s.iterations_to_l_star},
          {"samples_processed", s.samples_processed},
          {"step_seconds", s.step_seconds},
          {"elapsed", s.elapsed},
          {"last_train_loss", finite_or_null(s.last_train_loss)},
          {"epoch_mean", s.epoch_mean},
          {"stream_b", s.stream_b},
          {"stream_b_prime", s.stream_b_prime},
          {"noise_tracker", s.noise_tracker},
          {"curve", curve}};
  if (!s.epoch_mean_weights.empty()) j["epoch_mean_weights"] = s.epoch_mean_weights;
  return j;
}

CheckpointState checkpoint_state_from_text(const std::string& text, const std::string& origin) {
  namespace jr = json_read;
  const std::string damaged = ": the checkpoint is damaged; delete it to start the run afresh";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    throw Error("checkpoint " + origin + ": its state is not valid JSON (" + e.what() + ")" + damaged);
  }
  const std::string what = "checkpoint " + origin;
  auto required = [&](const char* key) -> const nlohmann::json& {
    const auto* v = jr::find(j, key);
    if (v == nullptr) throw Error(what + ": state has no '" + key + "'");
    return *v;
  };
  // The version first: a state of another version may be shaped differently.
  int64_t version = 0;
  try {
    jr::object(j, what + ": state");
    version = jr::integer(required("version"), what + ": 'version'");
  } catch (const Error& e) {
    throw Error(e.what() + damaged);
  }
  if (version != kCheckpointVersion) {
    throw Error(what + " has state version " + std::to_string(version) + ", this nesgd reads version " +
                std::to_string(kCheckpointVersion) + "; delete it to start the run afresh");
  }
  try {
    CheckpointState s;
    s.config = jr::object(required("config"), what + ": 'config'");
    s.iterations = jr::integer(required("iterations"), what + ": 'iterations'", 0);
    s.iterations_to_l_star =
        jr::integer(required("iterations_to_l_star"), what + ": 'iterations_to_l_star'", -1, s.iterations);
    s.samples_processed = jr::integer(required("samples_processed"), what + ": 'samples_processed'", 0);
    s.step_seconds = jr::number(required("step_seconds"), what + ": 'step_seconds'");
    s.elapsed = jr::number(required("elapsed"), what + ": 'elapsed'");
    s.last_train_loss = number_or_nan(required("last_train_loss"), what + ": 'last_train_loss'");
    for (const auto& v : jr::array(required("epoch_mean"), what + ": 'epoch_mean'")) {
      s.epoch_mean.push_back(jr::number(v, what + ": each of 'epoch_mean'"));
    }
    if (const auto* w = jr::find(j, "epoch_mean_weights")) {
      for (const auto& v : jr::array(*w, what + ": 'epoch_mean_weights'")) {
        const double x = jr::number(v, what + ": each of 'epoch_mean_weights'");
        if (!(x > 0.0 && x <= 1.0)) throw Error(what + ": each of 'epoch_mean_weights' must lie in (0, 1]");
        s.epoch_mean_weights.push_back(x);
      }
      if (s.epoch_mean_weights.size() != s.epoch_mean.size()) {
        throw Error(what + ": 'epoch_mean_weights' and 'epoch_mean' differ in length");
      }
    }
    s.stream_b = jr::string(required("stream_b"), what + ": 'stream_b'");
    s.stream_b_prime = jr::string(required("stream_b_prime"), what + ": 'stream_b_prime'");
    s.noise_tracker = jr::string(required("noise_tracker"), what + ": 'noise_tracker'");
    const std::string point = what + ": a curve point";
    for (const auto& p : jr::array(required("curve"), what + ": 'curve'")) {
      if (!p.is_array() || p.size() != 8) throw Error(point + " must be a list of 8 values, got " + jr::excerpt(p));
      s.curve.push_back({jr::integer(p[0], point + ": iteration", 0), number_or_nan(p[1], point),
                         number_or_nan(p[2], point), jr::number(p[3], point + ": lr"),
                         jr::number(p[4], point + ": seconds"), number_or_nan(p[5], point),
                         number_or_nan(p[6], point), number_or_nan(p[7], point)});
    }
    return s;
  } catch (const Error& e) {
    throw Error(e.what() + damaged);
  }
}

}  // namespace nesgd::train
