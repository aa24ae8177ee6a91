// The report of a fixed, hand-made store (tests/testdata/report/store):
// Markdown tables against golden files, figures that are real SVG/PNG, and an
// HTML page that shows them all. Regenerate the golden files after an
// intended change with NESGD_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#ifdef NESGD_HAVE_EXPAT
#include <expat.h>
#endif

#include "nesgd/exp/store.h"
#include "nesgd/report/gnuplot.h"
#include "nesgd/report/labels.h"
#include "nesgd/train/run_config.h"
#include "nesgd/report/render.h"
#include "nesgd/report/tables.h"
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
  expect_golden(tmp.path() + "/out/table2-tests.md", "table2-tests.md");
  expect_golden(tmp.path() + "/out/table3.md", "table3.md");
  expect_golden(tmp.path() + "/out/table3-tests.md", "table3-tests.md");
  expect_golden(tmp.path() + "/out/summary.csv", "summary.csv");
}

TEST(Report, HandWorkedNumbersAppearInTheTables) {
  // Independent of the golden files: F1 alpha = 1 has B_opt 200 (of 100, 200, 500) with
  // 84.60 +- 0.20 (84.40, 84.60, 84.80) and 2100 +- 100 iterations; the 95 % interval is
  // 84.60 -+ t_{0.975, 2} 0.20 / sqrt 3 = 84.60 -+ 4.30265 x 0.11547 = [84.10, 85.10].
  // With NE at B = 500 the best alpha is 3 (85.40 +- 0.20); alpha 4's capped and diverged
  // runs are counted.
  TempDir tmp;
  report_of(copy_store(tmp), tmp.path() + "/out", "/nonexistent/gnuplot");
  const std::string t2 = read_text(tmp.path() + "/out/table2.md");
  EXPECT_NE(t2.find("| F1 | 1 | 200 (B_opt of 3 B) | 3/3 | 84.60 +- 0.20 | [84.10, 85.10] | 2100 +- 100 | "
                    "[1852, 2348] | 900 | 90.17 +- 0.14 | 10934 +- 816 |"),
            std::string::npos)
      << t2;
  EXPECT_EQ(t2.find("| F1 | 3 |"), std::string::npos) << "alpha = 3 was run at one B only: no B_opt row\n" << t2;
  const std::string md = read_text(tmp.path() + "/out/report.md");
  EXPECT_NE(md.find("| F1 | 500 | 4 | 1/3 | 1 | 1 | 85.00 | - | 900 | - |"), std::string::npos) << md;
  EXPECT_NE(t2.find("| C1 | 1 | 200 (B_opt of 2 B) | 2/2 | 72.00 +- 1.41 |"), std::string::npos) << t2;
  // Against the paper (90.17 +- 0.14, n = 10) by Welch: se^2 = 0.20^2/3 + 0.14^2/10, se = 0.123666,
  // df = se^4 / ((0.04/3)^2 / 2 + (0.00196)^2 / 9) = 2.61864, t_{0.975, df} = 3.46140 (mpmath):
  // -5.57 -+ 0.42806 = [-6.00, -5.14], t = -45.04, p = 7.395e-5.
  const std::string tests2 = read_text(tmp.path() + "/out/table2-tests.md");
  EXPECT_NE(tests2.find("| F1 | alpha 1, B 200 | paper: alpha 1, B 900, 10 runs | Welch, 3 vs 10 runs | -5.57 | "
                        "[-6.00, -5.14] | 7.4e-05 |"),
            std::string::npos)
      << tests2;
  // alpha 1.5 against alpha 1 at B = 200, seeds 1-3 in both: paired; every seed gains exactly
  // 0.60 points (85.0/84.4, 85.2/84.6, 85.4/84.8), so there is no spread and no p.
  EXPECT_NE(tests2.find("| F1 | alpha 1.5, B 200 | alpha 1, B 200 (ours) | paired by seed, 3 pairs (no spread: no p) "
                        "| +0.60 | - | - |"),
            std::string::npos)
      << tests2;
  const std::string t3 = read_text(tmp.path() + "/out/table3.md");
  EXPECT_NE(t3.find("| F1 | 200 (B_opt of 3 B) | 84.60 +- 0.20 | [84.10, 85.10] | 2100 +- 100 | "
                    "500 (largest B run; the paper's is 5000) | 3 | 3/3 | 85.40 +- 0.20 |"),
            std::string::npos)
      << t3;
  const std::string tests3 = read_text(tmp.path() + "/out/table3-tests.md");
  EXPECT_NE(tests3.find("| F1 | with NE: alpha 3, B 500 | without NE: alpha 1, B 200 | paired by seed, 3 pairs"),
            std::string::npos)
      << tests3;
  EXPECT_EQ(tests3.find("paper with NE"), std::string::npos) << "B = 500 is not the paper's NE batch\n" << tests3;
  const std::string csv = read_text(tmp.path() + "/out/summary.csv");
  EXPECT_NE(csv.find("F1,"), std::string::npos);
  EXPECT_NE(csv.find(",500,4,3,1,1,1,0.85,,,,900,,,\n"), std::string::npos) << csv;
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
  // A single B is no B_opt: it is labelled so. Intervals of 2 runs: mean -+ 12.7062 sd / sqrt 2.
  EXPECT_NE(t2.find("| F1 | 1 | 900 (only B run) | 2/2 | 90.37 +- 0.20 | [88.57, 92.17] | 10586 +- 100 | "
                    "[9688, 11484] | 900 | 90.17 +- 0.14 | 10934 +- 816 |"),
            std::string::npos)
      << t2;
  EXPECT_NE(t2.find("| F1 | 1.5 | 2000 (only B run) | 2/2 | 90.14 +- 0.20 | [88.34, 91.94] | 7710 +- 100 | "
                    "[6812, 8608] | 2000 | 90.39 +- 0.17 | 7914 +- 528 |"),
            std::string::npos)
      << t2;
  EXPECT_EQ(t2.find("B_opt of"), std::string::npos) << t2;
  EXPECT_EQ(t2.find("| F1 | 3 |"), std::string::npos) << t2;
  // At one B that is not the paper's B_opt there is nothing to choose: no row.
  EXPECT_EQ(rp::table2_markdown({point(1.0, 1000, 0.90, 9000)}).find("| F1 | 1 |"), std::string::npos);
}

