#include "common.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/models/catalog.h"

namespace nesgd::cli {
namespace {

std::atomic<int> g_stop_signals{0};
std::vector<std::string> g_program_arguments;

void on_signal(int) {
  if (g_stop_signals.fetch_add(1) >= 1) std::_Exit(130);
}

}  // namespace

void set_program_arguments(int argc, char** argv) { g_program_arguments.assign(argv, argv + argc); }
const std::vector<std::string>& program_arguments() { return g_program_arguments; }

void install_stop_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool stop_requested() { return g_stop_signals.load() > 0; }

void print_progress_line(const std::string& line, bool tty, bool end_line) {
  if (tty) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    if (end_line) std::fprintf(stderr, "\n");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

namespace {

// The value of `text` if all of it is a finite number, else nothing.
std::optional<double> parse_number(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) != 0) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Whether all of `text` is a base-10 integer (sign allowed) that fits 64 bits; its sign and size.
struct ParsedInteger {
  bool negative = false;
  unsigned long long magnitude = 0;
};
std::optional<ParsedInteger> parse_integer(const std::string& text) {
  ParsedInteger p;
  std::size_t at = 0;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    p.negative = text[0] == '-';
    at = 1;
  }
  if (at == text.size()) return std::nullopt;
  for (; at < text.size(); ++at) {
    if (text[at] < '0' || text[at] > '9') return std::nullopt;
    const unsigned digit = static_cast<unsigned>(text[at] - '0');
    if (p.magnitude > (ULLONG_MAX - digit) / 10) return std::nullopt;
    p.magnitude = p.magnitude * 10 + digit;
  }
  return p;
}

std::string with_note(const std::string& sentence, const std::string& note) {
  return note.empty() ? sentence : sentence + " (" + note + ")";
}

// A validator that accepts `text` when `ok` says so and otherwise fails with
// `sentence` (CLI11 puts the flag's name in front; format_failure joins them).
CLI::Validator sentence_check(const std::string& description, const std::string& sentence,
                              std::function<bool(const std::string&)> ok) {
  return CLI::Validator(
      [sentence, ok = std::move(ok)](std::string& text) { return ok(text) ? std::string() : sentence; },
      description);
}

}  // namespace

CLI::Validator positive_integer() {
  return sentence_check("POSITIVE", "must be a positive integer", [](const std::string& t) {
    const auto p = parse_integer(t);
    return p && !p->negative && p->magnitude > 0;
  });
}

CLI::Validator non_negative_integer(const std::string& note) {
  return sentence_check("NONNEGATIVE", with_note("must be an integer >= 0", note), [](const std::string& t) {
    const auto p = parse_integer(t);
    return p && (!p->negative || p->magnitude == 0);
  });
}

CLI::Validator positive_number() {
  return sentence_check("POSITIVE", "must be a positive number", [](const std::string& t) {
    const auto v = parse_number(t);
    return v && *v > 0.0;
  });
}

CLI::Validator non_negative_number(const std::string& note) {
  return sentence_check("NONNEGATIVE", with_note("must be a number >= 0", note), [](const std::string& t) {
    const auto v = parse_number(t);
    return v && *v >= 0.0;
  });
}

CLI::Validator finite_number() {
  return sentence_check("FINITE", "must be a finite number",
                        [](const std::string& t) { return parse_number(t).has_value(); });
}

CLI::Validator number_in_unit_interval(bool zero_allowed) {
  return sentence_check(zero_allowed ? "[0,1)" : "(0,1)",
                        zero_allowed ? "must be a number in [0, 1)" : "must be a number strictly between 0 and 1",
                        [zero_allowed](const std::string& t) {
                          const auto v = parse_number(t);
                          return v && *v < 1.0 && (zero_allowed ? *v >= 0.0 : *v > 0.0);
                        });
}

