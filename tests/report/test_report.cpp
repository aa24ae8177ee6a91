// The report of a fixed, hand-made store (tests/testdata/report/store):
// Markdown tables against golden files, figures that are real SVG/PNG, and an
// HTML page that shows them all. Regenerate the golden files after an
// intended change with NESGD_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#ifdef NESGD_HAVE_EXPAT
#include <expat.h>
#endif

#include "nesgd/exp/store.h"
#include "nesgd/report/render.h"
#include "support/cli.h"

namespace fs = std::filesystem;
namespace rp = nesgd::report;
using nesgd::testing::read_text;
using nesgd::testing::TempDir;

namespace {

const std::string kFixedStore = std::string(NESGD_TEST_DATA_DIR) + "/report/store";
const std::string kGolden = std::string(NESGD_TEST_DATA_DIR) + "/report/golden";

// A copy of the fixed store (opening a store may add its folders).
std::string copy_store(const TempDir& tmp) {
  const std::string dst = tmp.path() + "/store";
  fs::copy(kFixedStore, dst, fs::copy_options::recursive);
  return dst;
}

rp::ReportOutput report_of(const std::string& store_dir, const std::string& out, const std::string& gnuplot = "") {
  nesgd::exp::ResultStore store(store_dir);
  rp::ReportOptions o;
  o.out_dir = out;
  o.title = "golden";
  o.gnuplot = gnuplot;
  return rp::write_report(store.load_results(), store.sweeps(), o);
}

void expect_golden(const std::string& produced_path, const std::string& golden_name) {
  const std::string produced = read_text(produced_path);
  const std::string golden_path = kGolden + "/" + golden_name;
  if (std::getenv("NESGD_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path) << produced;
    GTEST_SKIP() << "rewrote " << golden_path;
  }
  ASSERT_TRUE(fs::exists(golden_path)) << golden_path << " missing: run with NESGD_UPDATE_GOLDEN=1";
  EXPECT_EQ(produced, read_text(golden_path)) << "produced:\n" << produced;
}

std::vector<std::string> figure_files(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("figure", 0) == 0 && e.path().extension() == ext) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Report, MarkdownTablesMatchTheGoldenFiles) {
  TempDir tmp;
  const auto out = report_of(copy_store(tmp), tmp.path() + "/out", "/nonexistent/gnuplot");
  EXPECT_EQ(out.runs, 30u);
  expect_golden(tmp.path() + "/out/table2.md", "table2.md");
  expect_golden(tmp.path() + "/out/table3.md", "table3.md");
  expect_golden(tmp.path() + "/out/summary.csv", "summary.csv");
}

TEST(Report, HandWorkedNumbersAppearInTheTables) {
  // Independent of the golden files: F1 alpha = 1 has B_opt 200 with 84.60 +- 0.20
  // (84.40, 84.60, 84.80) and 2100 +- 100 iterations; with NE at B = 500 the best
  // alpha is 3 (85.40 +- 0.20); alpha 4's capped and diverged runs are counted.
  TempDir tmp;
  report_of(copy_store(tmp), tmp.path() + "/out", "/nonexistent/gnuplot");
  const std::string t2 = read_text(tmp.path() + "/out/table2.md");
  EXPECT_NE(t2.find("| F1 | 1 | 200 | 84.60 +- 0.20 | 2100 +- 100 | 3/3 | 900 | 90.17 +- 0.14 | 10934 +- 816 |"),
            std::string::npos)
      << t2;
  EXPECT_EQ(t2.find("| F1 | 3 |"), std::string::npos) << "alpha = 3 was run at one B only: no B_opt row\n" << t2;
  const std::string md = read_text(tmp.path() + "/out/report.md");
  EXPECT_NE(md.find("| F1 | 500 | 4 | 3 | 1 | 1 | 1 | 85.00 | 900 |"), std::string::npos) << md;
  EXPECT_NE(t2.find("| C1 | 1 | 200 | 72.00 +- 1.41 |"), std::string::npos) << t2;
  const std::string t3 = read_text(tmp.path() + "/out/table3.md");
  EXPECT_NE(t3.find("| F1 | 200, 84.60 +- 0.20 | 2100 +- 100 | 500, 3, 85.40 +- 0.20 | 1100 +- 100 |"),
            std::string::npos)
      << t3;
  const std::string csv = read_text(tmp.path() + "/out/summary.csv");
  EXPECT_NE(csv.find("F1,"), std::string::npos);
  EXPECT_NE(csv.find(",500,4,3,1,1,1,0.85,,900,\n"), std::string::npos) << csv;
}

TEST(Report, WithoutGnuplotEverythingElseIsWrittenAndTheReportSaysSo) {
  TempDir tmp;
  const auto out = report_of(copy_store(tmp), tmp.path() + "/out", "/nonexistent/gnuplot");
  EXPECT_FALSE(out.figures_drawn);
  ASSERT_FALSE(out.warnings.empty());
  EXPECT_NE(out.warnings[0].find("gnuplot-nox"), std::string::npos) << out.warnings[0];
  for (const char* f : {"summary.csv", "table2.md", "table2.csv", "table3.md", "table3.csv", "report.md", "index.html"}) {
    EXPECT_TRUE(fs::exists(tmp.path() + "/out/" + f)) << f;
  }
  EXPECT_TRUE(figure_files(tmp.path() + "/out", ".svg").empty());
  EXPECT_NE(read_text(tmp.path() + "/out/index.html").find("gnuplot"), std::string::npos);
}

TEST(Report, FiguresAreRealSvgAndPngAndTheHtmlShowsThemAll) {
  if (rp::find_gnuplot("").empty()) GTEST_SKIP() << "gnuplot not installed (Debian: apt install gnuplot-nox)";
  TempDir tmp;
  const std::string dir = tmp.path() + "/out";
  const auto out = report_of(copy_store(tmp), dir);
  ASSERT_TRUE(out.figures_drawn) << (out.warnings.empty() ? "" : out.warnings[0]);
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0];
  // F1: Figure 2 accuracy + time and Figure 3; C1: Figure 1 accuracy + time and Figure 3.
  const auto svgs = figure_files(dir, ".svg");
  EXPECT_EQ(svgs, (std::vector<std::string>{"figure1-c1-accuracy.svg", "figure1-c1-time.svg", "figure2-f1-accuracy.svg",
                                            "figure2-f1-time.svg", "figure3-c1.svg", "figure3-f1.svg"}));
  const std::string html = read_text(dir + "/index.html");
  for (const auto& svg : svgs) {
    const std::string text = read_text(dir + "/" + svg);
#ifdef NESGD_HAVE_EXPAT
    XML_Parser parser = XML_ParserCreate(nullptr);
    const bool ok = XML_Parse(parser, text.data(), static_cast<int>(text.size()), 1) == XML_STATUS_OK;
    EXPECT_TRUE(ok) << svg << ": " << XML_ErrorString(XML_GetErrorCode(parser)) << " at line "
                    << XML_GetCurrentLineNumber(parser);
    XML_ParserFree(parser);
#endif
    EXPECT_NE(text.find("<svg"), std::string::npos) << svg;
    EXPECT_NE(html.find("src=\"" + svg + "\""), std::string::npos) << svg << " not shown in index.html";
    const std::string png = svg.substr(0, svg.size() - 4) + ".png";
    const std::string bytes = read_text(dir + "/" + png);
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
    EXPECT_GT(bytes.size(), 5000u) << png << " is suspiciously small";
    EXPECT_NE(html.find(png), std::string::npos) << png << " not linked from index.html";
  }
#ifndef NESGD_HAVE_EXPAT
  GTEST_SKIP() << "SVG files not parsed: built without expat (Debian: libexpat1-dev)";
#endif
}

