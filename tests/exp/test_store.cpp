// The result store: claims between processes, exports.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "nesgd/error.h"
#include "nesgd/exp/store.h"
#include "support/cli.h"
#include "support/data.h"

namespace ex = nesgd::exp;
namespace fs = std::filesystem;
using nesgd::testing::read_text;
using nesgd::testing::TempDir;

namespace {

nlohmann::json record(const std::string& id, int64_t b, double alpha, const std::string& status) {
  return {{"run_id", id},
          {"status", status},
          {"iterations", 100 * b},
          {"test_accuracy", 0.5},
          {"batch_size", b},
          {"alpha", alpha},
          {"seed", 1},
          {"config", {{"model", "f1"}, {"batch_size", b}, {"alpha", alpha}, {"seed", 1}}},
          {"curve", nlohmann::json::array({{{"iteration", 1}, {"train_loss", 1.0}}})}};
}

}  // namespace

TEST(Store, ClaimStoreAndSkip) {
  TempDir tmp;
  ex::ResultStore store(tmp.path());
  EXPECT_TRUE(fs::exists(tmp.path() + "/store.json"));
  ex::RunClaim a, b;
  ASSERT_EQ(store.claim("abc", a), ex::ClaimOutcome::kClaimed);
  EXPECT_TRUE(a.held());
  // flock() belongs to the open file description: a second open, even in this
  // process, is another claimant and finds the run busy.
  EXPECT_EQ(store.claim("abc", b), ex::ClaimOutcome::kBusy);
  EXPECT_FALSE(b.held());
  store.store_result("abc", record("abc", 100, 1, "converged"), a);
  EXPECT_FALSE(a.held());
  EXPECT_FALSE(fs::exists(tmp.path() + "/claims/abc.lock")) << "claim removed once the result is stored";
  EXPECT_EQ(store.claim("abc", b), ex::ClaimOutcome::kDone);
  EXPECT_TRUE(store.has_result("abc"));
  // A released claim (interrupted run) is free again and stores nothing.
  ASSERT_EQ(store.claim("def", a), ex::ClaimOutcome::kClaimed);
  a.release(false);
  EXPECT_EQ(store.claim("def", b), ex::ClaimOutcome::kClaimed);
  EXPECT_FALSE(store.has_result("def"));
  // A record whose id does not match is refused.
  EXPECT_THROW(store.store_result("def", record("xyz", 1, 1, "converged"), b), nesgd::Error);
}

TEST(Store, RefusesAFolderThatIsNotAStore) {
  TempDir tmp;
  std::ofstream(tmp.path() + "/store.json") << "{\"format\": \"something else\"}";
  EXPECT_THROW(ex::ResultStore{tmp.path()}, nesgd::Error);
  std::ofstream(tmp.path() + "/store.json") << "{\"format\": \"nesgd-store\", \"version\": 99}";
  EXPECT_THROW(ex::ResultStore{tmp.path()}, nesgd::Error);
}

TEST(Store, LoadsSortedAndReportsAHandEditedFile) {
  TempDir tmp;
  ex::ResultStore store(tmp.path());
  for (const std::string id : {"b2", "a1", "c3"}) {
    ex::RunClaim c;
    ASSERT_EQ(store.claim(id, c), ex::ClaimOutcome::kClaimed);
    store.store_result(id, record(id, 100, 1, "converged"), c);
  }
  // A temporary file of a writer killed mid-write is hidden and ignored.
  std::ofstream(tmp.path() + "/runs/.d4.json.tmp-1-0") << "{\"trunc";
  const auto all = store.load_results();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["run_id"], "a1");
  EXPECT_EQ(all[2]["run_id"], "c3");
  std::ofstream(tmp.path() + "/runs/e5.json") << "{ not json";
  try {
    store.load_results();
    FAIL();
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("e5.json"), std::string::npos) << e.what();
  }
}

// Found by fuzzing (fuzz/corpus/store/array.json and its relatives): a run
// record, sweep record or store marker of valid JSON but the wrong shape made
// nlohmann::json throw its own type_error ("cannot use value() with array")
// out of the store and the report. Each is an nesgd::Error naming the file.
TEST(Store, HandEditedFilesOfTheWrongShapeAreNamedErrors) {
  using nesgd::testing::expect_error;
  TempDir tmp;
  for (const char* marker : {"[1]", "{\"format\": \"nesgd-store\", \"version\": \"1\"}", "\"nesgd-store\""}) {
    std::ofstream(tmp.path() + "/store.json") << marker;
    expect_error([&] { ex::ResultStore{tmp.path()}; }, {"store.json is not a nesgd store marker"});
  }
  std::ofstream(tmp.path() + "/store.json") << "{\"format\": \"nesgd-store\"}";  // no version: version 1
  ex::ResultStore store(tmp.path());
  std::ofstream(tmp.path() + "/runs/a1.json") << "[{\"run_id\": \"x\"}]";
  expect_error([&] { store.load_results(); }, {"a1.json is not a run record", "edited by hand"});
  fs::remove(tmp.path() + "/runs/a1.json");
  for (const char* sweep : {"[]", "{\"name\": 3}", "{\"name\": \"s\", \"run_ids\": [1]}", "{\"run_ids\": {}}"}) {
    std::ofstream(tmp.path() + "/sweeps/s-0.json") << sweep;
    expect_error([&] { store.sweeps(); }, {"s-0.json is not a sweep record", "delete it"});
  }
}

