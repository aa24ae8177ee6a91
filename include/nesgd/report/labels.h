// nesgd/report/labels.h - how a report names configs, settings and alphas in
// its tables, captions and file names (torch-free).
//
// A config run under one setting is named by the config alone ("F1", files
// "...-f1"); a config run under several settings (another L*, optimizer or
// sampling) carries the setting id in both, so no two settings share a row
// label or a figure file. Nothing here computes statistics or writes files.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "nesgd/report/aggregate.h"

namespace nesgd::report {

// Which configs have more than one setting among `points`.
class Labels {
 public:
  explicit Labels(const std::vector<PointSummary>& points);
  // "F1", or "F1 [<setting id>]" for a config with several settings.
  std::string label(const std::string& config, const std::string& setting) const;
  // "f1", or "f1-<setting id>".
  std::string file_stem(const std::string& config, const std::string& setting) const;

 private:
  std::set<std::string> multi_;
};

// An alpha as the report writes it: "1", "1.5".
std::string fmt_alpha(double alpha);

}  // namespace nesgd::report
