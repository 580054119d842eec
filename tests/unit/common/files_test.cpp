// Whole-file helpers: atomic replacement with an exact mode, bounded reads.
#include "common/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace norreg {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "norreg-files-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(WriteFileAtomicallyTest, ReplacesContentWithTheGivenMode) {
  TempDir dir;
  const std::string path = dir.path() + "/file.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  EXPECT_EQ(ReadText(path), "first");
  EXPECT_EQ(Mode(path), 0600u);
  ASSERT_TRUE(WriteFileAtomically(path, "second", 0644).ok());
  EXPECT_EQ(ReadText(path), "second");
  EXPECT_EQ(Mode(path), 0644u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  auto read = ReadWholeFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "second");
  auto failed = WriteFileAtomically(dir.path() + "/missing/file.txt", "x", 0600);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kInternal);
  EXPECT_EQ(ReadWholeFile(dir.path() + "/none").error().code, ErrorCode::kNotFound);
}

TEST(ReadWholeFileTest, RefusesHugeFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/big";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string((16u << 20) + 1, 'x');
  }
  EXPECT_EQ(ReadWholeFile(path).error().code, ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace norreg