// Table 3's NE column is the paper's large batch (5000) or says which other B it is:
// the F1 Table 2 store (B = 900 at alpha 1, B = 2000 at alpha 1.5) is not the paper's Table 3.
TEST(Report, Table3SaysWhenItsLargeBatchIsNotThePapers) {
  auto point = [](double alpha, int64_t b) {
    rp::PointSummary p;
    p.config = "F1";
    p.setting_id = "s";
    p.batch_size = b;
    p.alpha = alpha;
    p.n_runs = p.n_converged = 2;
    p.accuracy = {2, 0.90, 0.002};
    p.time = {2, 8000, 100.0};
    return p;
  };
  const std::string small = rp::table3_markdown({point(1.0, 900), point(1.5, 2000)});
  EXPECT_NE(small.find("| 2000 (largest B run; the paper's is 5000) | 1.5 |"), std::string::npos) << small;
  EXPECT_EQ(rp::table3_tests_markdown({point(1.0, 900), point(1.5, 2000)}).find("paper with NE"), std::string::npos);
  const auto large = std::vector<rp::PointSummary>{point(1.0, 900), point(1.0, 5000), point(3.0, 5000)};
  const std::string t3 = rp::table3_markdown(large);
  EXPECT_NE(t3.find("| 5000 | 3 |"), std::string::npos) << t3;
  // At the paper's B its NE result is compared, accuracy only: 90.00 +- 0.20 (n 2) against 90.35 +- 0.05 (n 10).
  const std::string tests = rp::table3_tests_markdown(large);
  EXPECT_NE(tests.find("| F1 | with NE: alpha 3, B 5000 | paper with NE: alpha 3, B 5000, 10 runs | Welch, 2 vs 10 runs "
                       "| -0.35 |"),
            std::string::npos)
      << tests;
}

