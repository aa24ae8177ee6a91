// nesgd/report/gnuplot.h - figures drawn by gnuplot, run as a child process on
// scripts and data the report writes into plots/ (torch-free).
//
// Each figure is plots/<stem>.dat (one block per curve) and plots/<stem>.gp,
// turned into <stem>.svg and <stem>.png; the scripts stay so that a figure
// can be redrawn or restyled by hand. gnuplot runs without a shell (no
// quoting of paths) and its messages go to plots/gnuplot.log. Which figures
// a report has is report/figures.h's.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nesgd::report {

// The folder of the scripts and data, inside the report's folder.
constexpr const char* kPlotsDir = "plots";

// The gnuplot to use ("" if none): `hint`, else $NESGD_GNUPLOT, else PATH.
std::string find_gnuplot(const std::string& hint);

// One curve: its key title and its data lines ("x y dy ...").
struct Series {
  std::string title;
  std::string data_rows;
};

// How a figure plots its series: `using` columns, the style after "with", and
// what follows each series or the whole plot.
struct PlotSpec {
  std::string using_spec;        // "1:2:3"
  std::string with;              // "yerrorlines": each series adds lw 2 and a point type
  bool point_types = true;       // false for styles without points ("lines")
  std::string per_series_extra;  // one more plot of each series' block (labels), or ""
  std::string trailing;          // plot items after the series (horizontal lines), or ""
};

// Draws figures into one report folder, recording the files it writes and
// the failures it meets in the caller's lists (in order).
class Plotter {
 public:
  // `program` as find_gnuplot found it. Clears an old plots/gnuplot.log and
  // asks gnuplot whether it has the pngcairo terminal (else PNGs use libgd's png).
  Plotter(const std::string& program, const std::filesystem::path& out, std::vector<std::string>& files,
          std::vector<std::string>& warnings);

  // Writes plots/<stem>.dat and plots/<stem>.gp and runs gnuplot for <stem>.svg
  // and <stem>.png. False when no series has data (nothing written) or gnuplot
  // failed (a warning names the log). `setup` is the script's lines before "plot".
  bool draw(const std::string& stem, const std::string& setup, const std::vector<Series>& series,
            const PlotSpec& spec);

  // Removes plots/gnuplot.log when gnuplot had nothing to say.
  void remove_empty_log();

 private:
  std::string program_;
  std::string png_terminal_ = "png";  // pngcairo when built in, else libgd's png
  std::filesystem::path out_;
  std::vector<std::string>& files_;
  std::vector<std::string>& warnings_;
};

}  // namespace nesgd::report
