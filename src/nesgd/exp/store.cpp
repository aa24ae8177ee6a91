#include "nesgd/exp/store.h"

#include "nesgd/models/catalog.h"
#include "nesgd/models/model_spec.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "nesgd/csv.h"
#include "nesgd/data/sha256.h"
#include "nesgd/durable_write.h"
#include "nesgd/error.h"
#include "nesgd/json_read.h"

namespace nesgd::exp {
namespace fs = std::filesystem;

namespace {

constexpr const char* kStoreMarker = "store.json";
constexpr const char* kRunsDir = "runs";
constexpr const char* kClaimsDir = "claims";
constexpr const char* kSweepsDir = "sweeps";
constexpr const char* kExportLock = ".export.lock";

std::string errno_text() { return std::strerror(errno); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool is_lock_unsupported(int err) { return err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS || err == EINVAL; }

// Holds an exclusive flock on a file for the lifetime of the object (blocking).
class ScopedFileLock {
 public:
  explicit ScopedFileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;  // no locks here: exports are still whole files (atomic rename)
    }
  }
  ~ScopedFileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFileLock(const ScopedFileLock&) = delete;
  ScopedFileLock& operator=(const ScopedFileLock&) = delete;

 private:
  int fd_ = -1;
};

// A JSON value as a CSV field: null empty, strings and booleans as text, numbers as JSON writes them.
std::string csv_value(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return csv_field(v.dump());
}

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  for (const auto& [k, v] : j.items()) {
    if (k == "curve") continue;  // a series, not a value: it stays in the JSON
    const std::string name = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object()) {
      flatten(v, name, out);
    } else if (!v.is_array()) {
      out[name] = v;
    }
  }
}

}  // namespace

// --- claims -----------------------------------------------------------------------------------------

RunClaim::RunClaim(RunClaim&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

RunClaim& RunClaim::operator=(RunClaim&& other) noexcept {
  if (this != &other) {
    release(false);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void RunClaim::release(bool remove_file) {
  if (fd_ < 0) return;
  if (remove_file) ::unlink(path_.c_str());  // while still locked: see the header
  ::close(fd_);                               // closing the last descriptor drops the flock
  fd_ = -1;
}

// --- the store --------------------------------------------------------------------------------------

ResultStore::ResultStore(std::string dir, StoreOptions options) : dir_(std::move(dir)), options_(options) {
  if (dir_.empty()) throw Error("--store: give a folder for the results, e.g. --store runs/f1");
  const fs::path root(dir_);
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
    throw Error("--store " + dir_ + " is a file; the store is a folder");
  }
  for (const char* sub : {kRunsDir, kClaimsDir, kSweepsDir}) {
    fs::create_directories(root / sub, ec);
    if (ec) throw Error("cannot create " + (root / sub).string() + ": " + ec.message());
  }
  const fs::path marker = root / kStoreMarker;
  if (!fs::exists(marker)) {
    const nlohmann::json m{{"format", "nesgd-store"}, {"version", kStoreFormatVersion}};
    write_file_durable(marker.string(), m.dump(2) + "\n");
  } else {
    const std::string not_a_marker = marker.string() + " is not a nesgd store marker; use another --store folder";
    nlohmann::json m;
    try {
      m = nlohmann::json::parse(read_text(marker));
    } catch (const nlohmann::json::exception&) {
      throw Error(not_a_marker);
    }
    const auto* format = json_read::find(m, "format");
    const auto* version = json_read::find(m, "version");
    if (format == nullptr || *format != "nesgd-store" || (version != nullptr && !version->is_number_integer())) {
      throw Error(not_a_marker);
    }
    // Positive integers parse as unsigned: compare in the type they came in.
    const bool newer = version != nullptr && (version->is_number_unsigned()
                                                  ? version->get<uint64_t>() > uint64_t{kStoreFormatVersion}
                                                  : version->get<int64_t>() > kStoreFormatVersion);
    if (newer) {
      throw Error("store " + dir_ + " has format version " + version->dump() + ", newer than this nesgd understands (" +
                  std::to_string(kStoreFormatVersion) + "): update nesgd");
    }
  }
}

std::string ResultStore::result_path(const std::string& id) const {
  return (fs::path(dir_) / kRunsDir / (id + ".json")).string();
}

bool ResultStore::has_result(const std::string& id) const {
  std::error_code ec;
  return fs::exists(result_path(id), ec);
}

ClaimOutcome ResultStore::claim(const std::string& id, RunClaim& claim) {
  claim.release(false);
  if (has_result(id)) return ClaimOutcome::kDone;
  const std::string path = (fs::path(dir_) / kClaimsDir / (id + ".lock")).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot open claim " + path + ": " + errno_text() + "; is the store writable?");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      ::close(fd);
      return ClaimOutcome::kBusy;
    }
    if (!(is_lock_unsupported(err) && options_.allow_without_locks)) {
      ::close(fd);
      throw Error("cannot lock " + path + ": " + std::strerror(err) +
                  (is_lock_unsupported(err)
                       ? ". This file system has no flock(); give every process its own --shard I/N "
                         "(shards never share a run), which lets the sweep run without claims"
                       : ""));
    }
  }
  RunClaim held(fd, path);
  // Re-check under the lock: the previous holder stores its result before it
  // lets go, so a result that appeared meanwhile is seen here.
  if (has_result(id)) {
    held.release(true);
    return ClaimOutcome::kDone;
  }
  // Who holds it, for a human looking at claims/ (the lock, not this text, is the claim).
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  const std::string who = std::string(host) + " " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    const ssize_t ignored = ::pwrite(fd, who.data(), who.size(), 0);
    (void)ignored;
  }
  claim = std::move(held);
  return ClaimOutcome::kClaimed;
}

