#include "mottak/zip.hpp"

#include <gtest/gtest.h>
#include <zip.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace norreg::mottak {
namespace {

struct RawEntry {
  std::string name;
  std::string content;
  bool directory = false;
};

// Builds an archive with libzip directly, bypassing BuildZip's checks (for hostile archives).
std::string BuildRaw(const std::vector<RawEntry>& entries, zip_int32_t method) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &error);
  EXPECT_NE(src, nullptr);
  zip_t* archive = zip_open_from_source(src, ZIP_TRUNCATE, &error);
  EXPECT_NE(archive, nullptr);
  zip_source_keep(src);
  for (const RawEntry& e : entries) {
    if (e.directory) {
      EXPECT_GE(zip_dir_add(archive, e.name.c_str(), 0), 0);
      continue;
    }
    zip_source_t* data = zip_source_buffer(archive, e.content.data(), e.content.size(), 0);
    const zip_int64_t index = zip_file_add(archive, e.name.c_str(), data, 0);
    EXPECT_GE(index, 0) << e.name << ": " << zip_strerror(archive);
    EXPECT_EQ(zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), method, 0), 0);
  }
  EXPECT_EQ(zip_close(archive), 0);
  EXPECT_EQ(zip_source_open(src), 0);
  zip_source_seek(src, 0, SEEK_END);
  std::string out(static_cast<size_t>(zip_source_tell(src)), '\0');
  zip_source_seek(src, 0, SEEK_SET);
  EXPECT_EQ(zip_source_read(src, out.data(), out.size()), static_cast<zip_int64_t>(out.size()));
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

std::string AllBytes() {
  std::string s;
  for (int rep = 0; rep < 4; ++rep) {
    for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  }
  return s;
}

TEST(ZipTest, RoundTripsEntriesInOrder) {
  const std::vector<ZipEntry> entries = {
      {"henvendelse.xml", "<?xml version=\"1.0\"?><Melding/>"},
      {"vedlegg/binær æøå.bin", AllBytes()},
      {"tom.txt", ""},
      {"vedlegg/stor.txt", std::string(1 << 20, 'a')},
  };
  const Result<std::string> zip = BuildZip(entries);
  ASSERT_TRUE(zip.ok()) << zip.error().message;
  EXPECT_EQ(zip->rfind("PK\x03\x04", 0), 0u);
  EXPECT_LT(zip->size(), 64u * 1024) << "deflate should shrink 1 MiB of 'a'";
  const Result<std::vector<ZipEntry>> back = ReadZip(*zip);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ((*back)[i].name, entries[i].name);
    EXPECT_EQ((*back)[i].content, entries[i].content) << entries[i].name;
  }
}

TEST(ZipTest, EmptyArchiveRoundTrips) {
  const Result<std::string> zip = BuildZip({});
  ASSERT_TRUE(zip.ok()) << zip.error().message;
  const Result<std::vector<ZipEntry>> back = ReadZip(*zip);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->empty());
}

TEST(ZipTest, EntryNameRules) {
  struct Case {
    std::string name;
    bool safe;
  };
  const std::vector<Case> cases = {
      {"henvendelse.xml", true},
      {"a", true},
      {"dir/sub/file.pdf", true},
      {"æøå ÆØÅ.txt", true},
      {".hidden", true},
      {"a..b", true},
      {"...", true},
      {"ab:c", true},
      {std::string(255, 'n'), true},
      {"", false},
      {"../evil", false},
      {"..", false},
      {".", false},
      {"a/../b", false},
      {"a/./b", false},
      {"a/..", false},
      {"/abs", false},
      {"a\\b", false},
      {"..\\evil", false},
      {"C:x", false},
      {"c:/x", false},
      {"a//b", false},
      {"dir/", false},
      {std::string("nul\0x", 5), false},
      {"ctl\x01", false},
      {"tab\tname", false},
      {"del\x7f", false},
      {"bad\xff utf8", false},
      {std::string(256, 'n'), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsSafeZipEntryName(c.name), c.safe) << "'" << c.name << "'";
  }
}

