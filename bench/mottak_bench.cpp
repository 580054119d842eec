// The load tool of bench/mottak.sh (Brreg mottak, issue 5). Subcommands:
//
//   mottak_bench orgs N                      the N organisation numbers of the benchmark, one a
//                                            line (valid check digits, from 310000019 upwards:
//                                            the demo consumers come first; not the supplier's
//                                            or the producer's own)
//   mottak_bench grant DATA N                lets the demo supplier act for those N organisations
//                                            (its consumer_orgs in DATA/auth/clients.json; run
//                                            while the server is stopped: it reads them at start)
//   mottak_bench seed URL DATA N PER CONNS   publishes PER replies for each of the N organisations
//                                            through POST /norreg/mottak/v1/svar (the producer's
//                                            token), CONNS keep-alive connections in parallel
//   mottak_bench tokens URL DATA N           prints one brreg:mottak token per organisation (the
//                                            first N), one a line (for wrk's Lua script)
//   mottak_bench confirm URL DATA N CONNS    lists every available reply of the first N
//                                            organisations, then confirms each exactly once (its
//                                            mottakId with its own org's token) over CONNS
//                                            keep-alive connections; reports confirms/s and the
//                                            latency distribution, and every answer that is not
//                                            200
//
// Output: one "key=value ..." line per measurement on stdout. Exit 1 on any failure.
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/client_registry.hpp"
#include "client/http_client.hpp"
#include "client/token_client.hpp"
#include "client/uttrekk.hpp"
#include "common/ids.hpp"

namespace {

using namespace norreg;
using Clock = std::chrono::steady_clock;

// The supplier's and the producer's own organisations are left out: tokens act for the others.
std::vector<std::string> Orgs(size_t n) {
  std::vector<std::string> out;
  for (long base = 31000001; out.size() < n; ++base) {
    for (int check = 0; check <= 9; ++check) {
      std::string candidate = std::to_string(base) + std::to_string(check);
      if (candidate == auth::kDemoSupplierOrgnr || candidate == auth::kDemoProducerOrgnr) break;
      if (ids::ValidOrgnr(candidate)) {
        out.push_back(candidate);
        break;
      }
    }
  }
  return out;
}

[[noreturn]] void Fail(const std::string& what, const Error& error) {
  std::fprintf(stderr, "mottak_bench: %s: %s %s\n", what.c_str(), error.message.c_str(),
               error.detail.c_str());
  std::exit(1);
}

std::string ReplyXml(const std::string& to, size_t n) {
  char id[33];
  std::snprintf(id, sizeof id, "%032zx", n);
  return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id=")") +
         id + R"(" tjeneste="Tinglysing" tjenestehandling="vedtak">
  <Mottaker id=")" +
         to + R"(" idType="orgnr">Mottaker AS</Mottaker>
  <Avsender id="974760673" idType="orgnr">Brønnøysundregistrene</Avsender>
  <Referanse referanse=")" +
         id + R"(" referanseType="MeldingsReferanse"/>
  <Innhold><Data format="text/plain">Vedtak nr. )" +
         std::to_string(n) + R"(: godkjent</Data></Innhold>
</Melding>
)";
}

client::TokenClient MakeTokens(const std::string& url, const std::string& data,
                               std::string_view scope, const std::string& org) {
  client::ConsumerAuthFlags flags;
  flags.data_dir = data;
  flags.org = org;
  auto options = client::ConsumerTokenOptions(flags, scope, url);
  if (!options.ok()) Fail("token client", options.error());
  options->cache_file.clear();
  return client::TokenClient(std::move(*options));
}

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[i];
}

int Grant(const std::string& data, size_t n) {
  const std::string dir = data + "/auth";
  auto registry = auth::ClientRegistry::Load(dir);
  if (!registry.ok()) Fail("load " + dir, registry.error());
  std::vector<auth::RegisteredClient> clients = registry->clients();
  bool found = false;
  for (auth::RegisteredClient& c : clients) {
    if (c.client_id != auth::kDemoSupplierClientId) continue;
    found = true;
    c.consumer_orgs.clear();
    for (const std::string& org : Orgs(n)) {
      if (org != c.orgnr) c.consumer_orgs.push_back(org);
    }
  }
  if (!found) Fail("grant", MakeError(ErrorCode::kNotFound, "no demo supplier"));
  if (Status s = auth::ClientRegistry(std::move(clients)).Save(dir); !s.ok())
    Fail("save", s.error());
  std::printf("granted=%zu\n", n);
  return 0;
}