void ResultStore::store_result(const std::string& id, const nlohmann::json& record, RunClaim& claim) {
  if (record.value("run_id", "") != id) throw Error("internal: record run_id does not match " + id);
  write_file_durable(result_path(id), record.dump(2) + "\n");
  claim.release(true);
}

std::vector<std::string> ResultStore::result_ids() const {
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / kRunsDir)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || e.path().extension() != ".json") continue;
    ids.push_back(e.path().stem().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<nlohmann::json> ResultStore::load_results() const {
  std::vector<nlohmann::json> out;
  for (const std::string& id : result_ids()) {
    const std::string path = result_path(id);
    const std::string fix =
        "; the store never writes partial files, so it was edited by hand: fix it, or delete it to have the run "
        "done again";
    try {
      out.push_back(nlohmann::json::parse(read_text(path)));
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + " is not valid JSON (" + e.what() + ")" + fix);
    }
    if (!out.back().is_object()) throw Error(path + " is not a run record (a JSON object {...})" + fix);
  }
  return out;
}

void ResultStore::record_sweep(const std::string& name, const nlohmann::json& description) {
  std::string safe;
  for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  // The name plus a digest of the description: a sweep rerun with other
  // options under the same name gets its own record instead of replacing one.
  const std::string text = description.dump(2) + "\n";
  data::Sha256 digest;
  digest.update(text.data(), text.size());
  const fs::path path = fs::path(dir_) / kSweepsDir / (safe + "-" + digest.hex_digest().substr(0, 8) + ".json");
  std::error_code ec;
  if (fs::exists(path, ec) && read_text(path) == text) return;
  write_file_durable(path.string(), text);
}

std::vector<nlohmann::json> ResultStore::sweeps() const {
  std::vector<std::pair<std::string, nlohmann::json>> found;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / kSweepsDir)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || e.path().extension() != ".json") continue;
    const std::string fix = "; delete it (the next `nesgd sweep` rewrites it)";
    nlohmann::json sweep;
    try {
      sweep = nlohmann::json::parse(read_text(e.path()));
    } catch (const nlohmann::json::exception&) {
      throw Error(e.path().string() + " is not valid JSON" + fix);
    }
    // What the report reads of it: a name and the list of run ids.
    const auto* sweep_name = json_read::find(sweep, "name");
    const auto* ids = json_read::find(sweep, "run_ids");
    bool ok = sweep.is_object() && (sweep_name == nullptr || sweep_name->is_string()) &&
              (ids == nullptr || ids->is_array());
    if (ok && ids != nullptr) {
      ok = std::all_of(ids->begin(), ids->end(), [](const nlohmann::json& id) { return id.is_string(); });
    }
    if (!ok) {
      throw Error(e.path().string() + " is not a sweep record ({\"name\": \"...\", \"run_ids\": [\"...\"], ...})" + fix);
    }
    found.emplace_back(name, std::move(sweep));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<nlohmann::json> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

size_t ResultStore::write_exports() const {
  ScopedFileLock lock(fs::path(dir_) / kExportLock);
  const auto records = load_results();
  std::string jsonl;
  for (const auto& r : records) jsonl += r.dump() + "\n";
  write_file_durable((fs::path(dir_) / "runs.jsonl").string(), jsonl);
  write_file_durable((fs::path(dir_) / "runs.csv").string(), runs_csv(records));
  return records.size();
}

// --- CSV --------------------------------------------------------------------------------------------

std::string config_label(const std::string& model) {
  if (models::is_torchscript(model)) {
    // A user's model: its file's stem, in characters safe in file names ("torchscript:dir/my net.pt" -> "my-net").
    std::string s = fs::path(models::torchscript_path(model)).stem().string();
    for (char& c : s) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '-';
    }
    return s.empty() ? "torchscript" : s;
  }
  if (const models::ModelEntry* e = models::find_model(model)) return e->label;  // models/catalog.h
  std::string s = model;
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string runs_csv(const std::vector<nlohmann::json>& records) {
  // Leading columns: what a reader filters and plots on.
  static const std::vector<std::string> kLeading{
      "run_id",     "config_name", "setting_id",    "batch_size",           "alpha",     "seed",
      "status",     "iterations",  "test_accuracy", "iterations_to_l_star", "test_loss", "train_loss",
      "wall_seconds", "config.train_subset", "config.max_iterations", "config.loss_measure", "sweep"};
  std::vector<std::map<std::string, nlohmann::json>> rows;
  std::set<std::string> all;
  for (const auto& r : records) {
    std::map<std::string, nlohmann::json> row;
    flatten(r, "", row);
    for (const auto& [k, v] : row) all.insert(k);
    rows.push_back(std::move(row));
  }
  std::vector<std::string> columns;
  for (const auto& k : kLeading) {
    if (all.count(k) > 0) columns.push_back(k);
  }
  for (const auto& k : all) {
    if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
  }
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + csv_field(columns[i]);
  out += "\n";
  for (const auto& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) out += ",";
      const auto it = row.find(columns[i]);
      if (it != row.end()) out += csv_value(it->second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace nesgd::exp
