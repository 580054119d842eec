#include "store/register_store.hpp"

namespace norreg::store {
namespace {

template <typename Key, typename Find>
Status EachRaw(RegisterStore& store, std::span<const Key> keys, std::string& buffer,
               const RegisterStore::RawVisitor& each, Find find) {
  return store.InReadSnapshot([&]() -> Status {
    for (size_t i = 0; i < keys.size(); ++i) {
      Result<RawPerson> person = find(keys[i], buffer);
      if (!person.ok() && person.error().code != ErrorCode::kNotFound) return person.error();
      if (Status s = each(i, person); !s.ok()) return s;
    }
    return Status::Ok();
  });
}

}  // namespace

Status RegisterStore::FindRawByFnrs(std::span<const std::string> fnrs, std::string& buffer,
                                    const RawVisitor& each) {
  return EachRaw(*this, fnrs, buffer, each, [this](const std::string& fnr, std::string& raw) {
    return FindRawByFnr(fnr, raw);
  });
}

Status RegisterStore::FindRawByVersions(std::span<const uint64_t> seqs, std::string& buffer,
                                        const RawVisitor& each) {
  return EachRaw(*this, seqs, buffer, each,
                 [this](uint64_t seq, std::string& raw) { return FindRawByVersion(seq, raw); });
}

}  // namespace norreg::store
