// nesgd/exp/run_id.h - the stable identity of a run (torch-free).
//
// A run is identified by the SHA-256 of the canonical JSON of its resolved
// configuration (train::to_json after resolve_defaults_and_validate, keys
// sorted, numbers in shortest round-trip form), seed included. Two sweeps that
// contain the same run (F1's fig2 and table3 presets share B = 5000, alpha = 1
// and 1.5) therefore name it the same, and the store holds it once.
//
// Left out of the identity: fields that change how fast a run goes but not
// what it computes (kExecutionOnlyKeys: threads, BLAS threads). The device is
// kept: CPU and CUDA kernels give different floating-point results.
//
// Stability: the id changes only when the configuration's keys or values do.
// When a new key is added to RunConfig, add it to kKeysOmittedAtDefault with
// the value that reproduces the old behaviour, so stores written before it
// keep their ids. Nothing here reads or writes files.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/train/run_config.h"

namespace nesgd::exp {

// Hex digits of the SHA-256 kept as the run id: 64 bits. With 10^5 runs in
// one store the chance of any collision is about 3e-10 (birthday bound n^2/2^65).
constexpr size_t kRunIdHexDigits = 16;

// Keys of train::to_json(RunConfig) that never enter an identity.
extern const std::vector<std::string> kExecutionOnlyKeys;
// Keys dropped from the identity when equal to the given value (see above).
extern const std::vector<std::pair<std::string, nlohmann::json>> kKeysOmittedAtDefault;
// The same for keys of the optimizer's settings ("optimizer": {...}).
extern const std::vector<std::pair<std::string, nlohmann::json>> kOptimizerKeysOmittedAtDefault;

// The resolved configuration as hashed (a copy: `config` is resolved and validated first).
nlohmann::json identity_json(train::RunConfig config);

// kRunIdHexDigits lowercase hex digits.
std::string run_id(const train::RunConfig& config);

// Identity of the run's "setting": everything except seed, batch size and alpha
// (and the model/dataset, reported beside it). Runs of one setting are the
// points of one study; the report groups by (config, setting, B, alpha).
std::string setting_id(const train::RunConfig& config);

// The same two ids from a stored record's "config" object.
std::string run_id_of_config_json(const nlohmann::json& config_json);
std::string setting_id_of_config_json(const nlohmann::json& config_json);

// The setting without what sets NE beside its controls (the optimizer's name and beta0, the noise
// and its matching): the runs one comparison of NE, isotropic noise and PNM shares. 8 hex digits.
std::string family_id(const train::RunConfig& config);
std::string family_id_of_config_json(const nlohmann::json& config_json);

}  // namespace nesgd::exp
