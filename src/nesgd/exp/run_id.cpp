#include "nesgd/exp/run_id.h"

#include "nesgd/data/sha256.h"

namespace nesgd::exp {

const std::vector<std::string> kExecutionOnlyKeys{"threads", "blas_threads", "cuda_graph", "ne_pass"};
// Added after the first stores were written; at these values a run is what it was before.
const std::vector<std::pair<std::string, nlohmann::json>> kKeysOmittedAtDefault{
    {"init_model", ""},           // start from Glorot weights
    {"log_noise_scale", false},   // no noise-scale columns in the curve
    {"bn_convention", "keras"},   // Keras's ghost-BN momentum/epsilon
    {"ghost_batch_size", 100},    // the paper's ghost batch
    {"precision", "fp32"},        // float32 weights and activations
    {"test_subset", 0},           // the whole test set
    {"init", "glorot"},           // weights drawn from the seed
    {"model_sha256", ""},         // a built-in network (a TorchScript model's file hash otherwise)
    {"noise", optim::kNoiseNE},   // NE's own noise (optim/noise_control.h)
    {"noise_matching", optim::kMatchWhole},  // isotropic noise matched over the whole parameter vector
    {"match_batch", 0},           // alpha as given
};
// The same inside the optimizer's settings.
const std::vector<std::pair<std::string, nlohmann::json>> kOptimizerKeysOmittedAtDefault{
    {"beta0", optim::kPnmDefaultBeta0},  // Positive-Negative Momentum's (optim/pnm.h), read by pnm and adapnm only
};

namespace {

nlohmann::json strip(nlohmann::json j) {
  for (const auto& k : kExecutionOnlyKeys) j.erase(k);
  for (const auto& [k, v] : kKeysOmittedAtDefault) {
    if (j.contains(k) && j.at(k) == v) j.erase(k);
  }
  if (j.contains("optimizer") && j["optimizer"].is_object()) {
    for (const auto& [k, v] : kOptimizerKeysOmittedAtDefault) {
      if (j["optimizer"].contains(k) && j["optimizer"].at(k) == v) j["optimizer"].erase(k);
    }
  }
  return j;
}

std::string hash_json(const nlohmann::json& j) {
  // nlohmann::json objects are std::map-backed: dump() emits keys sorted, and
  // doubles in the shortest form that round-trips, so the text is canonical.
  const std::string text = j.dump();
  data::Sha256 h;
  h.update(text.data(), text.size());
  return h.hex_digest().substr(0, kRunIdHexDigits);
}

}  // namespace

nlohmann::json identity_json(train::RunConfig config) {
  config.resolve_defaults_and_validate();
  return strip(train::to_json(config));
}

std::string run_id(const train::RunConfig& config) { return hash_json(identity_json(config)); }

std::string setting_id(const train::RunConfig& config) {
  nlohmann::json j = identity_json(config);
  // match_batch only sets alpha (from B): NE matched to B_ref and plain training share a setting.
  for (const char* k : {"seed", "batch_size", "alpha", "match_batch"}) j.erase(k);
  return hash_json(j).substr(0, 8);
}

std::string family_id(const train::RunConfig& config) {
  nlohmann::json j = identity_json(config);
  for (const char* k : {"seed", "batch_size", "alpha", "match_batch", "noise", "noise_matching"}) j.erase(k);
  if (j.contains("optimizer")) {
    j["optimizer"].erase("name");
    j["optimizer"].erase("beta0");
  }
  return hash_json(j).substr(0, 8);
}

// A stored config went through to_json already; re-reading it and resolving
// again gives the same identity as the RunConfig it came from.
std::string run_id_of_config_json(const nlohmann::json& config_json) {
  return run_id(train::run_config_from_json(config_json));
}

std::string setting_id_of_config_json(const nlohmann::json& config_json) {
  return setting_id(train::run_config_from_json(config_json));
}

std::string family_id_of_config_json(const nlohmann::json& config_json) {
  return family_id(train::run_config_from_json(config_json));
}

}  // namespace nesgd::exp
