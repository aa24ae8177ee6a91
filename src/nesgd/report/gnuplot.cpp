// Figures drawn by gnuplot (report/gnuplot.h): scripts, data, and the child process.
#include "nesgd/report/gnuplot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "nesgd/durable_write.h"

namespace nesgd::report {
namespace fs = std::filesystem;

namespace {

// Figure sizes in pixels: SVG scales anyway; PNG at 1.5x for sharper text.
constexpr int kSvgWidth = 720, kSvgHeight = 480;
constexpr int kPngWidth = 1080, kPngHeight = 720;

bool is_executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// Runs `program args...` in `cwd` with stdout and stderr appended to `log`
// (fork + exec: no shell, so no quoting of paths). Returns the exit status.
int run_program(const std::string& program, const std::vector<std::string>& args, const std::string& cwd,
                const std::string& log) {
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, STDIN_FILENO);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The data file (one block per series with data) and the plot command that
// draws it; the command is empty when no series has data.
struct PlotText {
  std::string data;
  std::string plot;
};

PlotText plot_text(const std::string& stem, const std::vector<Series>& series, const PlotSpec& spec) {
  PlotText t;
  t.data = "# data for " + stem + ".svg; one block per curve (gnuplot `index`)\n";
  t.plot = "plot ";
  int index = 0;
  for (const auto& s : series) {
    if (s.data_rows.empty()) continue;
    if (index > 0) t.data += "\n\n";
    t.data += "# " + s.title + "\n" + s.data_rows;
    const std::string file = index == 0 ? "\"" + std::string(kPlotsDir) + "/" + stem + ".dat\"" : "\"\"";
    if (index > 0) t.plot += ", \\\n     ";
    t.plot += fmt::format("{} index {} using {} with {} lw 2", file, index, spec.using_spec, spec.with);
    if (spec.point_types) t.plot += fmt::format(" pt {}", index % 2 == 0 ? 7 : 5);
    t.plot += fmt::format(" title \"{}\"", s.title);
    if (!spec.per_series_extra.empty()) {
      t.plot += fmt::format(", \\\n     \"\" index {} {}", index, spec.per_series_extra);
    }
    ++index;
  }
  if (index == 0) t.plot.clear();
  if (!t.plot.empty() && !spec.trailing.empty()) t.plot += ", \\\n     " + spec.trailing;
  return t;
}

// The script: the SVG, then the same plot again as PNG.
std::string plot_script(const std::string& stem, const std::string& setup, const std::string& plot,
                        const std::string& png_terminal) {
  return fmt::format("# gnuplot script written by `nesgd report`; run from the report folder: gnuplot {}/{}.gp\n"
                     "set encoding utf8\n"
                     "set terminal svg size {},{} dynamic noenhanced font \"sans,12\" background \"white\"\n"
                     "set output \"{}.svg\"\n"
                     "set grid\n"
                     "set key below\n"
                     "{}"
                     "{}\n"
                     "set terminal {} size {},{} noenhanced font \"sans,12\" background \"white\"\n"
                     "set output \"{}.png\"\n"
                     "replot\n",
                     kPlotsDir, stem, kSvgWidth, kSvgHeight, stem, setup, plot, png_terminal, kPngWidth, kPngHeight,
                     stem);
}

}  // namespace

std::string find_gnuplot(const std::string& hint) {
  std::string name = hint;
  if (name.empty()) {
    if (const char* env = std::getenv("NESGD_GNUPLOT")) name = env;
  }
  if (name.empty()) name = "gnuplot";
  if (name.find('/') != std::string::npos) return is_executable(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (is_executable(candidate)) return candidate.string();
  }
  return "";
}

Plotter::Plotter(const std::string& program, const fs::path& out, std::vector<std::string>& files,
                 std::vector<std::string>& warnings)
    : program_(program), out_(out), files_(files), warnings_(warnings) {
  std::error_code ec;
  fs::remove(out_ / kPlotsDir / "gnuplot.log", ec);
  if (run_program(program_, {"-e", "set terminal pngcairo"}, "", "/dev/null") == 0) png_terminal_ = "pngcairo";
}

bool Plotter::draw(const std::string& stem, const std::string& setup, const std::vector<Series>& series,
                   const PlotSpec& spec) {
  const PlotText text = plot_text(stem, series, spec);
  if (text.plot.empty()) return false;
  write_file_durable((out_ / kPlotsDir / (stem + ".dat")).string(), text.data);
  write_file_durable((out_ / kPlotsDir / (stem + ".gp")).string(), plot_script(stem, setup, text.plot, png_terminal_));
  files_.push_back(std::string(kPlotsDir) + "/" + stem + ".dat");
  files_.push_back(std::string(kPlotsDir) + "/" + stem + ".gp");
  const std::string log = (out_ / kPlotsDir / "gnuplot.log").string();
  const int rc = run_program(program_, {std::string(kPlotsDir) + "/" + stem + ".gp"}, out_.string(), log);
  if (rc != 0 || !fs::exists(out_ / (stem + ".svg")) || !fs::exists(out_ / (stem + ".png"))) {
    warnings_.push_back("gnuplot failed on " + stem + " (exit " + std::to_string(rc) + "): see " + log);
    return false;
  }
  files_.push_back(stem + ".svg");
  files_.push_back(stem + ".png");
  return true;
}

void Plotter::remove_empty_log() {
  std::error_code ec;
  const fs::path log = out_ / kPlotsDir / "gnuplot.log";
  if (fs::exists(log, ec) && fs::file_size(log, ec) == 0) fs::remove(log, ec);
}

}  // namespace nesgd::report
