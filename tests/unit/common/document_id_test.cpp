#include "common/document_id.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.hpp"

namespace norreg::ids {
namespace {

const DocumentIdCipher::Key kKey = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

std::vector<uint64_t> InterestingSeqs() {
  std::vector<uint64_t> seqs = {0,
                                1,
                                2,
                                3,
                                255,
                                256,
                                1000,
                                40241,
                                65535,
                                65536,
                                1ULL << 32,
                                (1ULL << 32) + 1,
                                1ULL << 63,
                                (1ULL << 63) + 1,
                                UINT64_MAX - 1,
                                UINT64_MAX};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000; ++i) seqs.push_back(rng() >> (rng() % 64));
  return seqs;
}

TEST(DocumentIdTest, KnownAnswer) {
  // Computed with `openssl enc -aes-128-ecb -nopad -K 000102030405060708090a0b0c0d0e0f` of the
  // blocks 01 00×7 00×7 01 (kPerson, seq 1) and 02 00×7 80 00×7 (kEvent, seq 2^63).
  const DocumentIdCipher cipher(kKey);
  EXPECT_EQ(cipher.Encode(DocumentKind::kPerson, 1), "7fe6e7fa6b07ff190da174c7d7c9f362");
  EXPECT_EQ(cipher.Encode(DocumentKind::kEvent, 1ULL << 63), "077374bdc98562d41d8c44646119e6e7");
  EXPECT_EQ(cipher.Decode(DocumentKind::kPerson, "7fe6e7fa6b07ff190da174c7d7c9f362"), 1u);
  EXPECT_EQ(cipher.Decode(DocumentKind::kEvent, "077374bdc98562d41d8c44646119e6e7"), 1ULL << 63);
}

TEST(DocumentIdTest, RoundTrip) {
  const DocumentIdCipher cipher(DocumentIdCipher::NewKey());
  for (uint64_t seq : InterestingSeqs()) {
    for (DocumentKind kind : {DocumentKind::kPerson, DocumentKind::kEvent}) {
      const std::string id = cipher.Encode(kind, seq);
      ASSERT_TRUE(IsHex32(id)) << id;
      EXPECT_EQ(cipher.Decode(kind, id), seq) << id;
      EXPECT_EQ(ToHex32(cipher.EncodeBytes(kind, seq)), id);
      EXPECT_EQ(cipher.DecodeBytes(kind, cipher.EncodeBytes(kind, seq)), seq);
    }
  }
}

TEST(DocumentIdTest, AppendEncodedAppends) {
  const DocumentIdCipher cipher(kKey);
  std::string out = "[\"";
  cipher.AppendEncoded(out, DocumentKind::kEvent, 7);
  out += "\",\"";
  cipher.AppendEncoded(out, DocumentKind::kEvent, 8);
  out += "\"]";
  EXPECT_EQ(out, "[\"" + cipher.Encode(DocumentKind::kEvent, 7) + "\",\"" +
                     cipher.Encode(DocumentKind::kEvent, 8) + "\"]");
}

TEST(DocumentIdTest, KindsDiffer) {
  const DocumentIdCipher cipher(kKey);
  for (uint64_t seq : {1ULL, 2ULL, 40241ULL, 1ULL << 63}) {
    const std::string person = cipher.Encode(DocumentKind::kPerson, seq);
    const std::string event = cipher.Encode(DocumentKind::kEvent, seq);
    EXPECT_NE(person, event);
    EXPECT_FALSE(cipher.Decode(DocumentKind::kEvent, person));
    EXPECT_FALSE(cipher.Decode(DocumentKind::kPerson, event));
  }
}

TEST(DocumentIdTest, KeysDiffer) {
  const DocumentIdCipher a(kKey);
  const DocumentIdCipher b(DocumentIdCipher::NewKey());
  const std::string id = a.Encode(DocumentKind::kPerson, 42);
  EXPECT_NE(id, b.Encode(DocumentKind::kPerson, 42));
  EXPECT_FALSE(b.Decode(DocumentKind::kPerson, id));
  // Interleaved use of two instances on one thread (and more instances than cached contexts).
  std::vector<DocumentIdCipher> many;
  for (int i = 0; i < 10; ++i) many.emplace_back(DocumentIdCipher::NewKey());
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < many.size(); ++i) {
      EXPECT_EQ(many[i].Decode(DocumentKind::kPerson, many[i].Encode(DocumentKind::kPerson, i)), i);
    }
  }
}

