// Compare loss curves without their wall-clock field.
#pragma once

#include <nlohmann/json.hpp>

namespace nesgd::testing {

inline nlohmann::json without_timing(nlohmann::json curve) {
  for (auto& point : curve) point.erase("seconds");
  return curve;
}

}  // namespace nesgd::testing