TEST(Report, HtmlShowsPaperValuesCountsAndTheQuickBanner) {
  TempDir tmp;
  report_of(copy_store(tmp), tmp.path() + "/out", "/nonexistent/gnuplot");
  const std::string html = read_text(tmp.path() + "/out/index.html");
  EXPECT_NE(html.find("90.17 +- 0.14"), std::string::npos) << "paper's F1 Table 2 value";
  EXPECT_NE(html.find("QUICK"), std::string::npos) << "runs on a training subset are labelled";
  EXPECT_NE(html.find("1 not converged (iteration cap), 1 diverged"), std::string::npos);
  EXPECT_NE(html.find("<td>golden-f1</td><td>28</td><td>27</td>"), std::string::npos) << "sweep coverage";
  EXPECT_NE(html.find("Runs that did not converge"), std::string::npos);
}

TEST(Report, CliWritesTheReportAndRefreshesTheStoreExports) {
  TempDir tmp;
  const std::string store = copy_store(tmp);
  const auto r = nesgd::testing::run_nesgd("report --store '" + store + "' --out '" + tmp.path() + "/cli' --no-figures");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("30 runs"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(tmp.path() + "/cli/index.html"));
  EXPECT_TRUE(fs::exists(store + "/runs.csv"));
  EXPECT_TRUE(fs::exists(store + "/runs.jsonl"));
  const auto missing = nesgd::testing::run_nesgd("report --store '" + tmp.path() + "/nothing' --out '" + tmp.path() + "/x'");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("no nesgd result store"), std::string::npos) << missing.output;
}

