// Tests of blob files (store/blob_file.hpp): written and hashed in pieces, read back verified,
// and every way a stored file can go wrong is an error, never wrong bytes.
#include "store/blob_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::TempFolder;

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(Sha256Test, IncrementalEqualsWhole) {
  const std::string data = Pattern(100'000);
  Sha256 h;
  for (size_t at = 0; at < data.size(); at += 777) h.Update(std::string_view(data).substr(at, 777));
  auto pieces = h.Final();
  auto whole = Sha256::Of(data);
  ASSERT_TRUE(pieces.ok() && whole.ok());
  EXPECT_EQ(*pieces, *whole);
  // The digest of "abc" (FIPS 180-2 example).
  auto abc = Sha256::Of("abc");
  ASSERT_TRUE(abc.ok());
  EXPECT_EQ((*abc)[0], 0xba);
  EXPECT_EQ((*abc)[31], 0xad);
}

TEST(BlobFileTest, WrittenInPiecesReadBackVerified) {
  TempFolder dir;
  const std::string data = Pattern(1'000'003);
  auto writer = BlobWriter::Create(dir.path() + "/tmp");
  ASSERT_TRUE(writer.ok());
  for (size_t at = 0; at < data.size(); at += 65536) {
    ASSERT_TRUE((*writer)->Append(std::string_view(data).substr(at, 65536)).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_FALSE((*writer)->Append("more").ok());
  EXPECT_EQ((*writer)->size(), data.size());
  auto digest = Sha256::Of(data);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ((*writer)->sha256(), *digest);
  const std::string kept = dir.path() + "/kept";
  ASSERT_TRUE((*writer)->MoveTo(kept).ok());
  writer->reset();  // a moved file stays
  ASSERT_TRUE(std::filesystem::exists(kept));

  auto reader = BlobReader::Open(kept, data.size(), DigestView(*digest), 100'000);
  ASSERT_TRUE(reader.ok());
  std::string back;
  size_t pieces = 0;
  while (true) {
    auto piece = (*reader)->Next();
    ASSERT_TRUE(piece.ok());
    if (piece->empty()) break;
    EXPECT_LE(piece->size(), 100'000u);
    back.append(*piece);
    ++pieces;
  }
  EXPECT_EQ(back, data);
  EXPECT_EQ(pieces, 11u);
  auto all = BlobReader::ReadAll(kept, data.size(), DigestView(*digest));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, data);
}

// Seal fixes size and digest without waiting for the disk; SyncAll flushes many sealed files at
// once (more than one group of descriptors here), Finish one.
TEST(BlobFileTest, SealedFilesAreFlushedTogetherLater) {
  TempFolder dir;
  std::vector<std::unique_ptr<BlobWriter>> writers;
  std::vector<BlobWriter*> all;
  for (int i = 0; i < 150; ++i) {
    auto writer = BlobWriter::Create(dir.path() + "/tmp");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(Pattern(1000 + static_cast<size_t>(i))).ok());
    ASSERT_TRUE((*writer)->Seal().ok());
    EXPECT_TRUE((*writer)->finished());
    EXPECT_FALSE((*writer)->durable());
    EXPECT_FALSE((*writer)->Append("more").ok());
    auto digest = Sha256::Of(Pattern(1000 + static_cast<size_t>(i)));
    ASSERT_TRUE(digest.ok());
    EXPECT_EQ((*writer)->sha256(), *digest);
    all.push_back(writer->get());
    writers.push_back(std::move(writer).value());
  }
  ASSERT_TRUE(writers[0]->Finish().ok());  // one on its own
  EXPECT_TRUE(writers[0]->durable());
  ASSERT_TRUE(BlobWriter::SyncAll(all).ok());
  for (const auto& w : writers) EXPECT_TRUE(w->durable());
  // An unsealed file is refused, not flushed half-written.
  auto open = BlobWriter::Create(dir.path() + "/tmp");
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE((*open)->Append("x").ok());
  BlobWriter* unsealed[] = {open->get()};
  EXPECT_FALSE(BlobWriter::SyncAll(unsealed).ok());
}

TEST(BlobFileTest, AnUnkeptWriterLeavesNoFile) {
  TempFolder dir;
  {
    auto writer = BlobWriter::Create(dir.path());
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("half an upload").ok());
    EXPECT_EQ(FilesIn(dir.path()), 1u);
  }
  EXPECT_EQ(FilesIn(dir.path()), 0u);
  {
    auto writer = BlobWriter::Create(dir.path());
    ASSERT_TRUE(writer.ok());
    EXPECT_FALSE((*writer)->MoveTo(dir.path() + "/x").ok());  // not finished
  }
  EXPECT_EQ(FilesIn(dir.path()), 0u);
}

TEST(BlobFileTest, AdoptedFilesAreHashed) {
  TempFolder dir;
  const std::string path = dir.path() + "/built.zip";
  const std::string data = Pattern(300'000);
  std::ofstream(path, std::ios::binary) << data;
  auto writer = BlobWriter::Adopt(path);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->size(), data.size());
  auto digest = Sha256::Of(data);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ((*writer)->sha256(), *digest);
  writer->reset();
  EXPECT_FALSE(std::filesystem::exists(path));  // owned, not moved: removed
}

TEST(BlobFileTest, DamagedFilesAreErrorsNeverWrongBytes) {
  TempFolder dir;
  const std::string data = Pattern(50'000);
  auto digest = Sha256::Of(data);
  ASSERT_TRUE(digest.ok());
  const std::string path = dir.path() + "/blob";
  struct Case {
    std::string name;
    std::string content;
    uint64_t size;
  };
  std::string flipped = data;
  flipped[40'000] ^= 1;
  const std::vector<Case> cases = {
      {"one bit flipped", flipped, data.size()},
      {"truncated", data.substr(0, 49'999), data.size()},
      {"longer", data + "x", data.size()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << c.content;
    auto reader = BlobReader::Open(path, c.size, DigestView(*digest), 16'384);
    if (!reader.ok()) {
      EXPECT_EQ(reader.error().code, ErrorCode::kInternal);
      EXPECT_NE(reader.error().detail.find("corrupt"), std::string::npos);
      continue;
    }
    std::string handed_out;
    Result<std::string_view> piece = std::string_view();
    while ((piece = (*reader)->Next()).ok() && !piece->empty()) handed_out.append(*piece);
    ASSERT_FALSE(piece.ok());
    EXPECT_EQ(piece.error().code, ErrorCode::kInternal);
    EXPECT_NE(piece.error().detail.find("corrupt"), std::string::npos);
    EXPECT_LT(handed_out.size(), data.size());  // the last piece never comes out
    EXPECT_FALSE(BlobReader::ReadAll(path, c.size, DigestView(*digest)).ok());
  }
  EXPECT_FALSE(BlobReader::Open(dir.path() + "/missing", 1, DigestView(*digest)).ok());
}

}  // namespace
}  // namespace norreg::store
