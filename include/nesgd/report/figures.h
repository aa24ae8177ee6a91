// nesgd/report/figures.h - the figures of a report: the paper's Figures 1-3
// and every point's training-loss curves (torch-free).
//
// Figures 1 and 2 (C1; F1 and C2) plot test accuracy and convergence time
// against B, one curve per alpha swept over B; Figure 3 plots accuracy against
// time for "reduce B" and "raise alpha" from the largest B. The loss curves
// show each seed of a point with L* and L**. The numbers are aggregate.h's;
// gnuplot draws (report/gnuplot.h). Nothing here trains or reads the store.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/report/aggregate.h"
#include "nesgd/report/gnuplot.h"
#include "nesgd/report/labels.h"

namespace nesgd::report {

// Why the seeds of one point scatter in convergence time: what the loss curves show.
constexpr const char* kCurveCaption =
    "The convergence time is a first-passage time: the loss sits on a noisy plateau between L* and roughly 3 L* "
    "until it first dips below L* (the learning rate is halved) and then reaches L** within a few epochs; when "
    "that first dip comes is luck, which is why the seeds' convergence times scatter.";

struct Figure {
  std::string file_stem;  // without extension
  std::string caption;
  std::string config;
  std::string setting_id;
};

// Figures 1/2 (accuracy and time against B) of every setting with an alpha
// run at two or more B, then Figure 3 of every setting that has one.
// `seeds_note` ("10 seeds per point") goes into the titles.
std::vector<Figure> draw_figures(Plotter& plotter, const std::vector<PointSummary>& points, const Labels& labels,
                                 const std::string& seeds_note);

// The loss-curve figures: one per point (config, setting, B, alpha), every
// seed's training loss against iteration on a log axis, with L* and L**.
// Curves are read from the records one point at a time and dropped once its
// data file is written, so a store of thousands of runs never holds them twice.
struct CurveFigures {
  std::vector<Figure> figures;
  size_t points_without_curves = 0;
};
// `rows[i]` is read from `records[i]`.
CurveFigures draw_loss_curves(Plotter& plotter, const std::vector<nlohmann::json>& records,
                              const std::vector<RunRow>& rows, const Labels& labels);

}  // namespace nesgd::report
