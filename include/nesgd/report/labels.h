// nesgd/report/labels.h - how a report names configs, settings and alphas in
// its tables, captions and file names (torch-free).
//
// A config run under one setting is named by the config alone ("F1", files
// "...-f1"). A config run under several settings carries what tells them
// apart: the variant (optimizer and noise, "F1 [adapnm, ne]") where the
// settings differ in it, the setting id where they differ otherwise (another
// L* or sampling: "F1 [1a2b3c4d]"), both where the variant alone does not
// decide. No two settings share a row label or a figure file. Nothing here
// computes statistics or writes files.
#pragma once

#include <map>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "nesgd/report/aggregate.h"

namespace nesgd::report {

// Which configs have more than one setting among `points`.
class Labels {
 public:
  explicit Labels(const std::vector<PointSummary>& points);
  // "F1", or "F1 [<tag>]" for a config with several settings (tag: above).
  std::string label(const std::string& config, const std::string& setting) const;
  // "f1", or "f1-<tag>" with the tag's spaces and commas as dashes.
  std::string file_stem(const std::string& config, const std::string& setting) const;

 private:
  std::map<std::pair<std::string, std::string>, std::string> tags_;  // (config, setting) -> tag; one setting: none
};

// An alpha as the report writes it: "1", "1.5".
std::string fmt_alpha(double alpha);

}  // namespace nesgd::report