// The loss-curve figures: one per point, every seed's curve (points without a finite loss
// skipped), L* and L** as lines, shown in the HTML with the caption that explains the scatter.
TEST(Report, LossCurvesShowEverySeedWithLStarAndLStop) {
  if (rp::find_gnuplot("").empty()) GTEST_SKIP() << "gnuplot not installed (Debian: apt install gnuplot-nox)";
  TempDir tmp;
  nesgd::exp::ResultStore store(copy_store(tmp));
  auto records = store.load_results();
  // F1, B = 500, alpha = 4: seed 1 capped, 2 diverged, 3 converged; give each a curve.
  int with_curves = 0;
  for (auto& r : records) {
    const auto& c = r["config"];
    if (c["batch_size"] != 500 || c["alpha"] != 4.0) continue;
    r["config"]["l_star"] = 0.01;
    r["config"]["l_stop"] = 0.001;
    r["curve"] = nlohmann::json::array({{{"iteration", 10}, {"train_loss", 0.5}},
                                        {{"iteration", 20}, {"train_loss", nullptr}},
                                        {{"iteration", 30}, {"train_loss", 0.02}}});
    ++with_curves;
  }
  ASSERT_EQ(with_curves, 3);
  rp::ReportOptions o;
  o.out_dir = tmp.path() + "/out";
  const auto out = rp::write_report(records, store.sweeps(), o);
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0];
  const std::string stem = "curves-f1-b500-alpha4";
  ASSERT_TRUE(fs::exists(o.out_dir + "/" + stem + ".svg"));
  EXPECT_NE(read_text(o.out_dir + "/" + stem + ".svg").find("<svg"), std::string::npos);
  EXPECT_EQ(read_text(o.out_dir + "/" + stem + ".png").substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::string dat = read_text(o.out_dir + "/plots/" + stem + ".dat");
  EXPECT_NE(dat.find("# seed 1: not_converged at 20000\n10 0.5\n30 0.02\n"), std::string::npos) << dat;
  EXPECT_NE(dat.find("# seed 2: diverged at 35\n"), std::string::npos) << dat;
  EXPECT_NE(dat.find("# seed 3: converged at 900\n"), std::string::npos) << dat;
  EXPECT_EQ(dat.find("20 "), std::string::npos) << "the null loss is skipped\n" << dat;
  const std::string gp = read_text(o.out_dir + "/plots/" + stem + ".gp");
  EXPECT_NE(gp.find("set logscale y"), std::string::npos) << gp;
  EXPECT_NE(gp.find("0.01 with lines"), std::string::npos) << gp;
  EXPECT_NE(gp.find("0.001 with lines"), std::string::npos) << gp;
  const std::string html = read_text(o.out_dir + "/index.html");
  EXPECT_NE(html.find("src=\"" + stem + ".svg\""), std::string::npos);
  EXPECT_NE(html.find("first-passage time"), std::string::npos);
  EXPECT_NE(html.find("10 points stored no loss curve"), std::string::npos) << "the other points are said to have none";
  EXPECT_NE(read_text(o.out_dir + "/report.md").find("](" + stem + ".svg)"), std::string::npos);
}

// NE beside its controls: a config's settings named by their variant (optimizer, noise) where that
// tells them apart, by setting id where it does not, by both where the variant alone is ambiguous.
TEST(Report, LabelsNameSettingsByTheirOptimizerAndNoise) {
  auto point = [](const std::string& setting, const std::string& variant) {
    rp::PointSummary p;
    p.config = "F1";
    p.setting_id = setting;
    p.variant = variant;
    return p;
  };
  const rp::Labels one({point("s1", "keras-adam, ne")});
  EXPECT_EQ(one.label("F1", "s1"), "F1");
  const rp::Labels controls({point("s1", "keras-adam, ne"), point("s2", "adapnm, ne"),
                             point("s3", "keras-adam, isotropic per tensor")});
  EXPECT_EQ(controls.label("F1", "s1"), "F1 [keras-adam, ne]");
  EXPECT_EQ(controls.label("F1", "s2"), "F1 [adapnm, ne]");
  EXPECT_EQ(controls.file_stem("F1", "s3"), "f1-keras-adam-isotropic-per-tensor");
  const rp::Labels lrs({point("s1", "keras-adam, ne"), point("s2", "keras-adam, ne")});
  EXPECT_EQ(lrs.label("F1", "s2"), "F1 [s2]");  // another L*, say: the setting id, as before
  const rp::Labels mixed({point("s1", "keras-adam, ne"), point("s2", "keras-adam, ne"), point("s3", "adapnm, ne")});
  EXPECT_EQ(mixed.label("F1", "s1"), "F1 [keras-adam, ne s1]");
  EXPECT_EQ(mixed.label("F1", "s3"), "F1 [adapnm, ne]");

  nlohmann::json config = nesgd::train::to_json(nesgd::train::RunConfig{});
  config["noise"] = "isotropic";
  config["noise_matching"] = "tensor";
  EXPECT_EQ(rp::variant_of_config(config), "keras-adam, isotropic per tensor");
  const nlohmann::json legacy = nlohmann::json::parse(R"({"model": "f1", "optimizer": {"name": "adam"}})");
  EXPECT_EQ(rp::variant_of_config(legacy), "adam, ne");  // a record from before the controls existed
}

