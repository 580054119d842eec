#pragma once
// A consumer's local copy of the register in one SQLite file, filled by an extract (RunUttrekk)
// and kept current by the feed follower (FeedFollower).
//
// Schema (created on open when missing):
//   persons(fnr TEXT PRIMARY KEY, document TEXT NOT NULL, seq INTEGER NOT NULL)
//     one row per person, keyed by the person's current foedselsEllerDNummer; `document` is the
//     folkeregisterperson JSON exactly as the server sent it — as TEXT, or (the default, see
//     Compression) as a BLOB holding one zstd frame of it; `seq` the sekvensnummer it is current
//     at (the extract's sekvensnummer, the event that brought it, or the latest sekvensnummer
//     when the feed follower fetched the person's current document);
//   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
//     kMetaUttrekkSekvensnummer, kMetaFeedSekvensnummer (the durable feed cursor: the last
//     applied sekvensnummer), the extract's checkpoint (kMetaUttrekkCheckpoint) and the
//     compression dictionary (kMetaDocumentDictionary, a BLOB).
//
// Compression: documents are alike, so a zstd dictionary trained on the copy's first
// kDictionarySamples documents makes them about ten times smaller — less disk (a 9 M register in
// a fraction of the space) and far fewer bytes through SQLite and fsync. Until the dictionary
// exists (and always with `compress = false`) documents are stored as TEXT; readers tell the two
// apart by the zstd magic number, so copies written either way, or both, read the same. The
// dictionary is written in the same transaction as the rows that first use it and is never
// replaced (Clear keeps it). Document() and ForEach() give the JSON; `norreg copy get|export`
// does the same from the shell.
//
// Durability: WAL journal (16 KB pages), synchronous=NORMAL; every change made between Begin() and
// Commit() is atomic (rows and cursor together), so a crash leaves the copy at the last commit.
//
// Failures are kInternal naming the SQLite operation (the path only in `detail`).
// Thread-safety: not thread-safe; use one LocalCopy from one thread at a time.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace norreg::common {
class Zstd;
}  // namespace norreg::common

namespace norreg::client {

inline constexpr std::string_view kMetaUttrekkSekvensnummer = "uttrekk_sekvensnummer";
inline constexpr std::string_view kMetaFeedSekvensnummer = "feed_sekvensnummer";
inline constexpr std::string_view kMetaUttrekkCheckpoint = "uttrekk_checkpoint";
inline constexpr std::string_view kMetaDocumentDictionary = "document_dictionary";
// The API path (access package) the copy was made through: a copy holds what one package sees.
inline constexpr std::string_view kMetaApiPath = "api_path";

// A document already compressed by `by` (e.g. on a lookup thread, with the copy's compressor()
// at that time). Put stores `bytes` when `by` is still the copy's compressor and compresses the
// plain document itself otherwise (the dictionary changed meanwhile, or none was in use).
struct Precompressed {
  const common::Zstd* by = nullptr;
  std::string_view bytes;
};

struct LocalCopyOptions {
  // Store documents zstd-compressed once the dictionary is trained (see the top). Default true.
  bool compress = true;
};

class LocalCopy {
 public:
  // Opens (creating when missing) the local copy at `path`. kInternal when the file cannot be
  // opened or is not a database.
  static Result<std::unique_ptr<LocalCopy>> Open(const std::string& path,
                                                 LocalCopyOptions options = {});
  // Documents sampled before the dictionary is trained.
  static constexpr size_t kDictionarySamples = 1000;
  ~LocalCopy();
  LocalCopy(const LocalCopy&) = delete;
  LocalCopy& operator=(const LocalCopy&) = delete;

  // Explicit transaction; nested Begin is an error. Without Begin each call commits on its own.
  Status Begin();
  Status Commit();
  // Rolls back the open transaction (no-op without one).
  void Rollback();
  bool in_transaction() const { return in_transaction_; }

  // Inserts or replaces the row of `fnr` (the document compressed or plain, see the top).
  Status Put(std::string_view fnr, std::string_view document, int64_t seq,
             const Precompressed& precompressed = {});
  // Upsert for the feed: removes the rows of every number in `old_numbers` other than `fnr`
  // (a person's number can change), then puts `fnr`. Returns how many rows were removed.
  Result<int> Replace(std::string_view fnr, const std::vector<std::string>& old_numbers,
                      std::string_view document, int64_t seq,
                      const Precompressed& precompressed = {});
  // Removes the row of `fnr` (no error when absent); true when a row was removed.
  Result<bool> Remove(std::string_view fnr);
  // The document stored for `fnr` (JSON); nullopt when absent. kInternal when a stored frame
  // does not decompress.
  Result<std::optional<std::string>> Document(std::string_view fnr);
  // Calls `visit` for every person in fnr order with the JSON document; stops at the first error
  // (from reading or from `visit`) and returns it.
  Status ForEach(const std::function<Status(std::string_view fnr, std::string_view document,
                                            int64_t seq)>& visit);
  // Whether documents are being compressed (the dictionary exists and `compress` is set).
  bool compressing() const { return options_.compress && zstd_ != nullptr; }
  // The compressor Put uses now (nullptr when not compressing): thread-safe to use from any
  // thread (common::Zstd), kept alive by the pointer even if the copy replaces it.
  std::shared_ptr<const common::Zstd> compressor() const { return compressing() ? zstd_ : nullptr; }
  // The seq stored for `fnr`; nullopt when absent.
  Result<std::optional<int64_t>> Seq(std::string_view fnr);
  Result<int64_t> Count();
  // Deletes every person and every meta value but the compression dictionary and the API path
  // (a fresh extract starts from nothing, through the same package).
  Status Clear();

  Result<std::optional<std::string>> GetMeta(std::string_view key);
  Status SetMeta(std::string_view key, std::string_view value);
  Status DeleteMeta(std::string_view key);
  // GetMeta parsed as a signed integer; kInternal when the stored value is not one.
  Result<std::optional<int64_t>> GetMetaInt(std::string_view key);
  // Records `api_path` (kMetaApiPath) in a copy that has none; kConflict naming both when the
  // copy was made through another one (a copy holds what one access package may see; a copy
  // older than the record counts as made through "offentlig med hjemmel").
  Status BindApiPath(std::string_view api_path, std::string_view default_path);

  const std::string& path() const { return path_; }

 private:
  LocalCopy(std::string path, sqlite3* db, LocalCopyOptions options);
  Status Exec(const char* sql);
  Error SqlError(std::string_view what) const;
  Status LoadDictionary();
  // Samples `document` and trains the dictionary once there are enough samples.
  Status Sample(std::string_view document);
  // The stored form of column `column` of `stmt` as JSON in `out`.
  Status Decode(sqlite3_stmt* stmt, int column, std::string& out) const;

  std::string path_;
  LocalCopyOptions options_;
  sqlite3* db_ = nullptr;
  std::shared_ptr<const common::Zstd> zstd_;  // set once the dictionary exists
  bool dictionary_in_transaction_ = false;    // written by the open transaction
  bool training_failed_ = false;
  std::vector<std::string> samples_;
  std::string encoded_;  // scratch for Put
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* remove_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* get_meta_ = nullptr;
  sqlite3_stmt* set_meta_ = nullptr;
  bool in_transaction_ = false;
};

}  // namespace norreg::client
