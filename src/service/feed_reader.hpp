#pragma once
// The event feed's reads for the handlers (SPEC 2.4): pages of events, the latest sekvensnummer
// and the document-id cipher that names the events' documents. The feed holds numbers and ids,
// not person data: nothing here is disclosed (service/person_lookup.hpp discloses).
//
// Thread-safe: holds a reference to the store and a copy of the cipher.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/document_id.hpp"
#include "common/result.hpp"
#include "store/register_store.hpp"

namespace norreg::service {

class FeedReader {
 public:
  FeedReader(store::RegisterStore& store, ids::DocumentIdCipher cipher)
      : store_(store), cipher_(cipher) {}

  // Events with sekvensnummer >= from, ascending, at most `limit`.
  Result<std::vector<store::EventRow>> Events(uint64_t from, size_t limit) {
    return store_.Events(from, limit);
  }
  uint64_t LatestSeq() { return store_.LatestSeq(); }
  const ids::DocumentIdCipher& cipher() const { return cipher_; }

 private:
  store::RegisterStore& store_;
  ids::DocumentIdCipher cipher_;
};

}  // namespace norreg::service
