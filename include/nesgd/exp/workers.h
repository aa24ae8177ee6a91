// nesgd/exp/workers.h - one sweep as several processes on one machine's CPU cores.
//
// `nesgd sweep --workers N` starts N copies of itself on the same store, each
// pinned to its own share of the cores: every copy then sees only its cores
// (the thread defaults follow, e.g. F1 at 1 ATen + 1 OpenBLAS thread on a
// 1-core share) and takes free runs through the store's claims, as separate
// processes sharing a store always may. Small GEMMs on one thread each waste
// less than one GEMM split over all cores (docs/PERFORMANCE.md, "Sweep
// workers"). The processes are independent: a worker that fails leaves the
// others running, and whatever they stored stays stored.
// Torch-free; Linux (sched_setaffinity, prctl).
#pragma once

#include <string>
#include <vector>

namespace nesgd::exp {

// The CPUs this process may run on (sched_getaffinity), ascending; at least one.
std::vector<int> allowed_cpus();

// Splits `cpus` among `workers` (>= 1): worker i gets cpus[j] for every j with
// j mod workers == i, so shares differ by at most one CPU. With more workers
// than CPUs, worker i gets cpus[i mod size] alone (CPUs are then shared).
std::vector<std::vector<int>> partition_cpus(const std::vector<int>& cpus, int workers);

// `args` (argv[0] first) without "--workers N" / "--workers=N".
std::vector<std::string> without_workers_flag(const std::vector<std::string>& args);

struct WorkerLaunch {
  std::string executable = "/proc/self/exe";
  std::vector<std::string> args;        // argv of each worker, argv[0] first
  std::vector<std::vector<int>> cpus;   // one share per worker (partition_cpus)
  std::string env_name = "NESGD_SWEEP_WORKER";  // set to "i/N" (1-based) in worker i
};

struct WorkerExit {
  int worker = 0;     // 1-based
  int pid = 0;
  int exit_code = 0;  // 128 + signal where a signal ended it
};

// Starts one process per share and waits for all of them. While it waits,
// SIGINT and SIGTERM sent to this process are passed on to every worker (the
// workers run in their own process group, so a terminal's Ctrl-C reaches them
// once, through here); a worker whose parent dies gets SIGTERM. Throws
// nesgd::Error where a process cannot be started (the ones started are
// stopped and waited for first).
std::vector<WorkerExit> run_workers(const WorkerLaunch& launch);

}  // namespace nesgd::exp
