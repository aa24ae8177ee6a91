// nesgd/noise/model_noise.h - `nesgd noise` as a library call: the meter on a real model (torch-free header).
//
// Builds the weights to measure at (the initial weights of a seed, exactly as
// `nesgd train --seed S` starts, or a model file written by
// `nesgd train --save-model`), turns the training set into tensors, and runs
// measure_noise() with a NetworkGradients oracle. The header stays torch-free
// so the CLI compiles without torch; the work happens in the torch library.
// It never trains or changes the weights it measures.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nesgd/data/dataset.h"
#include "nesgd/noise/noise_meter.h"

namespace nesgd::noise {

struct NoiseRunConfig {
  std::string model = "f1";
  std::string dataset = "fashion-mnist";
  std::string load_model;     // model file to measure at; empty: initial weights of meter.seed
  std::string init = "glorot"; // without load_model: glorot (drawn from meter.seed) or file (a TorchScript model's own)
  int64_t train_subset = 0;   // first N training samples; 0 = all
  std::string device = "cpu"; // cpu | cuda | cuda:N | auto
  int threads = 0;            // ATen intra-op threads; 0 = the project's measured default
  int blas_threads = 0;       // OpenBLAS threads; 0 = the project's measured default
  NoiseMeterOptions meter;    // batch size, alphas, draws, seed, ...
};

struct NoiseRunResult {
  NoiseReport report;
  std::string weights;         // "initial weights of seed S" or the model file
  std::string model;           // the network actually measured
  std::string dataset_source;
  nlohmann::json environment;  // versions, device, threads (runtime/run_info.h)
};

// Throws nesgd::Error for bad options, a missing or mismatched model file.
NoiseRunResult run_model_noise(const NoiseRunConfig& config, const data::DatasetSplits& data,
                               const NoiseMeterHooks& hooks = {});

// to_json(report) plus "model", "dataset", "weights", "load_model", "train_subset",
// "device", "dataset_source", "environment".
nlohmann::json to_json(const NoiseRunResult& result, const NoiseRunConfig& config);

}  // namespace nesgd::noise