TEST(ZipTest, BuildRefusesBadAndDuplicateNames) {
  for (const std::string& bad : {std::string("../evil"), std::string("/abs"), std::string("a\\b"),
                                 std::string("C:x"), std::string("a/../b"), std::string()}) {
    const Result<std::string> zip = BuildZip({{"ok.txt", "1"}, {bad, "2"}});
    ASSERT_FALSE(zip.ok()) << bad;
    EXPECT_EQ(zip.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(zip.error().message.find("'" + bad + "' is not allowed"), std::string::npos)
        << zip.error().message;
  }
  const Result<std::string> dup = BuildZip({{"a.txt", "1"}, {"b.txt", "2"}, {"a.txt", "3"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(dup.error().message.find("duplicate ZIP entry name 'a.txt'"), std::string::npos);
}

TEST(ZipTest, ReadRefusesHostileNames) {
  for (const std::string& bad : {std::string("../x"), std::string("/etc/passwd"),
                                 std::string("a\\..\\b"), std::string("d/../../x")}) {
    const std::string zip = BuildRaw({{"ok.txt", "fine"}, {bad, "evil"}}, ZIP_CM_DEFLATE);
    const Result<std::vector<ZipEntry>> r = ReadZip(zip);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find("is not allowed"), std::string::npos) << r.error().message;
  }
}

TEST(ZipTest, ReadRefusesDuplicateNames) {
  // libzip will not write duplicates: rename one in the raw bytes (local header + directory).
  std::string zip = BuildRaw({{"dupA.txt", "1"}, {"dupB.txt", "2"}}, ZIP_CM_STORE);
  for (size_t at = zip.find("dupB.txt"); at != std::string::npos; at = zip.find("dupB.txt")) {
    zip[at + 3] = 'A';
  }
  const Result<std::vector<ZipEntry>> r = ReadZip(zip);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
}

TEST(ZipTest, ReadSkipsDirectoryEntries) {
  const std::string zip =
      BuildRaw({{"vedlegg/", "", true}, {"vedlegg/a.txt", "A"}}, ZIP_CM_DEFLATE);
  const Result<std::vector<ZipEntry>> r = ReadZip(zip);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "vedlegg/a.txt");
  EXPECT_EQ((*r)[0].content, "A");
}

TEST(ZipTest, ReadRefusesCorruptArchives) {
  const std::string payload = "the quick brown fox jumps over the lazy dog, " + AllBytes();
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::vector<Case> cases;
  {
    // Stored: the payload is in the archive as is; flipping one byte only breaks the CRC.
    std::string zip = BuildRaw({{"a.txt", payload}}, ZIP_CM_STORE);
    const size_t at = zip.find("quick brown");
    ASSERT_NE(at, std::string::npos);
    zip[at] = 'Q';
    cases.push_back({"stored, CRC mismatch", zip});
  }
  {
    const Result<std::string> built = BuildZip({{"a.txt", payload}, {"b.txt", payload}});
    ASSERT_TRUE(built.ok());
    std::string zip = *built;
    // The first entry's data starts after its 30-byte local header, name and extra field.
    auto u16 = [&zip](size_t at) {
      return static_cast<size_t>(static_cast<unsigned char>(zip[at])) |
             static_cast<size_t>(static_cast<unsigned char>(zip[at + 1])) << 8;
    };
    const size_t data = 30 + u16(26) + u16(28);
    zip[data + 2] = static_cast<char>(zip[data + 2] ^ 0x55);
    zip[data + 3] = static_cast<char>(zip[data + 3] ^ 0x55);
    cases.push_back({"deflate stream damaged", zip});
    cases.push_back({"truncated", built->substr(0, built->size() / 2)});
    std::string cd = *built;
    cd[cd.size() - 10] = static_cast<char>(cd[cd.size() - 10] ^ 0x7F);  // central directory size
    cases.push_back({"end record damaged", cd});
  }
  cases.push_back({"not a zip", "hello, world"});
  cases.push_back({"empty", ""});
  for (const Case& c : cases) {
    const Result<std::vector<ZipEntry>> r = ReadZip(c.bytes);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << c.name;
  }
}

TEST(ZipTest, CrcErrorIsNamed) {
  std::string zip = BuildRaw({{"a.txt", "plain stored text"}}, ZIP_CM_STORE);
  zip[zip.find("stored")] = 'S';
  const Result<std::vector<ZipEntry>> r = ReadZip(zip);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'a.txt' is corrupt"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("CRC"), std::string::npos) << r.error().message;
}

TEST(ZipTest, ReadRefusesArchivesExpandingPastTheLimit) {
  const Result<std::string> bomb = BuildZip({{"zeros.bin", std::string(2 << 20, '\0')}});
  ASSERT_TRUE(bomb.ok());
  EXPECT_LT(bomb->size(), 16u * 1024);
  {
    const Result<std::vector<ZipEntry>> r = ReadZip(*bomb, 1 << 20);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find("expands to more than 1048576 bytes"), std::string::npos)
        << r.error().message;
  }
  EXPECT_TRUE(ReadZip(*bomb, 2 << 20).ok());  // exactly at the limit

  // The limit is on the sum of the entries.
  const Result<std::string> pair = BuildZip(
      {{"a.bin", std::string(600 * 1024, '\0')}, {"b.bin", std::string(600 * 1024, '\0')}});
  ASSERT_TRUE(pair.ok());
  EXPECT_FALSE(ReadZip(*pair, 1 << 20).ok());
  EXPECT_TRUE(ReadZip(*pair, 2 << 20).ok());
}

// A reply downloaded twice must be the same bytes (a poller that re-downloads after a crash
// overwrites its file identically): no build time goes into the archive.
TEST(ZipTest, EqualEntriesGiveEqualBytes) {
  const std::vector<ZipEntry> entries = {{"henvendelse.xml", "<Melding/>"}, {"a/b.pdf", "%PDF"}};
  auto first = BuildZip(entries);
  ASSERT_TRUE(first.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // past ZIP's 2 s time grain
  auto second = BuildZip(entries);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

// A temporary folder for WriteZipFile, removed at the end.
class ZipFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "norreg-zip-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string dir_;
};

TEST_F(ZipFileTest, WritesEntriesFromMemoryAndFiles) {
  const std::string big_path = dir_ + "/big.pdf";
  std::string big(3'000'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  std::ofstream(big_path, std::ios::binary) << big;
  const std::vector<ZipFileEntry> entries = {
      {"henvendelse.xml", "<Melding/>", "", true},
      {"vedlegg/stor.pdf", "", big_path, false},
      {"notat.txt", std::string(10'000, 'n'), "", true},
  };
  ASSERT_TRUE(WriteZipFile(dir_ + "/a.zip", entries).ok());
  ASSERT_TRUE(WriteZipFile(dir_ + "/b.zip", entries).ok());
  const std::string a = Slurp(dir_ + "/a.zip");
  EXPECT_EQ(a, Slurp(dir_ + "/b.zip"));  // byte-stable
  // Stored, not deflated: the archive is the PDF plus a little.
  EXPECT_LT(a.size(), big.size() + 2'000);
  auto read = ReadZip(a);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0].content, "<Melding/>");
  EXPECT_EQ((*read)[1].name, "vedlegg/stor.pdf");
  EXPECT_TRUE((*read)[1].content == big);
  EXPECT_EQ((*read)[2].content, std::string(10'000, 'n'));
  // All in memory and deflated: the same bytes as BuildZip.
  const std::vector<ZipFileEntry> small = {{"henvendelse.xml", "<Melding/>", "", true},
                                           {"a.txt", "hei", "", true}};
  ASSERT_TRUE(WriteZipFile(dir_ + "/c.zip", small).ok());
  auto built = BuildZip({{"henvendelse.xml", "<Melding/>"}, {"a.txt", "hei"}});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(Slurp(dir_ + "/c.zip"), *built);
}

TEST_F(ZipFileTest, RefusesBadNamesMissingFilesAndExistingTargets) {
  EXPECT_EQ(WriteZipFile(dir_ + "/x.zip", {{"../x", "a", "", true}}).error().code,
            ErrorCode::kInvalidInput);
  EXPECT_EQ(
      WriteZipFile(dir_ + "/x.zip", {{"a", "1", "", true}, {"a", "2", "", true}}).error().code,
      ErrorCode::kInvalidInput);
  EXPECT_FALSE(WriteZipFile(dir_ + "/y.zip", {{"a", "", dir_ + "/missing", false}}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/y.zip"));
  std::ofstream(dir_ + "/exists.zip") << "x";
  EXPECT_FALSE(WriteZipFile(dir_ + "/exists.zip", {{"a", "1", "", true}}).ok());
  ASSERT_TRUE(WriteZipFile(dir_ + "/empty.zip", {}).ok());
  auto empty = ReadZip(Slurp(dir_ + "/empty.zip"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ZipTest, OnlyCompressibleTypesAreDeflated) {
  for (const char* type : {"application/xml", "text/plain", "text/csv", "application/json",
                           "application/rtf", "image/tiff", "application/msword"}) {
    EXPECT_TRUE(WorthDeflating(type)) << type;
  }
  for (const char* type : {"application/pdf", "image/jpeg", "image/png", "application/zip",
                           "application/gzip", "application/vnd.oasis.opendocument.text"}) {
    EXPECT_FALSE(WorthDeflating(type)) << type;
  }
}

}  // namespace
}  // namespace norreg::mottak
