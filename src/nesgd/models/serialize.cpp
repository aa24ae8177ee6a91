#include "nesgd/models/serialize.h"

#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "nesgd/error.h"

namespace nesgd::models {
namespace {

constexpr const char* kSpecKey = "nesgd_model_spec";

nlohmann::json spec_to_json(const ModelSpec& s) {
  return {{"name", s.name}, {"in_channels", s.in_channels}, {"height", s.height}, {"width", s.width},
          {"num_classes", s.num_classes}, {"bn_convention", s.bn_convention},
          {"ghost_batch_size", s.ghost_batch_size}};
}

ModelSpec spec_from_json(const nlohmann::json& j) {
  ModelSpec s;
  s.name = j.at("name");
  s.in_channels = j.at("in_channels");
  s.height = j.at("height");
  s.width = j.at("width");
  s.num_classes = j.at("num_classes");
  // Files written before these keys existed hold the defaults.
  s.bn_convention = j.value("bn_convention", s.bn_convention);
  s.ghost_batch_size = j.value("ghost_batch_size", s.ghost_batch_size);
  return s;
}

}  // namespace

void save_model(Network& net, const ModelSpec& spec, const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  torch::serialize::OutputArchive archive;
  archive.write(kSpecKey, c10::IValue(spec_to_json(spec).dump()));
  net.save(archive);
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  archive.save_to(tmp);
  fs::rename(tmp, path);
}

LoadedModel load_model(const std::string& path) {
  if (!std::filesystem::exists(path)) throw Error("model file " + path + " does not exist");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path, torch::Device(torch::kCPU));  // a model saved on a GPU loads anywhere
  } catch (const c10::Error& e) {
    throw Error("cannot read model file " + path + ": not a LibTorch archive or truncated (" +
                std::string(e.what_without_backtrace()) + ")");
  }
  c10::IValue spec_value;
  if (!archive.try_read(kSpecKey, spec_value) || !spec_value.isString()) {
    throw Error(path + " is not an nesgd model file (no " + std::string(kSpecKey) +
                "): save models with `nesgd train --save-model FILE`");
  }
  LoadedModel m;
  m.spec = spec_from_json(nlohmann::json::parse(spec_value.toStringRef()));
  m.net = make_model(m.spec, 0);
  try {
    m.net->load(archive);
  } catch (const c10::Error& e) {
    throw Error("model file " + path + " does not match a " + m.spec.name + " network: " +
                std::string(e.what_without_backtrace()));
  }
  return m;
}

}  // namespace nesgd::models