TEST(Store, ExportsCsvAndJsonLines) {
  TempDir tmp;
  ex::ResultStore store(tmp.path());
  const std::vector<nlohmann::json> recs{record("a1", 100, 1, "converged"), record("b2", 200, 1.5, "not_converged")};
  for (const auto& r : recs) {
    ex::RunClaim c;
    ASSERT_EQ(store.claim(r["run_id"], c), ex::ClaimOutcome::kClaimed);
    store.store_result(r["run_id"], r, c);
  }
  EXPECT_EQ(store.write_exports(), 2u);
  std::stringstream csv(read_text(tmp.path() + "/runs.csv"));
  std::string header, row1, row2, extra;
  std::getline(csv, header);
  std::getline(csv, row1);
  std::getline(csv, row2);
  EXPECT_FALSE(std::getline(csv, extra));
  EXPECT_EQ(header.rfind("run_id,batch_size,alpha,seed,status,iterations,test_accuracy,", 0), 0u) << header;
  EXPECT_NE(header.find("config.model"), std::string::npos) << header;
  EXPECT_EQ(header.find("curve"), std::string::npos) << "the curve stays in the JSON";
  EXPECT_EQ(row2.rfind("b2,200,1.5,1,not_converged,20000,0.5,", 0), 0u) << row2;
  std::stringstream jsonl(read_text(tmp.path() + "/runs.jsonl"));
  std::string line;
  size_t n = 0;
  while (std::getline(jsonl, line)) {
    EXPECT_EQ(nlohmann::json::parse(line)["run_id"], recs[n]["run_id"]);
    ++n;
  }
  EXPECT_EQ(n, 2u);
}

TEST(Store, CsvQuotesFieldsThatNeedIt) {
  const std::string csv = ex::runs_csv({{{"run_id", "x"}, {"sweep", "a,b \"c\""}}});
  EXPECT_NE(csv.find("\"a,b \"\"c\"\"\""), std::string::npos) << csv;
  // Values of every kind: null empty, booleans as words, numbers as JSON writes them, nested
  // objects as dotted columns; lists (the curve and the like) stay in the JSON only.
  const std::string row = ex::runs_csv(
      {{{"run_id", "y"}, {"a", nullptr}, {"b", true}, {"c", 0.5}, {"d", {1, 2}}, {"e", {{"f", "g\nh"}}}}});
  EXPECT_EQ(row, "run_id,a,b,c,e.f\ny,,true,0.5,\"g\nh\"\n");
}

// Processes racing for the same runs through claims: every run is stored
// exactly once and no two processes ever do the same run.
TEST(Store, ConcurrentProcessesDoEachRunOnce) {
  TempDir tmp;
  { ex::ResultStore init(tmp.path()); }
  constexpr int kProcesses = 4;
  constexpr int kRuns = 40;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        ex::ResultStore store(tmp.path());
        std::ofstream log(tmp.path() + "/done-by-" + std::to_string(p));
        for (int i = 0; i < kRuns; ++i) {
          const std::string id = "run" + std::to_string((i + 7 * p) % kRuns);  // each starts elsewhere
          ex::RunClaim c;
          if (store.claim(id, c) != ex::ClaimOutcome::kClaimed) continue;
          usleep(2000);  // "training": widens the window in which others try the same run
          auto r = record(id, 100, 1, "converged");
          r["worker"] = p;
          store.store_result(id, r, c);
          log << id << "\n";
        }
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::map<std::string, int> done;
  for (int p = 0; p < kProcesses; ++p) {
    std::stringstream ss(read_text(tmp.path() + "/done-by-" + std::to_string(p)));
    std::string id;
    while (std::getline(ss, id)) ++done[id];
  }
  ASSERT_EQ(done.size(), static_cast<size_t>(kRuns));
  for (const auto& [id, n] : done) EXPECT_EQ(n, 1) << id << " was done " << n << " times";
  ex::ResultStore store(tmp.path());
  EXPECT_EQ(store.load_results().size(), static_cast<size_t>(kRuns));
}
