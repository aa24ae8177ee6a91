// Durable writes: the whole new file or the old one, never a temporary file left behind.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "nesgd/durable_write.h"
#include "nesgd/error.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using nesgd::testing::read_text;
using nesgd::testing::TempDir;

namespace {

// Every name in `dir`, hidden ones included.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(DurableWrite, BytesReplaceTheFileAndLeaveNoTemporaryFile) {
  TempDir tmp;
  const std::string path = tmp.path() + "/sub/a.json";  // the folder is created
  nesgd::write_file_durable(path, "one");
  nesgd::write_file_durable(path, std::string("two\0three", 9));
  EXPECT_EQ(read_text(path), std::string("two\0three", 9));
  EXPECT_EQ(names_in(tmp.path() + "/sub"), std::vector<std::string>{"a.json"});
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "readable by others, like a file written by std::ofstream";
}

TEST(DurableWrite, WriterCallbackWritesThroughAStream) {
  TempDir tmp;
  const std::string path = tmp.path() + "/b.bin";
  nesgd::write_file_durable(path, [](std::ostream& out) { out << "written " << 42; });
  EXPECT_EQ(read_text(path), "written 42");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"b.bin"});
}

TEST(DurableWrite, AThrowingWriterLeavesThePreviousFileIntact) {
  TempDir tmp;
  const std::string path = tmp.path() + "/c.txt";
  nesgd::write_file_durable(path, "previous");
  EXPECT_THROW(nesgd::write_file_durable(path,
                                         [](std::ostream& out) {
                                           out << "half of the new";
                                           throw std::runtime_error("writer failed");
                                         }),
               std::runtime_error);
  EXPECT_EQ(read_text(path), "previous");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"c.txt"});
}

TEST(DurableWrite, FinishedTemporaryFileMovesIntoPlaceOnlyOnCommit) {
  TempDir tmp;
  const std::string path = tmp.path() + "/d.dat";
  nesgd::write_file_durable(path, "old");
  {
    nesgd::DurableFile file(path);
    EXPECT_EQ(fs::path(file.path()).parent_path(), fs::path(path).parent_path()) << "same folder: rename is atomic";
    EXPECT_EQ(fs::path(file.path()).filename().string().front(), '.') << "hidden from folder readers";
    ASSERT_EQ(::write(file.fd(), "new", 3), 3);
    EXPECT_EQ(read_text(path), "old") << "nothing replaced before commit()";
    file.commit();
  }
  EXPECT_EQ(read_text(path), "new");
  {
    nesgd::DurableFile abandoned(path);  // e.g. a download whose checksum did not match
    ASSERT_EQ(::write(abandoned.fd(), "bad", 3), 3);
  }
  EXPECT_EQ(read_text(path), "new");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"d.dat"});
}

TEST(DurableWrite, AnUnwritableTargetIsAnErrorNamingThePath) {
  TempDir tmp;
  nesgd::write_file_durable(tmp.path() + "/plain", "a file, not a folder");
  const std::string path = tmp.path() + "/plain/e.json";  // cannot be created, even by root
  try {
    nesgd::write_file_durable(path, "x");
    FAIL() << "wrote below a regular file";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(nesgd::write_file_durable(path, [](std::ostream& out) { out << "x"; }), nesgd::Error);
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"plain"});
}
