#include "nesgd/report/aggregate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "nesgd/error.h"
#include "nesgd/json_read.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/exp/store.h"

namespace nesgd::report {
namespace {

using PointKey = std::tuple<std::string, std::string, double, int64_t>;  // config, setting, alpha, B
using SettingKey = std::pair<std::string, std::string>;

SettingKey setting_of(const PointSummary& p) { return {p.config, p.setting_id}; }

// Higher mean accuracy wins; ties go to the smaller batch (or alpha).
bool better(const PointSummary& a, const PointSummary& b) {
  if (a.accuracy.mean != b.accuracy.mean) return a.accuracy.mean > b.accuracy.mean;
  return a.batch_size != b.batch_size ? a.batch_size < b.batch_size : a.alpha < b.alpha;
}

std::map<SettingKey, std::vector<PointSummary>> by_setting(const std::vector<PointSummary>& points) {
  std::map<SettingKey, std::vector<PointSummary>> m;
  for (const auto& p : points) m[setting_of(p)].push_back(p);
  return m;
}

}  // namespace

RunRow run_row_from_record(const nlohmann::json& record) {
  // Stored runs may have been edited by hand: every field read is type-checked (json_read.h).
  namespace jr = json_read;
  RunRow r;
  jr::get(record, "run_id", r.run_id, "stored run");
  const std::string what = "stored run " + (r.run_id.empty() ? std::string("?") : r.run_id);
  const auto* config = jr::find(record, "config");
  if (config == nullptr || !config->is_object()) {
    throw Error("a stored run has no \"config\" object (run " + (r.run_id.empty() ? "?" : r.run_id) +
                "): it was not written by nesgd sweep/train");
  }
  const nlohmann::json& c = *config;
  if (r.run_id.empty()) r.run_id = exp::run_id_of_config_json(c);
  std::string model = "f1";
  jr::get(c, "model", model, what + ": config");
  r.config = exp::config_label(model);
  const train::RunConfig read = train::run_config_from_json(c);  // the defaults of records without the keys
  r.setting_id = exp::setting_id(read);
  jr::get(c, "batch_size", r.batch_size, what + ": config");
  jr::get(c, "alpha", r.alpha, what + ": config");
  jr::get(c, "seed", r.seed, what + ": config");
  if (jr::find(record, "status") == nullptr) throw Error("stored run " + r.run_id + " has no \"status\"");
  jr::get(record, "status", r.status, what);
  jr::get(record, "iterations", r.iterations, what);
  if (const auto* acc = jr::find(record, "test_accuracy"); acc != nullptr && acc->is_number()) {
    r.test_accuracy = acc->get<double>();
  }
  jr::get(c, "train_subset", r.train_subset, what + ": config");
  jr::get(c, "max_iterations", r.max_iterations, what + ": config");
  r.loss_measure = "epoch-mean";
  jr::get(c, "loss_measure", r.loss_measure, what + ": config");
  r.variant = variant_of(read);
  r.family_id = exp::family_id(read);
  r.optimizer = read.optimizer.name;
  r.noise = read.noise;
  return r;
}

std::string variant_of_config(const nlohmann::json& c) { return variant_of(train::run_config_from_json(c)); }

std::string variant_of(const train::RunConfig& config) {
  std::string v = config.optimizer.name + ", " + config.noise;
  if (config.noise == optim::kNoiseIsotropic && config.noise_matching == optim::kMatchTensor) v += " per tensor";
  return v;
}

LossCurve loss_curve_from_record(const nlohmann::json& record) {
  namespace jr = json_read;
  const RunRow row = run_row_from_record(record);  // the same checks and defaults as the tables
  LossCurve curve;
  curve.seed = row.seed;
  curve.status = row.status;
  curve.iterations = row.iterations;
  const std::string what = "stored run " + row.run_id;
  const nlohmann::json& c = *jr::find(record, "config");
  jr::get(c, "l_star", curve.l_star, what + ": config");
  jr::get(c, "l_stop", curve.l_stop, what + ": config");
  const auto* points = jr::find(record, "curve");
  if (points == nullptr || points->is_null()) return curve;  // a record from before curves were stored
  for (const auto& point : jr::array(*points, what + ": 'curve'")) {
    jr::object(point, what + ": each point of 'curve'");
    const auto* loss = jr::find(point, "train_loss");
    // null: the loss was not finite when recorded (trainer.cpp writes such values as null).
    if (loss == nullptr || loss->is_null()) continue;
    const double value = jr::number(*loss, what + ": 'curve': 'train_loss'");
    int64_t iteration = -1;
    jr::get(point, "iteration", iteration, what + ": 'curve'");
    if (iteration < 0 || !std::isfinite(value) || !(value > 0.0)) continue;
    curve.points.emplace_back(iteration, value);
  }
  return curve;
}

std::vector<PointSummary> summarize(const std::vector<RunRow>& rows) {
  std::map<PointKey, std::vector<const RunRow*>> groups;
  for (const auto& r : rows) groups[{r.config, r.setting_id, r.alpha, r.batch_size}].push_back(&r);
  std::vector<PointSummary> out;
  for (const auto& [key, runs] : groups) {
    PointSummary p;
    std::tie(p.config, p.setting_id, p.alpha, p.batch_size) = key;
    p.variant = runs.front()->variant;
    p.family_id = runs.front()->family_id;
    p.optimizer = runs.front()->optimizer;
    p.noise = runs.front()->noise;
    std::vector<double> acc, time;
    for (const RunRow* r : runs) {
      ++p.n_runs;
      if (r->status == "converged") {
        ++p.n_converged;
        if (std::isfinite(r->test_accuracy)) acc.push_back(r->test_accuracy);
        time.push_back(static_cast<double>(r->iterations));
        p.converged_runs.push_back({r->seed, r->test_accuracy, static_cast<double>(r->iterations)});
      } else if (r->status == "not_converged") {
        ++p.n_not_converged;
      } else if (r->status == "diverged") {
        ++p.n_diverged;
      }
    }
    p.accuracy = mean_std(acc);
    p.time = mean_std(time);
    std::sort(p.converged_runs.begin(), p.converged_runs.end(),
              [](const SeedResult& a, const SeedResult& b) { return a.seed < b.seed; });
    out.push_back(std::move(p));
  }
  return out;  // std::map order: config, setting, alpha, B
}

std::vector<PointSummary> best_batch_sizes(const std::vector<PointSummary>& points) {
  std::map<PointKey, PointSummary> best;  // key with B = 0
  for (const auto& p : points) {
    if (p.accuracy.n == 0) continue;
    const PointKey key{p.config, p.setting_id, p.alpha, 0};
    auto it = best.find(key);
    if (it == best.end() || better(p, it->second)) best[key] = p;
  }
  std::vector<PointSummary> out;
  for (const auto& [key, p] : best) out.push_back(p);
  return out;
}

int64_t batch_sizes_run(const std::vector<PointSummary>& points, const PointSummary& at) {
  std::set<int64_t> sizes;
  for (const auto& p : points) {
    if (p.config == at.config && p.setting_id == at.setting_id && p.alpha == at.alpha && p.n_runs > 0) {
      sizes.insert(p.batch_size);
    }
  }
  return static_cast<int64_t>(sizes.size());
}

PointComparison compare_points(const PointSummary& x, const PointSummary& y, double confidence) {
  // The seeds both points converged with (converged_runs are sorted by seed).
  std::vector<double> acc_x, acc_y, time_x, time_y;
  auto ix = x.converged_runs.begin();
  auto iy = y.converged_runs.begin();
  while (ix != x.converged_runs.end() && iy != y.converged_runs.end()) {
    if (ix->seed < iy->seed) {
      ++ix;
    } else if (iy->seed < ix->seed) {
      ++iy;
    } else {
      time_x.push_back(ix->time);
      time_y.push_back(iy->time);
      if (std::isfinite(ix->accuracy) && std::isfinite(iy->accuracy)) {
        acc_x.push_back(ix->accuracy);
        acc_y.push_back(iy->accuracy);
      }
      ++ix;
      ++iy;
    }
  }
  // Two or more shared seeds: paired on those only; otherwise unpaired on every converged run.
  PointComparison c;
  c.accuracy = acc_x.size() >= 2 ? paired_t_test(acc_x, acc_y, confidence)
                                 : welch_t_test(x.accuracy, y.accuracy, confidence);
  c.time = time_x.size() >= 2 ? paired_t_test(time_x, time_y, confidence) : welch_t_test(x.time, y.time, confidence);
  return c;
}

PointComparison compare_with_published(const PointSummary& ours, double acc_mean_percent, double acc_std_percent,
                                       double time_mean, double time_std, int64_t n, double confidence) {
  PointComparison c;
  c.accuracy = welch_t_test(ours.accuracy, Stat{n, acc_mean_percent / 100.0, acc_std_percent / 100.0}, confidence);
  if (std::isfinite(time_mean)) c.time = welch_t_test(ours.time, Stat{n, time_mean, time_std}, confidence);
  return c;
}

std::vector<Table2Row> table2(const std::vector<PointSummary>& points) {
  std::vector<Table2Row> rows;
  for (const auto& best : best_batch_sizes(points)) {  // sorted by config, setting, alpha
    Table2Row r;
    r.point = best;
    r.batch_sizes_run = batch_sizes_run(points, best);
    r.paper = find_paper_table2(best.config, best.alpha);
    const bool papers_own = r.paper != nullptr && r.paper->b_opt == best.batch_size;
    if (r.batch_sizes_run < 2 && !papers_own) continue;
    if (r.paper != nullptr) {
      r.against_paper = compare_with_published(best, r.paper->acc_mean, r.paper->acc_std, r.paper->time_mean,
                                               r.paper->time_std);
    }
    rows.push_back(std::move(r));
  }
  // alpha > 1 against the alpha = 1 row of its setting.
  for (auto& r : rows) {
    if (!(r.point.alpha > 1.0)) continue;
    for (const auto& ref : rows) {
      if (setting_of(ref.point) == setting_of(r.point) && ref.point.alpha == 1.0) {
        r.reference = ref.point;
        r.against_reference = compare_points(r.point, ref.point);
      }
    }
  }
  return rows;
}

std::vector<Table3Row> table3(const std::vector<PointSummary>& points) {
  std::vector<Table3Row> out;
  const auto b_opt = best_batch_sizes(points);
  for (const auto& [key, ps] : by_setting(points)) {
    Table3Row row;
    std::tie(row.config, row.setting_id) = key;
    for (const auto& p : b_opt) {
      if (setting_of(p) == key && p.alpha == 1.0) {
        row.without_ne = p;
        row.without_ne_batch_sizes = batch_sizes_run(points, p);
      }
    }
    for (const auto& p : ps) row.large_batch = std::max(row.large_batch, p.batch_size);
    for (const auto& p : ps) {
      if (p.batch_size != row.large_batch || !(p.alpha > 1.0) || p.accuracy.n == 0) continue;
      if (!row.with_ne || better(p, *row.with_ne)) row.with_ne = p;
    }
    if (row.with_ne && row.without_ne) row.with_vs_without = compare_points(*row.with_ne, *row.without_ne);
    row.paper = find_paper_table3(row.config);
    if (row.paper != nullptr) {
      constexpr double kNoTime = std::numeric_limits<double>::quiet_NaN();  // the paper's Table 3 gives none
      if (row.without_ne) {
        row.without_vs_paper = compare_with_published(*row.without_ne, row.paper->acc_without_mean,
                                                      row.paper->acc_without_std, kNoTime, kNoTime);
      }
      // The paper's NE result is at its large batch: another B is another experiment.
      if (row.with_ne && row.large_batch == row.paper->b_with) {
        row.with_vs_paper = compare_with_published(*row.with_ne, row.paper->acc_with_mean, row.paper->acc_with_std,
                                                   kNoTime, kNoTime);
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<Figure3Series> figure3_series(const std::vector<PointSummary>& points) {
  std::vector<Figure3Series> out;
  for (const auto& [key, ps] : by_setting(points)) {
    Figure3Series s;
    std::tie(s.config, s.setting_id) = key;
    for (const auto& p : ps) s.large_batch = std::max(s.large_batch, p.batch_size);
    for (const auto& p : ps) {
      if (p.alpha == 1.0) s.reduce_b.push_back(p);
      if (p.batch_size == s.large_batch) s.raise_alpha.push_back(p);
    }
    std::sort(s.reduce_b.begin(), s.reduce_b.end(),
              [](const auto& a, const auto& b) { return a.batch_size > b.batch_size; });
    std::sort(s.raise_alpha.begin(), s.raise_alpha.end(), [](const auto& a, const auto& b) { return a.alpha < b.alpha; });
    out.push_back(std::move(s));
  }
  return out;
}

// --- the paper's reported results (Mori & Ueda, Tables 2 and 3) ------------------------------------

const std::vector<PaperTable2Row>& paper_table2() {
  static const std::vector<PaperTable2Row> rows{
      {"C1", 1.0, 100, 88.05, 0.18, 24500, 2775}, {"C1", 1.5, 200, 88.69, 0.11, 20825, 2113},
      {"C1", 2.0, 300, 88.77, 0.30, 15932, 1870}, {"C1", 2.5, 500, 88.66, 0.22, 10040, 1153},
      {"F1", 1.0, 900, 90.17, 0.14, 10934, 816},  {"F1", 1.5, 2000, 90.39, 0.17, 7914, 528},
      {"C2", 1.0, 600, 61.40, 0.54, 5292, 935},   {"C2", 1.5, 1000, 61.75, 0.48, 5175, 748},
  };
  return rows;
}

const PaperTable2Row* find_paper_table2(const std::string& config, double alpha) {
  for (const auto& r : paper_table2()) {
    if (r.config == config && r.alpha == alpha) return &r;
  }
  return nullptr;
}

const std::vector<PaperTable3Row>& paper_table3() {
  static const std::vector<PaperTable3Row> rows{
      {"F1", 900, 90.17, 0.14, 5000, 3, 90.35, 0.05},
      {"C1", 100, 88.05, 0.18, 5000, 10, 88.26, 0.23},
      {"C2", 600, 61.40, 0.54, 5000, 5, 61.53, 0.35},
  };
  return rows;
}

const PaperTable3Row* find_paper_table3(const std::string& config) {
  for (const auto& r : paper_table3()) {
    if (r.config == config) return &r;
  }
  return nullptr;
}

bool is_plain(const PointSummary& p) {
  return p.noise == optim::kNoiseNE && p.alpha == 1.0 && !optim::uses_beta0(p.optimizer);
}

std::vector<ControlRow> controls(const std::vector<PointSummary>& points) {
  std::map<std::pair<std::string, std::string>, std::vector<const PointSummary*>> families;  // (config, family)
  for (const auto& p : points) families[{p.config, p.family_id}].push_back(&p);
  std::vector<ControlRow> rows;
  for (const auto& [key, ps] : families) {
    std::set<std::string> variants;
    for (const PointSummary* p : ps) variants.insert(p->variant);
    if (variants.size() < 2) continue;  // no control in this family: Tables 2 and 3 say it all
    std::map<int64_t, const PointSummary*> plain;  // B -> the plain point (the first by variant)
    for (const PointSummary* p : ps) {
      if (!is_plain(*p)) continue;
      auto& at = plain[p->batch_size];
      if (at == nullptr || p->variant < at->variant) at = p;
    }
    const PointSummary* small = plain.empty() ? nullptr : plain.begin()->second;
    std::vector<ControlRow> family;
    for (const PointSummary* p : ps) {
      ControlRow r;
      r.point = *p;
      const auto same = plain.find(p->batch_size);
      r.plain = same != plain.end() && same->second == p;
      if (same != plain.end() && !r.plain) {
        r.plain_same_b = *same->second;
        r.vs_plain_same_b = compare_points(*p, *same->second);
      }
      if (small != nullptr && small != p && small->batch_size != p->batch_size) {
        r.plain_small_b = *small;
        r.vs_plain_small_b = compare_points(*p, *small);
      }
      family.push_back(std::move(r));
    }
    std::stable_sort(family.begin(), family.end(), [](const ControlRow& a, const ControlRow& b) {
      if (a.point.batch_size != b.point.batch_size) return a.point.batch_size < b.point.batch_size;
      if (a.plain != b.plain) return a.plain;
      if (a.point.variant != b.point.variant) return a.point.variant < b.point.variant;
      return a.point.alpha < b.point.alpha;
    });
    rows.insert(rows.end(), family.begin(), family.end());
  }
  return rows;
}

}  // namespace nesgd::report
