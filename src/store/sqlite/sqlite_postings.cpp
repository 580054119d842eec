#include "store/sqlite/sqlite_postings.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <queue>

#include "store/posting_block.hpp"
#include "store/register_encoding.hpp"

namespace norreg::store::sqlite {
namespace {

// A run is stored in chunks of this many pairs (12 bytes each: term, then person id, both
// little-endian), so a merge holds one chunk per run in memory.
constexpr size_t kRunChunkPairs = 5'000;
constexpr size_t kPairBytes = 12;

Error Corrupt(std::string detail) {
  return MakeError(ErrorCode::kInternal, kStoreInternalMessage, std::move(detail));
}

bool Before(const TermPair& a, const TermPair& b) {
  const int64_t ta = StoredTerm(a.term), tb = StoredTerm(b.term);
  return ta != tb ? ta < tb : a.person_id < b.person_id;
}

void EncodeChunk(std::span<const TermPair> pairs, std::string& out) {
  out.resize(pairs.size() * kPairBytes);
  char* p = out.data();
  for (const TermPair& pair : pairs) {
    std::memcpy(p, &pair.term, 4);
    std::memcpy(p + 4, &pair.person_id, 8);
    p += kPairBytes;
  }
}

Status DecodeChunk(std::string_view bytes, std::vector<TermPair>& out) {
  if (bytes.size() % kPairBytes != 0) return Corrupt("search_terms_load: damaged chunk");
  out.resize(bytes.size() / kPairBytes);
  const char* p = bytes.data();
  for (TermPair& pair : out) {
    std::memcpy(&pair.term, p, 4);
    std::memcpy(&pair.person_id, p + 4, 8);
    p += kPairBytes;
  }
  return Status::Ok();
}

Status Run(Statement& st) {
  auto r = st.Step();
  st.Reset();
  return r.ok() ? Status::Ok() : Status(r.error());
}

}  // namespace

void SortPairs(std::vector<TermPair>& pairs) { std::sort(pairs.begin(), pairs.end(), Before); }

Status ReadPosting(Statement& st, uint32_t term, size_t limit, std::vector<int64_t>& out) {
  out.clear();
  st.Reset();
  st.Bind(1, StoredTerm(term));
  Status status;
  while (out.size() < limit) {
    auto row = st.Step();
    if (!row.ok()) {
      status = row.error();
      break;
    }
    if (!*row) break;
    if (Status s = DecodePostingBlock(st.Blob(0), out); !s.ok()) {
      status = s;
      break;
    }
  }
  st.Reset();
  if (out.size() > limit) out.resize(limit);
  return status;
}

Result<bool> Contains(Statement& st, uint32_t term, int64_t person_id) {
  thread_local std::vector<int64_t> ids;
  ids.clear();
  st.Reset();
  st.Bind(1, StoredTerm(term));
  st.Bind(2, person_id);
  auto row = st.Step();
  Status decoded;
  if (row.ok() && *row) decoded = DecodePostingBlock(st.Blob(0), ids);
  st.Reset();
  if (!row.ok()) return row.error();
  if (!decoded.ok()) return decoded.error();
  return std::binary_search(ids.begin(), ids.end(), person_id);
}

PostingWriter::PostingWriter(Connection& writer)
    : writer_(&writer),
      at_(writer.Prepare("SELECT last_id, ids FROM search_postings WHERE term = ? AND last_id >= ? "
                         "ORDER BY last_id LIMIT 1")),
      last_(writer.Prepare("SELECT last_id, ids FROM search_postings WHERE term = ? "
                           "ORDER BY last_id DESC LIMIT 1")),
      put_(writer.Prepare(
          "INSERT OR REPLACE INTO search_postings(term, last_id, ids) VALUES(?, ?, ?)")),
      delete_(writer.Prepare("DELETE FROM search_postings WHERE term = ? AND last_id = ?")),
      put_run_(writer.Prepare("INSERT INTO search_terms_load(run, chunk, pairs) VALUES(?, ?, ?)")) {
}

Result<std::optional<PostingWriter::Block>> PostingWriter::Find(uint32_t term, int64_t person_id,
                                                                bool* past_end) {
  *past_end = false;
  for (Statement* st : {&at_, &last_}) {
    st->Reset();
    st->Bind(1, StoredTerm(term));
    if (st == &at_) st->Bind(2, person_id);
    auto row = st->Step();
    if (!row.ok()) {
      st->Reset();
      return row.error();
    }
    if (*row) {
      Block block;
      block.last_id = st->Int(0);
      Status s = DecodePostingBlock(st->Blob(1), block.ids);
      st->Reset();
      if (!s.ok()) return s.error();
      if (block.ids.empty() || block.ids.back() != block.last_id) {
        return Corrupt("search_postings: a block's key is not its last id");
      }
      *past_end = st == &last_;
      return std::optional<Block>(std::move(block));
    }
    st->Reset();
  }
  return std::optional<Block>();
}

Status PostingWriter::Put(uint32_t term, std::span<const int64_t> ids) {
  block_.clear();
  EncodePostingBlock(ids, block_);
  put_.Reset();
  put_.Bind(1, StoredTerm(term));
  put_.Bind(2, ids.back());
  put_.BindBlob(3, block_);
  return Run(put_);
}

Status PostingWriter::Delete(uint32_t term, int64_t last_id) {
  delete_.Reset();
  delete_.Bind(1, StoredTerm(term));
  delete_.Bind(2, last_id);
  return Run(delete_);
}

Status PostingWriter::PutAll(uint32_t term, std::span<const int64_t> ids) {
  for (size_t i = 0; i < ids.size(); i += kMaxBlockIds) {
    if (Status s = Put(term, ids.subspan(i, std::min(kMaxBlockIds, ids.size() - i))); !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

Status PostingWriter::Add(uint32_t term, int64_t person_id) {
  bool past_end = false;
  auto found = Find(term, person_id, &past_end);
  if (!found.ok()) return found.error();
  if (!*found) return Put(term, std::span<const int64_t>(&person_id, 1));
  Block& block = **found;
  if (past_end) {
    // After every id of the term: the last block grows (and takes a new key), or a new one starts.
    if (block.ids.size() >= kMaxBlockIds) return Put(term, std::span<const int64_t>(&person_id, 1));
    if (Status s = Delete(term, block.last_id); !s.ok()) return s;
    block.ids.push_back(person_id);
    return Put(term, block.ids);
  }
  auto at = std::lower_bound(block.ids.begin(), block.ids.end(), person_id);
  if (*at == person_id) return Status::Ok();  // present already
  block.ids.insert(at, person_id);
  if (block.ids.size() <= kMaxBlockIds) return Put(term, block.ids);  // same last id: replaced
  const size_t half = block.ids.size() / 2;
  if (Status s = Put(term, std::span<const int64_t>(block.ids).first(half)); !s.ok()) return s;
  return Put(term, std::span<const int64_t>(block.ids).subspan(half));
}

Status PostingWriter::Remove(uint32_t term, int64_t person_id) {
  bool past_end = false;
  auto found = Find(term, person_id, &past_end);
  if (!found.ok()) return found.error();
  if (!*found || past_end) return Status::Ok();
  Block& block = **found;
  auto at = std::lower_bound(block.ids.begin(), block.ids.end(), person_id);
  if (at == block.ids.end() || *at != person_id) return Status::Ok();
  block.ids.erase(at);
  if (block.ids.empty() || block.ids.back() != block.last_id) {
    if (Status s = Delete(term, block.last_id); !s.ok()) return s;
  }
  return block.ids.empty() ? Status::Ok() : Put(term, block.ids);
}

Status PostingWriter::Append(uint32_t term, std::span<const int64_t> ids) {
  if (ids.empty()) return Status::Ok();
  bool past_end = false;
  auto found = Find(term, ids.front(), &past_end);
  if (!found.ok()) return found.error();
  if (!*found) return PutAll(term, ids);
  if (!past_end) {
    for (int64_t id : ids) {
      if (Status s = Add(term, id); !s.ok()) return s;
    }
    return Status::Ok();
  }
  Block& block = **found;
  if (block.ids.size() >= kMaxBlockIds) return PutAll(term, ids);
  if (Status s = Delete(term, block.last_id); !s.ok()) return s;
  block.ids.insert(block.ids.end(), ids.begin(), ids.end());
  return PutAll(term, block.ids);
}

Status PostingWriter::AddNew(std::vector<TermPair> pairs) {
  SortPairs(pairs);
  std::vector<int64_t> ids;
  for (size_t i = 0; i < pairs.size();) {
    size_t j = i;
    ids.clear();
    while (j < pairs.size() && pairs[j].term == pairs[i].term) ids.push_back(pairs[j++].person_id);
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (Status s = Append(pairs[i].term, ids); !s.ok()) return s;
    i = j;
  }
  return Status::Ok();
}

Status PostingWriter::AddRun(std::vector<TermPair> pairs) {
  if (pairs.empty()) return Status::Ok();
  SortPairs(pairs);
  Statement next = writer_->Prepare("SELECT coalesce(max(run), 0) + 1 FROM search_terms_load");
  auto row = next.Step();
  if (!row.ok()) return row.error();
  const int64_t run = next.Int(0);
  std::string bytes;
  for (size_t i = 0, chunk = 0; i < pairs.size(); i += kRunChunkPairs, ++chunk) {
    EncodeChunk(
        std::span<const TermPair>(pairs).subspan(i, std::min(kRunChunkPairs, pairs.size() - i)),
        bytes);
    put_run_.Reset();
    put_run_.Bind(1, run);
    put_run_.Bind(2, static_cast<int64_t>(chunk));
    put_run_.BindBlob(3, bytes);
    if (Status s = Run(put_run_); !s.ok()) return s;
  }
  return Status::Ok();
}

// A k-way merge of the runs (each sorted) in index order; a term's persons are written as full
// blocks, or appended to the term's blocks when the index held some before the load.
Status PostingWriter::MergeRuns() {
  struct Cursor {
    Statement chunks;
    std::vector<TermPair> pairs;
    size_t at = 0;
  };
  std::vector<Cursor> cursors;
  {
    Statement runs = writer_->Prepare("SELECT DISTINCT run FROM search_terms_load ORDER BY run");
    while (true) {
      auto row = runs.Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      Cursor& c = cursors.emplace_back();
      c.chunks =
          writer_->Prepare("SELECT pairs FROM search_terms_load WHERE run = ? ORDER BY chunk");
      c.chunks.Bind(1, runs.Int(0));
    }
  }
  // Moves `c` to its next pair; false at the run's end.
  auto advance = [](Cursor& c) -> Result<bool> {
    if (++c.at < c.pairs.size()) return true;
    auto row = c.chunks.Step();
    if (!row.ok()) return row.error();
    if (!*row) return false;
    if (Status s = DecodeChunk(c.chunks.Blob(0), c.pairs); !s.ok()) return s.error();
    c.at = 0;
    return !c.pairs.empty();
  };
  auto later = [&](size_t a, size_t b) {
    return Before(cursors[b].pairs[cursors[b].at], cursors[a].pairs[cursors[a].at]);
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < cursors.size(); ++i) {
    cursors[i].at = SIZE_MAX;  // so that advance() reads the first chunk
    cursors[i].pairs.clear();
    auto more = advance(cursors[i]);
    if (!more.ok()) return more.error();
    if (*more) heap.push(i);
  }
  bool empty_index = false;
  {
    Statement any = writer_->Prepare("SELECT NOT EXISTS (SELECT 1 FROM search_postings)");
    auto row = any.Step();
    if (!row.ok()) return row.error();
    empty_index = any.Int(0) != 0;
  }
  std::optional<uint32_t> term;
  std::vector<int64_t> ids;
  auto flush = [&]() -> Status {
    if (!term) return Status::Ok();
    return empty_index ? PutAll(*term, ids) : Append(*term, ids);
  };
  while (!heap.empty()) {
    const size_t i = heap.top();
    heap.pop();
    const TermPair pair = cursors[i].pairs[cursors[i].at];
    if (!term || *term != pair.term) {
      if (Status s = flush(); !s.ok()) return s;
      term = pair.term;
      ids.clear();
    }
    if (ids.empty() || ids.back() != pair.person_id) ids.push_back(pair.person_id);
    auto more = advance(cursors[i]);
    if (!more.ok()) return more.error();
    if (*more) heap.push(i);
  }
  if (Status s = flush(); !s.ok()) return s;
  cursors.clear();  // finalize the statements before the table is emptied
  return writer_->Exec("DELETE FROM search_terms_load");
}

Status PostingWriter::Clear() {
  for (const char* sql : {"DELETE FROM search_postings", "DELETE FROM search_terms_load"}) {
    if (Status s = writer_->Exec(sql); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace norreg::store::sqlite