TEST(Report, ASweepRecordedTwiceIsListedOnce) {
  // The same grid run again with other thread settings leaves a second record
  // with the same name and run ids; another grid of the same name stays.
  TempDir tmp;
  nesgd::exp::ResultStore store(copy_store(tmp));
  auto sweeps = store.sweeps();
  ASSERT_FALSE(sweeps.empty());
  const nlohmann::json first = sweeps.front();
  nlohmann::json smaller = first;
  smaller["run_ids"] = nlohmann::json::array({first["run_ids"].front()});
  sweeps.push_back(first);
  sweeps.push_back(smaller);
  rp::ReportOptions o;
  o.out_dir = tmp.path() + "/out";
  o.gnuplot = "/nonexistent/gnuplot";
  rp::write_report(store.load_results(), sweeps, o);
  const std::string md = read_text(o.out_dir + "/report.md");
  const std::string row = "| " + first["name"].get<std::string>() + " | ";
  size_t rows = 0;
  for (size_t p = md.find(row); p != std::string::npos; p = md.find(row, p + 1)) ++rows;
  EXPECT_EQ(rows, 2u) << md;
}

// The paper's own Table 2 settings run alone (one B per alpha, as the paper's rows): each is its
// row, beside the paper's; an alpha at one B that is not the paper's B_opt (Table 3's grid) is not.
TEST(Report, ThePapersOwnTable2SettingsRunAloneMakeTheirRows) {
  auto point = [](double alpha, int64_t b, double acc, double time) {
    rp::PointSummary p;
    p.config = "F1";
    p.setting_id = "s";
    p.batch_size = b;
    p.alpha = alpha;
    p.n_runs = p.n_converged = 2;
    p.accuracy = {2, acc, 0.002};
    p.time = {2, time, 100.0};
    return p;
  };
  const std::string t2 =
      rp::table2_markdown({point(1.0, 900, 0.9037, 10586), point(1.5, 2000, 0.9014, 7710), point(3.0, 5000, 0.90, 3000)});
  EXPECT_NE(t2.find("| F1 | 1 | 900 | 90.37 +- 0.20 | 10586 +- 100 | 2/2 | 900 | 90.17 +- 0.14 | 10934 +- 816 |"),
            std::string::npos)
      << t2;
  EXPECT_NE(t2.find("| F1 | 1.5 | 2000 | 90.14 +- 0.20 | 7710 +- 100 | 2/2 | 2000 | 90.39 +- 0.17 | 7914 +- 528 |"),
            std::string::npos)
      << t2;
  EXPECT_EQ(t2.find("| F1 | 3 |"), std::string::npos) << t2;
  // At one B that is not the paper's B_opt there is nothing to choose: no row.
  EXPECT_EQ(rp::table2_markdown({point(1.0, 1000, 0.90, 9000)}).find("| F1 | 1 |"), std::string::npos);
}
