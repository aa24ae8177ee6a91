// nesgd/report/tables.h - the report's tables, built once from its points and
// runs (torch-free).
//
// Each table comes in the form to read (Markdown and HTML: percent, mean +-
// std, intervals, the paper's values beside ours) and, where numbers are
// computed with, the form to compute with (CSV: one number per column,
// fractions not percent). The statistics are aggregate.h's and stats.h's;
// this part only orders and formats them. Nothing here writes files.
#pragma once

#include <string>
#include <vector>

#include "nesgd/report/aggregate.h"
#include "nesgd/report/table.h"

namespace nesgd::report {

struct ReportTables {
  Table summary;                          // summary.csv: one row per (config, setting, B, alpha)
  Table table2, table2_data;              // B_opt per alpha (the paper's Table 2): to read, to compute with
  Table table2_tests, table2_tests_data;  // each row against alpha = 1 and against the paper
  Table table3, table3_data;              // large batch with NE vs best small batch without (Table 3)
  Table table3_tests, table3_tests_data;  // with NE against without, each against the paper
  Table controls;                         // NE beside its controls, against plain training (no rows: none run)
  Table controls_tests, controls_tests_data;  // the tests behind it
  Table points;                           // every point and the runs behind it
  Table failed_runs;                      // the runs that did not converge (no rows: none)
};

// `runs` are the rows the points were summarized from.
ReportTables build_tables(const std::vector<PointSummary>& points, const std::vector<RunRow>& runs);

// The tables as the report's files hold them, exposed for tests (deterministic text).
std::string summary_csv(const std::vector<PointSummary>& points);
std::string table2_markdown(const std::vector<PointSummary>& points);
std::string table2_csv(const std::vector<PointSummary>& points);
std::string table3_markdown(const std::vector<PointSummary>& points);
std::string table3_csv(const std::vector<PointSummary>& points);
std::string table2_tests_markdown(const std::vector<PointSummary>& points);
std::string table2_tests_csv(const std::vector<PointSummary>& points);
std::string table3_tests_markdown(const std::vector<PointSummary>& points);
std::string table3_tests_csv(const std::vector<PointSummary>& points);
std::string controls_markdown(const std::vector<PointSummary>& points);
std::string controls_tests_csv(const std::vector<PointSummary>& points);

}  // namespace nesgd::report
