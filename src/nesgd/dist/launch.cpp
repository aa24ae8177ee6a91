#include "nesgd/dist/launch.h"

#include <cstdlib>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nesgd/error.h"

namespace nesgd::dist {
namespace {

constexpr const char* kHowToLaunch =
    "start every rank through a launcher: `torchrun --nproc-per-node N --no-python nesgd train --distributed ...` "
    "(sets RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or Slurm's `srun` (sets SLURM_PROCID, SLURM_NTASKS; "
    "give the address of the first task's host with --dist-addr or MASTER_ADDR)";

std::optional<std::string> system_getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int64_t parse_int(const std::string& name, const std::string& text, int64_t lo, int64_t hi) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < lo || v > hi) {
    throw Error(fmt::format("{}={} is not an integer in [{}, {}]; {}", name, text, lo, hi, kHowToLaunch));
  }
  return v;
}

}  // namespace

LaunchInfo launch_info_from_env(const LaunchOverrides& overrides, const Getenv& getenv_in) {
  const Getenv getenv = getenv_in ? getenv_in : Getenv(system_getenv);
  LaunchInfo info;
  const auto rank = getenv("RANK");
  const auto world = getenv("WORLD_SIZE");
  const auto slurm_rank = getenv("SLURM_PROCID");
  const auto slurm_world = getenv("SLURM_NTASKS");
  constexpr int64_t kMaxWorld = 1 << 20;
  if (rank || world) {
    if (!rank || !world) {
      throw Error(fmt::format("--distributed found {} but not {} in the environment; {}", rank ? "RANK" : "WORLD_SIZE",
                              rank ? "WORLD_SIZE" : "RANK", kHowToLaunch));
    }
    info.launcher = "torchrun";
    info.world_size = static_cast<int>(parse_int("WORLD_SIZE", *world, 1, kMaxWorld));
    info.rank = static_cast<int>(parse_int("RANK", *rank, 0, info.world_size - 1));
    const auto local = getenv("LOCAL_RANK");
    info.local_rank = local ? static_cast<int>(parse_int("LOCAL_RANK", *local, 0, kMaxWorld)) : 0;
    if (getenv("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True") {
      info.agent_store = true;
      info.store_prefix = "/worker/attempt_" + getenv("TORCHELASTIC_RESTART_COUNT").value_or("0") + "/nesgd";
    }
  } else if (slurm_rank && slurm_world) {
    info.launcher = "slurm";
    info.world_size = static_cast<int>(parse_int("SLURM_NTASKS", *slurm_world, 1, kMaxWorld));
    info.rank = static_cast<int>(parse_int("SLURM_PROCID", *slurm_rank, 0, info.world_size - 1));
    const auto local = getenv("SLURM_LOCALID");
    info.local_rank = local ? static_cast<int>(parse_int("SLURM_LOCALID", *local, 0, kMaxWorld)) : 0;
  } else {
    throw Error(std::string("--distributed needs the launcher's RANK and WORLD_SIZE (or SLURM_PROCID and "
                            "SLURM_NTASKS) in the environment; ") + kHowToLaunch);
  }

  if (!overrides.addr.empty()) {
    info.master_addr = overrides.addr;
  } else if (auto a = getenv("NESGD_MASTER_ADDR")) {
    info.master_addr = *a;
  } else if (auto m = getenv("MASTER_ADDR")) {
    info.master_addr = *m;
  } else if (info.world_size == 1) {
    info.master_addr = "127.0.0.1";
  } else {
    throw Error(std::string("--distributed: no rendezvous address: pass --dist-addr HOST (the host of rank 0) or set "
                            "MASTER_ADDR; ") + kHowToLaunch);
  }
  if (overrides.port > 65535) throw Error("--dist-port must be a port number between 1 and 65535");
  if (overrides.port > 0) {
    info.master_port = overrides.port;
  } else if (auto p = getenv("MASTER_PORT")) {
    info.master_port = static_cast<int>(parse_int("MASTER_PORT", *p, 1, 65535));
  }
  return info;
}

Slice slice_of_batch(int64_t batch, int64_t unit, int rank, int world) {
  if (unit <= 0 || batch < 0 || batch % unit != 0 || world <= 0 || rank < 0 || rank >= world) {
    throw Error(fmt::format("slice_of_batch: batch {} in units of {} for rank {} of {} is not a valid split", batch,
                            unit, rank, world));
  }
  const int64_t units = batch / unit;
  // Rank r keeps units [r * units / W, (r + 1) * units / W): even when W
  // divides `units`, and otherwise as even as whole units allow.
  return {rank * units / world * unit, (rank + 1) * units / world * unit};
}

void check_batch_split(int64_t batch_size, int64_t unit, int world) {
  if (world <= 1) return;
  const int64_t step = unit * world;
  if (batch_size % step == 0) return;
  if (unit > 1) {
    throw Error(fmt::format(
        "--batch-size {} does not split over {} ranks in whole ghost batches of {}: use a multiple of {} x {} = {} "
        "(or another --ghost-batch-size or world size)",
        batch_size, world, unit, world, unit, step));
  }
  throw Error(fmt::format("--batch-size {} does not split evenly over {} ranks: use a multiple of {}", batch_size,
                          world, world));
}

std::string differing_fields(const std::string& a_json, const std::string& b_json) {
  const auto a = nlohmann::json::parse(a_json, nullptr, false);
  const auto b = nlohmann::json::parse(b_json, nullptr, false);
  if (a.is_discarded() || b.is_discarded() || !a.is_object() || !b.is_object()) return a_json == b_json ? "" : "(all)";
  std::vector<std::string> keys;
  for (const auto& [k, v] : a.items()) {
    if (!b.contains(k) || b.at(k) != v) keys.push_back(k);
  }
  for (const auto& [k, v] : b.items()) {
    if (!a.contains(k)) keys.push_back(k);
  }
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace nesgd::dist
