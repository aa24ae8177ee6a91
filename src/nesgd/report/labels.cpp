// Names of configs, settings and alphas in a report (report/labels.h).
#include "nesgd/report/labels.h"

#include <map>

#include <fmt/format.h>

#include "nesgd/text.h"

namespace nesgd::report {

Labels::Labels(const std::vector<PointSummary>& points) {
  std::map<std::string, std::set<std::string>> settings;
  for (const auto& p : points) settings[p.config].insert(p.setting_id);
  for (const auto& [c, s] : settings) {
    if (s.size() > 1) multi_.insert(c);
  }
}

std::string Labels::label(const std::string& config, const std::string& setting) const {
  return multi_.count(config) ? config + " [" + setting + "]" : config;
}

std::string Labels::file_stem(const std::string& config, const std::string& setting) const {
  return multi_.count(config) ? lower(config) + "-" + setting : lower(config);
}

std::string fmt_alpha(double alpha) { return fmt::format("{:g}", alpha); }

}  // namespace nesgd::report
