// The SQLite register's durability (docs/design.md, `src/store/`): every write that answers a
// sekvensnummer syncs the write-ahead log before it returns, so after a power loss no answered
// number is issued again; a bulk load (the generator) syncs once at its end. Seen from SQLite's
// side: a VFS that forwards to the default one and counts the syncs of WAL files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "store/register_store.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::MakePerson;
using testing::TempFolder;

std::atomic<int> g_wal_syncs{0};
sqlite3_vfs* g_real = nullptr;

// Our file: the default VFS's file follows it in the same allocation.
struct CountingFile {
  sqlite3_file base;
  bool wal;
  sqlite3_file* Real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};
CountingFile* Of(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f); }

int Close(sqlite3_file* f) { return Of(f)->Real()->pMethods->xClose(Of(f)->Real()); }
int Read(sqlite3_file* f, void* p, int n, sqlite3_int64 o) {
  return Of(f)->Real()->pMethods->xRead(Of(f)->Real(), p, n, o);
}
int Write(sqlite3_file* f, const void* p, int n, sqlite3_int64 o) {
  return Of(f)->Real()->pMethods->xWrite(Of(f)->Real(), p, n, o);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  return Of(f)->Real()->pMethods->xTruncate(Of(f)->Real(), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (Of(f)->wal) ++g_wal_syncs;
  return Of(f)->Real()->pMethods->xSync(Of(f)->Real(), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Of(f)->Real()->pMethods->xFileSize(Of(f)->Real(), size);
}
int Lock(sqlite3_file* f, int l) { return Of(f)->Real()->pMethods->xLock(Of(f)->Real(), l); }
int Unlock(sqlite3_file* f, int l) { return Of(f)->Real()->pMethods->xUnlock(Of(f)->Real(), l); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Of(f)->Real()->pMethods->xCheckReservedLock(Of(f)->Real(), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Of(f)->Real()->pMethods->xFileControl(Of(f)->Real(), op, arg);
}
int SectorSize(sqlite3_file* f) { return Of(f)->Real()->pMethods->xSectorSize(Of(f)->Real()); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Of(f)->Real()->pMethods->xDeviceCharacteristics(Of(f)->Real());
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Of(f)->Real()->pMethods->xShmMap(Of(f)->Real(), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Of(f)->Real()->pMethods->xShmLock(Of(f)->Real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Of(f)->Real()->pMethods->xShmBarrier(Of(f)->Real()); }
int ShmUnmap(sqlite3_file* f, int del) {
  return Of(f)->Real()->pMethods->xShmUnmap(Of(f)->Real(), del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 o, int n, void** out) {
  return Of(f)->Real()->pMethods->xFetch(Of(f)->Real(), o, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 o, void* p) {
  return Of(f)->Real()->pMethods->xUnfetch(Of(f)->Real(), o, p);
}

const sqlite3_io_methods kMethods = {3,
                                     Close,
                                     Read,
                                     Write,
                                     Truncate,
                                     Sync,
                                     FileSize,
                                     Lock,
                                     Unlock,
                                     CheckReservedLock,
                                     FileControl,
                                     SectorSize,
                                     DeviceCharacteristics,
                                     ShmMap,
                                     ShmLock,
                                     ShmBarrier,
                                     ShmUnmap,
                                     Fetch,
                                     Unfetch};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  CountingFile* f = Of(file);
  f->base.pMethods = nullptr;
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = g_real->xOpen(g_real, name, f->Real(), flags, out_flags);
  if (f->Real()->pMethods != nullptr) f->base.pMethods = &kMethods;
  return rc;
}

// Counts WAL syncs while it lives; the default VFS is restored at the end.
class CountingVfs {
 public:
  CountingVfs() {
    g_real = sqlite3_vfs_find(nullptr);
    vfs_ = *g_real;
    vfs_.zName = "norreg-counting";
    vfs_.szOsFile = static_cast<int>(sizeof(CountingFile)) + g_real->szOsFile;
    vfs_.xOpen = Open;
    vfs_.pNext = nullptr;
    sqlite3_vfs_register(&vfs_, 1);
  }
  ~CountingVfs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(g_real, 1);
  }

 private:
  sqlite3_vfs vfs_{};
};

std::string Fnr(int day) {
  for (int i = 100; i < 150; ++i) {
    if (auto f = ids::MakeSyntheticFnr(1981, 2, day, i, ids::FnrKind::kFoedselsnummer)) return *f;
  }
  return {};
}

TEST(SqliteDurabilityTest, EveryAnsweredWriteSyncsTheLogAndABulkLoadSyncsAtItsEnd) {
  CountingVfs counting;
  TempFolder dir;
  SqliteOptions options;
  options.data_dir = dir.path();
  auto store = OpenSqliteStore(options);
  ASSERT_TRUE(store.ok()) << store.error().detail;

  // The generator's load: no sync per batch, one at the end.
  ASSERT_TRUE((*store)->BeginBulkLoad().ok());
  g_wal_syncs = 0;
  for (int day = 1; day <= 5; ++day) {
    std::vector<PersonWrite> persons{MakePerson(Fnr(day), {static_cast<uint64_t>(day)})};
    ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  }
  EXPECT_EQ(g_wal_syncs.load(), 0);
  ASSERT_TRUE((*store)->EndBulkLoad().ok());
  EXPECT_GE(g_wal_syncs.load(), 1);

  // A producer's write: its sekvensnummer is answered only after the log is on disk.
  for (int day = 6; day <= 8; ++day) {
    g_wal_syncs = 0;
    const std::vector<std::string> numbers{Fnr(day)};
    auto last = (*store)->ApplyChanges(
        numbers, [&](size_t, uint64_t next, const std::optional<StoredPerson>&) {
          return Result<PersonWrite>(MakePerson(Fnr(day), {next}));
        });
    ASSERT_TRUE(last.ok()) << last.error().detail;
    EXPECT_GE(g_wal_syncs.load(), 1) << "write " << day;
  }
}

}  // namespace
}  // namespace norreg::store