std::string format_failure(const CLI::App* app, const CLI::Error& e) {
  std::string message = e.what();
  // CLI11 writes a validator's failure as "--flag: <sentence>"; ours read as
  // one sentence with the flag as subject.
  const auto colon = message.find(": must ");
  if (dynamic_cast<const CLI::ValidationError*>(&e) != nullptr && colon != std::string::npos &&
      message.compare(0, 1, "-") == 0) {
    message.erase(colon, 1);
  }
  // CLI11 writes a flag given without its value as "--flag: 1 required INT:POSITIVE missing".
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr && message.compare(0, 1, "-") == 0) {
    const auto name_end = message.find(": ");
    const std::string tail = " missing";
    if (name_end != std::string::npos && message.find(" required ", name_end) != std::string::npos &&
        message.size() > tail.size() && message.compare(message.size() - tail.size(), tail.size(), tail) == 0) {
      message = message.substr(0, name_end) + " needs a value";
    }
  }
  std::string command = "nesgd";  // and the subcommands parsed so far
  for (const CLI::App* a = app; a != nullptr && !a->get_subcommands().empty();) {
    a = a->get_subcommands().front();
    command += " " + a->get_name();
  }
  return "nesgd: error: " + message + "\nRun `" + command + " --help` for the options.\n";
}

void DataFlags::add_to(CLI::App* app, bool with_layout) {
  app->add_option("--data-dir", data_dir,
                  "Data root holding one folder per dataset (DIR/fashion-mnist/...). "
                  "Default: $NESGD_DATA_DIR, then system packages, then the user cache");
  app->add_option("--mirror", mirror, "Base URL to download from instead of the official one");
  app->add_flag("--offline", offline, "Never download; fail if the data is not found locally");
  if (with_layout) {
    app->add_option("--layout", layout,
                    "How --dataset npz:PATH images keep their channels: nhwc (N, H, W, C), nchw (N, C, H, W) or "
                    "auto (the axis of dims 1 and 3 whose size is 1, 3 or 4; an ambiguous shape is refused and asks for this flag)")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "nhwc", "nchw"}));
  }
}

