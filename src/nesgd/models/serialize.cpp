#include "nesgd/models/serialize.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "nesgd/durable_write.h"
#include "nesgd/error.h"

namespace nesgd::models {
namespace {

constexpr const char* kSpecKey = "nesgd_model_spec";

}  // namespace

void save_model(Network& net, const ModelSpec& spec, const std::string& path) {
  torch::serialize::OutputArchive archive;
  archive.write(kSpecKey, c10::IValue(to_json(spec).dump()));
  net.save(archive);
  write_file_durable(path, [&](std::ostream& out) { archive.save_to(out); });
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
  m.spec = model_spec_from_text(spec_value.toStringRef(), path);  // checked before any layer is built
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