TEST(DocumentIdTest, GarbledIdsAreUnknown) {
  const DocumentIdCipher cipher(kKey);
  const std::string id = cipher.Encode(DocumentKind::kPerson, 12345);
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad :
       {std::string(), id.substr(0, 31), id + "0", upper == id ? std::string("x") : upper,
        id.substr(0, 30) + "zz", std::string(32, '0'), std::string(32, 'f'),
        std::string("../../../etc/passwd")}) {
    EXPECT_FALSE(cipher.Decode(DocumentKind::kPerson, bad)) << bad;
  }
  // Every single-character change is detected.
  for (size_t i = 0; i < id.size(); ++i) {
    for (char c : std::string("0123456789abcdef")) {
      if (c == id[i]) continue;
      std::string bad = id;
      bad[i] = c;
      EXPECT_FALSE(cipher.Decode(DocumentKind::kPerson, bad)) << bad;
    }
  }
  // Random ids are unknown.
  std::mt19937_64 rng(3);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::array<uint8_t, 16> bytes{};
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    accepted += cipher.Decode(DocumentKind::kPerson, ToHex32(bytes)).has_value() ? 1 : 0;
  }
  EXPECT_EQ(accepted, 0);
}

size_t CommonPrefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

TEST(DocumentIdTest, LooksRandom) {
  const DocumentIdCipher cipher(kKey);
  std::set<std::string> seen;
  std::array<int, 16> first_digit{};
  for (uint64_t seq = 1; seq <= 4000; ++seq) {
    const std::string a = cipher.Encode(DocumentKind::kPerson, seq);
    const std::string b = cipher.Encode(DocumentKind::kPerson, seq + 1);
    EXPECT_LT(CommonPrefix(a, b), 6u) << a << " " << b;
    seen.insert(a);
    ++first_digit[a[0] <= '9' ? a[0] - '0' : a[0] - 'a' + 10];
  }
  EXPECT_EQ(seen.size(), 4000u);
  for (int count : first_digit) {
    EXPECT_GT(count, 150);  // expected 250 each
    EXPECT_LT(count, 350);
  }
}

TEST(DocumentIdTest, FromHexAndNewKey) {
  auto cipher = DocumentIdCipher::FromHex("000102030405060708090a0b0c0d0e0f");
  ASSERT_TRUE(cipher.ok());
  EXPECT_EQ(cipher->key(), kKey);
  EXPECT_EQ(cipher->Encode(DocumentKind::kEvent, 9),
            DocumentIdCipher(kKey).Encode(DocumentKind::kEvent, 9));
  EXPECT_FALSE(DocumentIdCipher::FromHex("0001").ok());
  EXPECT_FALSE(DocumentIdCipher::FromHex("000102030405060708090A0B0C0D0E0F").ok());
  EXPECT_NE(DocumentIdCipher::NewKey(), DocumentIdCipher::NewKey());
}

TEST(DocumentIdTest, ConcurrentUse) {
  const DocumentIdCipher cipher(kKey);
  std::vector<std::string> expected;
  for (uint64_t seq = 1; seq <= 500; ++seq)
    expected.push_back(cipher.Encode(DocumentKind::kEvent, seq));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const DocumentIdCipher copy = cipher;  // copies share the key
      std::string out;
      for (int round = 0; round < 20; ++round) {
        for (uint64_t seq = 1; seq <= 500; ++seq) {
          const DocumentIdCipher& c = (seq % 2 == 0) ? cipher : copy;
          out.clear();
          c.AppendEncoded(out, DocumentKind::kEvent, seq);
          if (out != expected[seq - 1] || c.Decode(DocumentKind::kEvent, out) != seq) ++failures[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace norreg::ids
