// Names of configs, settings and alphas in a report (report/labels.h).
#include "nesgd/report/labels.h"

#include <map>

#include <fmt/format.h>

#include "nesgd/text.h"

namespace nesgd::report {

Labels::Labels(const std::vector<PointSummary>& points) {
  std::map<std::string, std::map<std::string, std::string>> settings;  // config -> setting -> variant
  for (const auto& p : points) settings[p.config][p.setting_id] = p.variant;
  for (const auto& [config, variants] : settings) {
    if (variants.size() < 2) continue;
    std::map<std::string, int> uses;  // how many settings of the config have each variant
    for (const auto& [setting, variant] : variants) ++uses[variant];
    for (const auto& [setting, variant] : variants) {
      std::string tag = setting;
      if (uses.size() > 1) tag = uses[variant] == 1 ? variant : variant + " " + setting;
      tags_[{config, setting}] = tag;
    }
  }
}

std::string Labels::label(const std::string& config, const std::string& setting) const {
  const auto it = tags_.find({config, setting});
  return it == tags_.end() ? config : config + " [" + it->second + "]";
}

std::string Labels::file_stem(const std::string& config, const std::string& setting) const {
  const auto it = tags_.find({config, setting});
  if (it == tags_.end()) return lower(config);
  std::string stem = lower(config) + "-";
  for (char c : it->second) {
    if (c == ',') continue;
    stem += c == ' ' ? '-' : c;
  }
  return stem;
}

std::string fmt_alpha(double alpha) { return fmt::format("{:g}", alpha); }

}  // namespace nesgd::report