// NE beside its controls: plain at the small and the large batch, NE, isotropic noise and AdaPNM at
// the large batch, paired by seed. Hand-made points with known per-seed values: NE is 0.6, 0.7 and
// 0.8 pp above plain at B 1000 in seeds 1-3 (mean 0.7, sd 0.1: the paired 95 % interval is
// 0.7 -+ t(0.975, 2) 0.1 / sqrt 3 = 0.7 -+ 0.2484 pp) and 0.3 pp below plain at B 100 on average;
// the family without a control has no rows.
TEST(Report, ControlsComparePointsWithPlainTrainingAtTheirBAndAtTheSmallestB) {
  auto point = [](const std::string& setting, const std::string& optimizer, const std::string& noise, double alpha,
                  int64_t b, double base_acc, double slope = 0.001) {
    rp::PointSummary p;
    p.config = "F1";
    p.setting_id = setting;
    p.family_id = "fam";
    p.optimizer = optimizer;
    p.noise = noise;
    p.variant = optimizer + ", " + noise;
    p.alpha = alpha;
    p.batch_size = b;
    std::vector<double> acc, time;
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const double a = base_acc + slope * static_cast<double>(seed), t = 1000.0 + 10.0 * static_cast<double>(seed);
      p.converged_runs.push_back({seed, a, t});
      acc.push_back(a);
      time.push_back(t);
    }
    p.n_runs = p.n_converged = 3;
    p.accuracy = rp::mean_std(acc);
    p.time = rp::mean_std(time);
    return p;
  };
  std::vector<rp::PointSummary> points{
      point("plain", "keras-adam", "ne", 1.0, 100, 0.800), point("plain", "keras-adam", "ne", 1.0, 1000, 0.790),
      point("plain", "keras-adam", "ne", 1.75, 1000, 0.795, 0.002), point("iso", "keras-adam", "isotropic", 1.75, 1000, 0.785),
      point("ada", "adapnm", "ne", 1.0, 1000, 0.792)};
  rp::PointSummary other = point("lone", "keras-adam", "ne", 1.0, 100, 0.7);
  other.family_id = "other";
  points.push_back(other);
  const auto rows = rp::controls(points);
  ASSERT_EQ(rows.size(), 5u);  // the lone family has one variant: no rows
  EXPECT_TRUE(rows[0].plain);
  EXPECT_EQ(rows[0].point.batch_size, 100);
  EXPECT_TRUE(rows[1].plain);
  EXPECT_EQ(rows[1].point.batch_size, 1000);
  ASSERT_TRUE(rows[1].vs_plain_small_b);  // plain large against plain small: -1 pp in every seed
  EXPECT_NEAR(rows[1].vs_plain_small_b->accuracy.difference, -0.010, 1e-12);
  EXPECT_EQ(rows[1].vs_plain_small_b->accuracy.pairing, rp::Pairing::kPaired);
  // Order at B 1000 after plain: by variant, then alpha: adapnm, keras-adam isotropic, keras-adam ne 1.75.
  EXPECT_EQ(rows[2].point.optimizer, "adapnm");
  EXPECT_EQ(rows[3].point.noise, "isotropic");
  const auto& ne = rows[4];
  EXPECT_EQ(ne.point.alpha, 1.75);
  ASSERT_TRUE(ne.vs_plain_same_b && ne.vs_plain_small_b);
  EXPECT_NEAR(ne.vs_plain_same_b->accuracy.difference, 0.007, 1e-12);
  EXPECT_NEAR(ne.vs_plain_same_b->accuracy.interval.low, 0.007 - 4.302652729749464 * 0.001 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(ne.vs_plain_same_b->accuracy.interval.high, 0.007 + 4.302652729749464 * 0.001 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(ne.vs_plain_small_b->accuracy.difference, -0.003, 1e-12);
  const std::string md = rp::controls_markdown(points);
  EXPECT_NE(md.find("| F1 | 1000 | keras-adam, ne (plain) | 1 | 3/3 | 79.20 +- 0.10 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| F1 | 1000 | keras-adam, ne | 1.75 |"), std::string::npos) << md;
  EXPECT_NE(rp::controls_tests_csv(points).find("plain, smallest B: keras-adam, ne, alpha 1, B 100"),
            std::string::npos);
}
