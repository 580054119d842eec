#pragma once
// NumberMap: a hash map from numbers (a foedsels- or d-nummer as an integer, at most 19 digits) to
// a 64-bit value, for the feed follower's per-number bookkeeping over millions of numbers.
//
// Open addressing with linear probing in one flat array (16 bytes a slot, at most half full), so
// a lookup is usually one cache miss where a node-based std::unordered_map takes two or three and
// allocates per entry. Keys must be below 2^64 - 1 (every number of up to 19 digits is). No single
// erase: EraseIf rebuilds the table.
//
// Not thread-safe; pointers returned by Find/TryEmplace are valid until the next insertion or
// EraseIf.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace norreg::client {

class NumberMap {
 public:
  // The value stored for `key`, or nullptr.
  const int64_t* Find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    const uint64_t stored = key + 1;
    for (size_t i = Home(stored);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == stored) return &slot.value;
      if (slot.key == kEmpty) return nullptr;
    }
  }
  int64_t* Find(uint64_t key) {
    return const_cast<int64_t*>(static_cast<const NumberMap&>(*this).Find(key));
  }

  // Starts loading the memory where `key` would be (for a Find a little later: a loop over many
  // keys then waits for several cache misses at once instead of one after the other).
  void Prefetch(uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(key + 1)]);
  }

  // The slot of `key`, inserting it with `value` when absent; `inserted` tells which.
  std::pair<int64_t*, bool> TryEmplace(uint64_t key, int64_t value) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    const uint64_t stored = key + 1;
    for (size_t i = Home(stored);; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.key == stored) return {&slot.value, false};
      if (slot.key == kEmpty) {
        slot = {stored, value};
        ++size_;
        return {&slot.value, true};
      }
    }
  }

  // Removes every entry for which pred(key, value) is true.
  template <typename Pred>
  void EraseIf(Pred pred) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size(), Slot{});
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmpty && !pred(slot.key - 1, slot.value)) Place(slot);
    }
  }

  void Clear() {
    slots_.clear();
    mask_ = 0;
    size_ = 0;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    uint64_t key = 0;  // the key + 1; 0 = empty
    int64_t value = 0;
  };
  static constexpr uint64_t kEmpty = 0;

  size_t Home(uint64_t stored) const {
    // Fibonacci hashing: numbers close together spread over the whole table.
    return static_cast<size_t>((stored * 0x9E3779B97F4A7C15ULL) >> shift_) & mask_;
  }
  void Place(const Slot& from) {
    for (size_t i = Home(from.key);; i = (i + 1) & mask_) {
      if (slots_[i].key == kEmpty) {
        slots_[i] = from;
        ++size_;
        return;
      }
    }
  }
  void Grow() {
    const size_t capacity = slots_.empty() ? 64 : slots_.size() * 2;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = static_cast<unsigned>(64 - std::countr_zero(capacity));
    size_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmpty) Place(slot);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  unsigned shift_ = 64;
  size_t size_ = 0;
};

}  // namespace norreg::client
