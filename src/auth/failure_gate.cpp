#include "auth/failure_gate.hpp"

#include <functional>

namespace norreg::auth {

FailureGate::Shard& FailureGate::ShardOf(std::string_view address) {
  return shards_[std::hash<std::string_view>{}(address) % std::size(shards_)];
}

std::optional<std::chrono::milliseconds> FailureGate::Blocked(std::string_view address) {
  return BlockedAt(address, MonotonicNs());
}

void FailureGate::Failed(std::string_view address) { FailedAt(address, MonotonicNs()); }

std::optional<std::chrono::milliseconds> FailureGate::BlockedAt(std::string_view address,
                                                                int64_t now_ns) {
  Shard& shard = ShardOf(address);
  std::lock_guard lock(shard.mutex);
  auto it = shard.until_ns.find(address);
  if (it == shard.until_ns.end()) return std::nullopt;
  if (it->second <= now_ns) {
    shard.until_ns.erase(it);
    return std::nullopt;
  }
  // Rounded up, so that a client waiting as told finds the address open.
  return std::chrono::milliseconds((it->second - now_ns + 999'999) / 1'000'000);
}

void FailureGate::FailedAt(std::string_view address, int64_t now_ns) {
  auto wait = failures_.AcquireAt(address, now_ns);
  if (!wait) return;
  Shard& shard = ShardOf(address);
  std::lock_guard lock(shard.mutex);
  if (shard.until_ns.size() >= kMaxBlocked / std::size(shards_)) {
    std::erase_if(shard.until_ns, [&](const auto& entry) { return entry.second <= now_ns; });
    if (shard.until_ns.size() >= kMaxBlocked / std::size(shards_)) return;
  }
  const int64_t until = now_ns + std::chrono::nanoseconds(*wait).count();
  auto [it, added] = shard.until_ns.try_emplace(std::string(address), until);
  if (!added && it->second < until) it->second = until;
}

std::string_view AddressOf(std::string_view remote) {
  const size_t colon = remote.rfind(':');
  if (colon == std::string_view::npos) return remote;
  std::string_view address = remote.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  return address;
}

}  // namespace norreg::auth
