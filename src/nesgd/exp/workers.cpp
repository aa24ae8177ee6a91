#include "nesgd/exp/workers.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "nesgd/error.h"

extern char** environ;

namespace nesgd::exp {
namespace {

// The workers a signal handler passes SIGINT/SIGTERM on to. Written before
// the handlers are installed and while signals are blocked, read in them.
constexpr int kMaxWorkers = 1024;
pid_t g_pids[kMaxWorkers];
volatile sig_atomic_t g_count = 0;

void forward_signal(int sig) {
  const int saved = errno;
  for (int i = 0; i < g_count; ++i) {
    if (g_pids[i] > 0) ::kill(g_pids[i], sig);
  }
  errno = saved;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

}  // namespace

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  if (cpus.empty()) {
    const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    for (int c = 0; c < (n > 0 ? n : 1); ++c) cpus.push_back(c);
  }
  return cpus;
}

std::vector<std::vector<int>> partition_cpus(const std::vector<int>& cpus, int workers) {
  if (workers < 1) throw Error("the number of workers must be at least 1, got " + std::to_string(workers));
  if (cpus.empty()) throw Error("no CPUs to share among the workers");
  std::vector<std::vector<int>> shares(static_cast<size_t>(workers));
  const int n = static_cast<int>(cpus.size());
  if (workers > n) {
    for (int i = 0; i < workers; ++i) shares[static_cast<size_t>(i)].push_back(cpus[static_cast<size_t>(i % n)]);
    return shares;
  }
  for (int j = 0; j < n; ++j) shares[static_cast<size_t>(j % workers)].push_back(cpus[static_cast<size_t>(j)]);
  return shares;
}

std::vector<std::string> without_workers_flag(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i] == "--workers") {
      ++i;  // and its value
      continue;
    }
    if (i > 0 && args[i].rfind("--workers=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

std::vector<WorkerExit> run_workers(const WorkerLaunch& launch) {
  const int n = static_cast<int>(launch.cpus.size());
  if (n < 1 || n > kMaxWorkers) {
    throw Error("--workers must be between 1 and " + std::to_string(kMaxWorkers) + ", got " + std::to_string(n));
  }
  if (launch.args.empty()) throw Error("run_workers: no program arguments");

  // Everything a child needs is built here: between fork and exec it makes
  // system calls only (the parent may have threads).
  std::vector<char*> argv;
  for (const auto& a : launch.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string prefix = launch.env_name + "=";
  std::vector<std::string> inherited;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) inherited.emplace_back(*e);
  }
  std::vector<std::string> tags;
  std::vector<cpu_set_t> sets(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    tags.push_back(prefix + std::to_string(i + 1) + "/" + std::to_string(n));
    CPU_ZERO(&sets[static_cast<size_t>(i)]);
    for (int c : launch.cpus[static_cast<size_t>(i)]) CPU_SET(c, &sets[static_cast<size_t>(i)]);
  }
  std::vector<std::vector<char*>> envps(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& envp = envps[static_cast<size_t>(i)];
    for (auto& e : inherited) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(const_cast<char*>(tags[static_cast<size_t>(i)].c_str()));
    envp.push_back(nullptr);
  }

  // Signals are held while the children start and the handlers go in, so
  // none is lost between a fork and its pid being known.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &block, &old_mask);
  struct sigaction forward {}, old_int {}, old_term {};
  forward.sa_handler = forward_signal;
  sigemptyset(&forward.sa_mask);
  ::sigaction(SIGINT, &forward, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);
  auto restore = [&] {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    g_count = 0;
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  };

  const pid_t parent = ::getpid();
  g_count = 0;
  std::string failure;
  for (int i = 0; i < n; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);                    // a terminal's Ctrl-C reaches the parent, which passes it on once
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // the parent gone: stop as on Ctrl-C
      if (::getppid() != parent) ::_exit(130);
      ::sched_setaffinity(0, sizeof(cpu_set_t), &sets[static_cast<size_t>(i)]);
      ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
      ::execve(launch.executable.c_str(), argv.data(), envps[static_cast<size_t>(i)].data());
      const char msg[] = "nesgd: error: a sweep worker could not start its program\n";
      [[maybe_unused]] auto w = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
      ::_exit(127);
    }
    if (pid < 0) {
      failure = std::string("could not start sweep worker ") + std::to_string(i + 1) + ": " + std::strerror(errno);
      break;
    }
    g_pids[i] = pid;
    g_count = i + 1;
  }
  if (!failure.empty()) {
    for (int i = 0; i < g_count; ++i) ::kill(g_pids[i], SIGTERM);
    for (int i = 0; i < g_count; ++i) wait_for(g_pids[i]);
    restore();
    throw Error(failure + " (the workers already started were stopped; their stored runs stay stored)");
  }
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);  // from here a signal is passed on at once

  std::vector<WorkerExit> exits;
  for (int i = 0; i < n; ++i) {
    WorkerExit w;
    w.worker = i + 1;
    w.pid = g_pids[i];
    w.exit_code = wait_for(g_pids[i]);
    g_pids[i] = -1;  // reaped: its pid may be reused, so no more signals to it
    exits.push_back(w);
  }
  restore();
  return exits;
}

}  // namespace nesgd::exp