int Seed(const std::string& url, const std::string& data, size_t n, size_t per, size_t conns) {
  client::TokenClient tokens = MakeTokens(url, data, auth::kMottakProducerScope, "");
  auto token = tokens.Token(auth::kMottakProducerScope, "");
  if (!token.ok()) Fail("producer token", token.error());
  const std::vector<std::string> orgs = Orgs(n);
  const size_t total = n * per;
  std::atomic<size_t> next{0};
  std::atomic<size_t> failed{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (size_t c = 0; c < conns; ++c) {
    threads.emplace_back([&] {
      client::HttpClient http;
      const client::HttpHeaders headers = {{"Authorization", "Bearer " + *token}};
      for (size_t i; (i = next.fetch_add(1)) < total;) {
        // Round-robin over the organisations: every one gets replies spread over the run.
        auto r = http.Post(url + "/norreg/mottak/v1/svar", ReplyXml(orgs[i % n], i),
                           "application/xml", headers);
        if (!r.ok() || r->status != 200) {
          if (failed.fetch_add(1) < 5) {
            std::fprintf(stderr, "seed %zu: %s\n", i,
                         r.ok() ? r->body.c_str() : r.error().message.c_str());
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("seeded=%zu orgs=%zu seconds=%.2f per_second=%.0f failed=%zu\n", total, n, secs,
              static_cast<double>(total) / secs, failed.load());
  return failed.load() == 0 ? 0 : 1;
}

int Tokens(const std::string& url, const std::string& data, size_t n) {
  const std::vector<std::string> orgs = Orgs(n);
  client::TokenClient tokens = MakeTokens(url, data, auth::kMottakScope, "0192:" + orgs.back());
  for (const std::string& org : orgs) {
    auto token = tokens.Token(auth::kMottakScope, "0192:" + org);
    if (!token.ok()) Fail("token for " + org, token.error());
    std::printf("%s\n", token->c_str());
  }
  return 0;
}

int Confirm(const std::string& url, const std::string& data, size_t n, size_t conns) {
  const std::vector<std::string> orgs = Orgs(n);
  client::TokenClient tokens = MakeTokens(url, data, auth::kMottakScope, "0192:" + orgs.back());
  struct Item {
    std::string path;
    const std::string* auth;
  };
  std::vector<std::string> auths;
  auths.reserve(orgs.size());
  std::vector<Item> items;
  client::HttpClient http;
  for (const std::string& org : orgs) {
    auto token = tokens.Token(auth::kMottakScope, "0192:" + org);
    if (!token.ok()) Fail("token for " + org, token.error());
    auths.push_back("Bearer " + *token);
    auto r = http.Get(url + "/outbound/available", {{"Authorization", auths.back()}});
    if (!r.ok() || r->status != 200) {
      Fail("available for " + org, r.ok() ? MakeError(ErrorCode::kInternal, r->body) : r.error());
    }
    const boost::json::value available = boost::json::parse(r->body);
    for (const auto& v : available.as_array()) {
      items.push_back(
          {"/outbound/confirm?mottakId=" + std::string(v.as_object().at("mottakId").as_string()),
           &auths.back()});
    }
  }
  // Interleave the organisations so that concurrent confirms belong to different ones.
  std::vector<Item> order;
  order.reserve(items.size());
  {
    std::vector<std::vector<Item>> by_org(orgs.size());
    for (const Item& item : items) {
      by_org[static_cast<size_t>(item.auth - auths.data())].push_back(item);
    }
    for (size_t round = 0; order.size() < items.size(); ++round) {
      for (auto& list : by_org) {
        if (round < list.size()) order.push_back(list[round]);
      }
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<size_t> not_ok{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(order.size());
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (size_t c = 0; c < conns; ++c) {
    threads.emplace_back([&] {
      client::HttpClient client;
      std::vector<double> mine;
      for (size_t i; (i = next.fetch_add(1)) < order.size();) {
        const auto s = Clock::now();
        auto r =
            client.Request("PUT", url + order[i].path, "", {{"Authorization", *order[i].auth}});
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        if (!r.ok() || r->status != 200) {
          if (not_ok.fetch_add(1) < 5) {
            std::fprintf(stderr, "confirm %s: %s\n", order[i].path.c_str(),
                         r.ok() ? r->body.c_str() : r.error().message.c_str());
          }
        }
      }
      std::lock_guard lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf(
      "confirms=%zu orgs=%zu connections=%zu seconds=%.2f per_second=%.0f p50_ms=%.2f "
      "p99_ms=%.2f max_ms=%.2f not_200=%zu\n",
      order.size(), n, conns, secs, static_cast<double>(order.size()) / secs,
      Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back(), not_ok.load());
  return not_ok.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  auto num = [&](size_t i) { return static_cast<size_t>(std::stoul(a.at(i))); };
  try {
    if (a.size() == 2 && a[0] == "orgs") {
      for (const std::string& org : Orgs(num(1))) std::printf("%s\n", org.c_str());
      return 0;
    }
    if (a.size() == 3 && a[0] == "grant") return Grant(a[1], num(2));
    if (a.size() == 6 && a[0] == "seed") return Seed(a[1], a[2], num(3), num(4), num(5));
    if (a.size() == 4 && a[0] == "tokens") return Tokens(a[1], a[2], num(3));
    if (a.size() == 5 && a[0] == "confirm") return Confirm(a[1], a[2], num(3), num(4));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mottak_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: mottak_bench orgs N | grant DATA N | seed URL DATA N PER CONNS | "
               "tokens URL DATA N | confirm URL DATA N CONNS\n");
  return 2;
}