data::DataReport stderr_data_report() {
  struct State {
    bool line_open = false;  // a progress line still waits for its newline
    std::string file;
    uint64_t last_step = UINT64_MAX;
    // Gone with the options, e.g. when a failed download's error unwinds past
    // them: the error message then starts on a line of its own.
    ~State() {
      if (line_open) std::fputc('\n', stderr);
    }
  };
  auto state = std::make_shared<State>();
  data::DataReport report;
  report.message = [state](const std::string& line) {
    if (state->line_open) std::fputc('\n', stderr);
    state->line_open = false;
    state->file.clear();
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  // A log file gets only the start and end lines of a download.
  if (::isatty(STDERR_FILENO) != 0) {
    report.progress = [state](const std::string& file, uint64_t got, uint64_t total) {
      if (file != state->file) {
        state->file = file;
        state->last_step = UINT64_MAX;
      }
      const uint64_t step = total > 0 ? 100 * got / total : got >> 20;  // redraw each percent (or MiB)
      if (step == state->last_step) return;
      state->last_step = step;
      state->line_open = true;
      std::fprintf(stderr, "\r  %s: %.1f / %.1f MB", file.c_str(), got / 1e6, total / 1e6);
      std::fflush(stderr);
    };
  }
  return report;
}

data::DataOptions DataFlags::options(bool quiet) const {
  data::DataOptions o;
  if (!quiet) o.report = stderr_data_report();
  o.data_dir = data_dir;
  o.mirror = mirror;
  o.allow_download = !offline;
  o.layout = data::pixel_layout_from_string(layout);
  return o;
}

void add_train_options(CLI::App* cmd, train::RunConfig& c, std::string& loss_measure) {
  std::string models_help;
  for (const auto& m : models::model_catalog()) models_help += m.name + " = " + m.help + "; ";
  cmd->add_option("--model", c.model,
                  "Network (Mori & Ueda, arXiv 2009.13094): " + models_help +
                  "with ghost batch norm (of 100 by default) --batch-size must be a multiple of the ghost batch; or "
                  "torchscript:PATH, your own network saved by torch.jit.save(torch.jit.script(net), PATH), whose "
                  "forward(x) maps [N, C, H, W] images in [0, 1] to logits [N, classes] (its SHA-256 is part of the "
                  "run id; L*/L** default to 0.01/0.001; sweeps train such runs one at a time, never packed; "
                  "--distributed only where its only state is its parameters)")
      ->capture_default_str();
  cmd->add_option("--init", c.init,
                  "Initial weights: glorot (drawn from the run's seed as the paper's networks are: weights of two or "
                  "more dimensions Glorot-uniform, biases 0, normalization scales 1; the default) or file (a "
                  "TorchScript model's own saved weights; the seed then varies only the data order)")
      ->check(CLI::IsMember(models::init_names()))
      ->capture_default_str();
  cmd->add_option("--dataset", c.dataset,
                  "Dataset: fashion-mnist, cifar10, cifar100, cifar10-subset (see `nesgd data list`), or "
                  "npz:PATH, your own NumPy arrays: an .npz holding x_train, y_train, x_test, y_test, or a folder "
                  "of those four .npy files (see --layout)")
      ->capture_default_str();
  cmd->add_option("--batch-size,-b", c.batch_size, "Minibatch size B (each of B and B')")
      ->capture_default_str()
      ->check(positive_integer());
  CLI::Option* alpha = cmd->add_option("--alpha,-a", c.alpha,
                                       "NE factor: g = alpha*grad L_B + (1-alpha)*grad L_B'. 1 = plain training, "
                                       ">1 enhances noise")
                           ->capture_default_str()
                           ->check(finite_number());
  cmd->add_option("--match-batch", c.match_batch,
                  "Set alpha from B so that NE behaves like plain training at this batch size B_ref: alpha = (1 + "
                  "sqrt(2B/B_ref - 1))/2 gives the effective batch B/(alpha^2 + (1-alpha)^2) = B_ref (needs B >= "
                  "B_ref/2; the alpha used is recorded; 0 = alpha as given)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = alpha as given"))
      ->excludes(alpha);
  cmd->add_option("--noise", c.noise,
                  "What the step adds to g_B: ne (NE's (alpha-1)(g_B - g_B'), whose covariance is SGD's own; the "
                  "default) or isotropic (the control: Gaussian noise sigma*xi with E|sigma*xi|^2 = |(alpha-1)(g_B - "
                  "g_B')|^2 at every step, the same strength and cost without the structure; single-process runs, "
                  "never packed)")
      ->check(CLI::IsMember(optim::noise_names()))
      ->capture_default_str();
  cmd->add_option("--noise-matching", c.noise_matching,
                  "--noise isotropic: match NE's strength over the whole parameter vector (whole, the default) or "
                  "tensor by tensor (tensor)")
      ->check(CLI::IsMember(optim::noise_matching_names()))
      ->capture_default_str();
  cmd->add_option("--seed,-s", c.seed, "Seed for initialization and both minibatch streams")
      ->capture_default_str()
      ->check(non_negative_integer());
  cmd->add_option("--train-subset", c.train_subset, "Use the first N training samples (0 = all)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = all"));
  cmd->add_option("--test-subset", c.test_subset,
                  "Evaluate the trained model on the first N test samples (0 = all, as the paper does; "
                  "a smaller N is for quick checks, and the record's test_size says which)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = all"));
  cmd->add_option("--l-star", c.l_star,
                  "Halve the LR once when the training loss reaches this (default: the paper's, per model)")
      ->check(positive_number());
  cmd->add_option("--l-stop", c.l_stop,
                  "Stop when the training loss falls below this, L** (default: the paper's, per model)")
      ->check(positive_number());
  cmd->add_option("--loss-measure", loss_measure,
                  "Training loss for L*/L**: epoch-mean (Keras: mean minibatch loss over the last epoch, "
                  "checked at each epoch's end) or full (whole training set, eval mode, every --eval-every steps)")
      ->capture_default_str()
      ->check(CLI::IsMember(train::loss_measure_names()));
  cmd->add_option("--eval-every", c.eval_every,
                  "Iterations between training-loss checks (0 = once per epoch: ceil(N/B) steps with --sampling "
                  "keras, floor(N/B) otherwise)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = once per epoch"));
  cmd->add_option("--max-iterations", c.max_iterations,
                  "Cap on optimizer steps; hitting it gives status not_converged (0 = none)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = no cap"));
  cmd->add_option("--sampling", c.sampling,
                  "Minibatch streams: keras (Keras's fit, the paper's protocol: each epoch a fresh permutation in "
                  "ceil(N/B) steps, the last batch holding N mod B samples; the epoch-mean loss weights batches by "
                  "size), epoch (the same passes with the short batch dropped: floor(N/B) steps of exactly B; "
                  "nesgd's behaviour before keras) or iid (independent uniform batches)")
      ->capture_default_str()
      ->check(CLI::IsMember(data::sampling_names()));
  cmd->add_option("--optimizer", c.optimizer.name,
                  "keras-adam (Keras's Adam: eps added to sqrt(v), bias correction in the step size; the paper's), "
                  "adam (LibTorch's: eps added to the bias-corrected sqrt(v_hat); the default before keras-adam), "
                  "adamw, sgd, rmsprop, or Positive-Negative Momentum (Xie et al., ICML 2021: noise enlarged by two "
                  "momentum buffers at one gradient a step): pnm (SGD form) or adapnm (Adam form with AMSGrad's "
                  "maximum; --eps stays Keras's 1e-7 unless given, the authors' code uses 1e-8)")
      ->capture_default_str()
      ->check(CLI::IsMember(optim::optimizer_names()));
  cmd->add_option("--lr", c.optimizer.lr, "Initial learning rate (Keras Adam default)")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_option("--beta1", c.optimizer.beta1, "Adam beta1")
      ->capture_default_str()
      ->check(number_in_unit_interval(true));
  cmd->add_option("--beta2", c.optimizer.beta2, "Adam beta2")
      ->capture_default_str()
      ->check(number_in_unit_interval(true));
  cmd->add_option("--eps", c.optimizer.eps, "Adam/RMSprop epsilon (Keras: 1e-7; PyTorch: 1e-8)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--beta0", c.optimizer.beta0,
                  "pnm/adapnm: weight of the negative momentum (Xie et al.'s default 1; 0 = plain momentum)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--momentum", c.optimizer.momentum, "SGD/RMSprop momentum")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--weight-decay", c.optimizer.weight_decay, "Weight decay (paper: none)")
      ->capture_default_str()
      ->check(non_negative_number());
  cmd->add_option("--device", c.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--precision", c.precision,
                  "Number format: fp32 (the paper's; IEEE float32 everywhere, TF32 off on GPUs), fp64 "
                  "(reference runs; several times slower), tf32 (float32 weights, TF32 matrix products and "
                  "convolutions; NVIDIA Ampere or newer) or bf16 (float32 weights and optimizer state, forward "
                  "passes under bf16 autocast; GPUs from Ampere on, and CPUs with AVX512-BF16 or AMX). Part of "
                  "the run's id")
      ->check(CLI::IsMember(train::precision_names()))
      ->capture_default_str();
  cmd->add_option("--bn-convention", c.bn_convention,
                  "c1/c2 ghost batch norm: keras (momentum 0.99, eps 1e-3; the paper's framework) or pytorch "
                  "(momentum 0.1, eps 1e-5)")
      ->check(CLI::IsMember(models::bn_convention_names()))
      ->capture_default_str();
  cmd->add_option("--ghost-batch-size", c.ghost_batch_size,
                  "c1/c2: samples per ghost batch, each normalized on its own (paper: 100); B must be a multiple, "
                  "and with --sampling keras so must each epoch's short batch, N mod B")
      ->check(positive_integer())
      ->capture_default_str();
  cmd->add_option("--ne-pass", c.ne_pass,
                  "How an NE step (alpha != 1) forms alpha g_B + (1 - alpha) g_B': joint (one forward and one "
                  "backward pass over the 2B samples of [B; B'], ghost batch norm still per batch; the default) or "
                  "split (a forward and backward pass per batch). The same arithmetic up to summation order, so "
                  "not part of the run's id; the record's ne_pass says which ran (--log-noise-scale and TorchScript "
                  "models run split)")
      ->check(CLI::IsMember(optim::ne_pass_names()))
      ->capture_default_str();
  cmd->add_flag("--cuda-graph", c.cuda_graph,
               "On a GPU, replay each full-size step's forward and backward passes as one CUDA graph (the same "
               "kernels without their launch cost; single runs; needs a LibTorch with CUDA)");
  cmd->add_option("--threads", c.threads, "ATen intra-op threads (0 = measured default, see docs/PERFORMANCE.md)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = measured default"));
  cmd->add_option("--blas-threads", c.blas_threads, "OpenBLAS threads (0 = measured default)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = measured default"));
  cmd->add_option("--load-model", c.init_model,
                  "Start from weights saved by `nesgd train --save-model` instead of Glorot init")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--log-noise-scale", c.log_noise_scale,
                "Add the gradient noise scale B_simple (EMA) to every curve point. Free for alpha != 1; "
                "at alpha = 1 it costs one extra forward/backward of B per step. Never changes the trajectory "
                "(at alpha != 1 it runs the split NE pass, which reads g_B on its own: the trajectory of "
                "--ne-pass split, bit for bit)");
}

void finish_train_options(train::RunConfig& config, const std::string& loss_measure) {
  config.loss_measure = train::loss_measure_from_string(loss_measure);
  config.resolve_defaults_and_validate();
}

}  // namespace nesgd::cli
