// nesgd/names.h - a fixed list of names (optimizers, samplings, precisions,
// batch-norm conventions): membership and the list as text for messages.
//
// Each list lives once, torch-free, beside its concept (optim/optimizer_config.h,
// data/batch_stream.h, train/run_config.h, models/model_spec.h); validation,
// error messages and the CLI's --help and flag checks all read it from there.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace nesgd {

using NameList = std::vector<std::string>;

inline bool is_one_of(const std::string& name, const NameList& names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "a, b and c" (with `conjunction` "or": "a, b or c").
inline std::string names_text(const NameList& names, const std::string& conjunction = "and") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " " + conjunction + " " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace nesgd
