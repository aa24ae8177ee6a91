// Fuzz target: the files of a result store as `nesgd report` reads them.
// The input becomes, in turn,
//   1. a stored run (STORE/runs/<id>.json): ResultStore::load_results, the
//      runs.csv export and the whole report (tables, summary, HTML; no figures);
//   2. a sweep record (STORE/sweeps/<name>.json): ResultStore::sweeps and the report;
//   3. a store marker (STORE/store.json): opening the store.
// Seeds: corpus/store/ (records as nesgd writes them, and broken ones);
// dictionary: dict/store.dict.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "nesgd/exp/store.h"
#include "nesgd/report/render.h"

namespace {

using namespace nesgd;

report::ReportOptions report_options() {
  report::ReportOptions o;
  o.out_dir = fuzz::scratch_dir() + "/report";
  o.figures = false;  // gnuplot is another program, not a reader of ours
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static exp::ResultStore store(fuzz::scratch_dir() + "/store");
  static const report::ReportOptions options = report_options();
  static const int marker_dir = ::mkdir((fuzz::scratch_dir() + "/marker").c_str(), 0755);
  (void)marker_dir;

  const std::string run = store.dir() + "/runs/0123456789abcdef.json";
  fuzz::write_scratch("store/runs/0123456789abcdef.json", data, size);
  fuzz::expect_only_nesgd_errors([&] {
    const auto records = store.load_results();
    (void)exp::runs_csv(records);
    report::write_report(records, {}, options);
  });
  ::unlink(run.c_str());

  const std::string sweep = store.dir() + "/sweeps/fuzz-00000000.json";
  fuzz::write_scratch("store/sweeps/fuzz-00000000.json", data, size);
  fuzz::expect_only_nesgd_errors([&] { report::write_report({}, store.sweeps(), options); });
  ::unlink(sweep.c_str());

  fuzz::write_scratch("marker/store.json", data, size);
  fuzz::expect_only_nesgd_errors([&] { exp::ResultStore other(fuzz::scratch_dir() + "/marker"); });
  return 0;
}
