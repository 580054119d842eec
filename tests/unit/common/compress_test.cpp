#include "common/compress.hpp"

#include <gtest/gtest.h>
#include <zstd.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

namespace norreg::common {
namespace {

// Person-document-like JSON: the same keys and many shared values, a few varying fields.
std::vector<std::string> JsonSamples(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  const char* names[] = {"Ola", "Kari", "Per", "Anne", "Lars", "Ingrid", "Nils", "Sigrid"};
  const char* streets[] = {"Storgata", "Kirkeveien", "Fjordveien", "Skolegata", "Bakkeveien"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string s = R"({"identifikasjonsnummer":[{"ajourholdstidspunkt":"2022-03-14T14:41:28.)";
    s += std::to_string(100 + rng() % 900);
    s +=
        R"(+01:00","erGjeldende":true,"kilde":"KILDE_DSF","aarsak":"Patch","foedselsEllerDNummer":")";
    s += std::to_string(10000000000ULL + rng() % 89999999999ULL);
    s +=
        R"(","identifikatortype":"foedselsnummer","status":"iBruk"}],"navn":[{"ajourholdstidspunkt":)";
    s += R"("2017-06-20T09:26:03.689+02:00","erGjeldende":true,"kilde":"KILDE_DSF","fornavn":")";
    s += names[rng() % 8];
    s += R"(","etternavn":"Nordmann"}],"bostedsadresse":[{"vegadresse":{"kommunenummer":"0301",)";
    s += R"("adressenavn":")";
    s += streets[rng() % 5];
    s += R"(","adressenummer":{"husnummer":")";
    s += std::to_string(1 + rng() % 200);
    s += R"("},"poststed":{"poststedsnavn":"OSLO","postnummer":"0)";
    s += std::to_string(100 + rng() % 900);
    s += R"("}},"adresseIdentifikatorFraMatrikkelen":")";
    s += std::to_string(rng());
    s += R"("}],"kjoenn":[{"kjoenn":"kvinne"}],"status":[{"status":"bosatt"}]})";
    out.push_back(std::move(s));
  }
  return out;
}

TEST(ZstdTest, RoundTripWithoutDictionary) {
  auto z = Zstd::Create("");
  ASSERT_TRUE(z.ok());
  EXPECT_FALSE(z->HasDictionary());
  EXPECT_EQ(z->DictionaryId(), 0u);
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>(i);
  for (const std::string& in : {std::string(), std::string("a"), std::string("hei på deg"), big}) {
    std::string packed;
    std::string unpacked = "garbage";
    z->Compress(in, packed);
    ASSERT_TRUE(z->Decompress(packed, unpacked).ok());
    EXPECT_EQ(unpacked, in);
  }
}

// The output of a small input is allocated at its frame's size (not the bound of the input), and
// one output string serves inputs on both sides of the per-thread buffer's size in turn.
TEST(ZstdTest, OutputIsSizedToTheFrame) {
  auto z = Zstd::Create("");
  ASSERT_TRUE(z.ok());
  const std::string small(20000, 'a');
  std::string big(600 * 1024, 'y');
  for (size_t i = 0; i < big.size(); i += 89) big[i] = static_cast<char>(i);
  std::string fresh;
  z->Compress(small, fresh);
  EXPECT_LT(fresh.capacity(), small.size() / 4);
  std::string packed;
  for (const std::string* in : std::vector<const std::string*>{&small, &big, &small, &big}) {
    z->Compress(*in, packed);
    std::string unpacked;
    ASSERT_TRUE(z->Decompress(packed, unpacked).ok());
    EXPECT_EQ(unpacked, *in);
  }
}

TEST(ZstdTest, RoundTripWithDictionaryAndBetterRatio) {
  const std::vector<std::string> train = JsonSamples(2000, 1);
  auto dict = Zstd::TrainDictionary(train, 16 * 1024);
  ASSERT_TRUE(dict.ok()) << dict.error().detail;
  EXPECT_LE(dict->size(), 16u * 1024);
  auto with = Zstd::Create(*dict, 3);
  auto without = Zstd::Create("", 3);
  ASSERT_TRUE(with.ok());
  ASSERT_TRUE(without.ok());
  EXPECT_TRUE(with->HasDictionary());
  EXPECT_NE(with->DictionaryId(), 0u);

  size_t raw = 0;
  size_t small = 0;
  size_t plain = 0;
  std::string packed;
  std::string unpacked;
  for (const std::string& doc : JsonSamples(300, 2)) {  // unseen documents
    raw += doc.size();
    with->Compress(doc, packed);
    small += packed.size();
    EXPECT_EQ(ZSTD_getDictID_fromFrame(packed.data(), packed.size()), with->DictionaryId());
    ASSERT_TRUE(with->Decompress(packed, unpacked).ok());
    EXPECT_EQ(unpacked, doc);
    without->Compress(doc, packed);
    plain += packed.size();
  }
  // The dictionary must help a lot on small repetitive documents.
  EXPECT_LT(small * 2, plain) << "dict " << small << " plain " << plain << " raw " << raw;
  EXPECT_LT(small * 4, raw);
}

TEST(ZstdTest, DictionaryInstanceReadsFramesWithoutDictionary) {
  auto dict = Zstd::TrainDictionary(JsonSamples(1000, 3), 8 * 1024);
  ASSERT_TRUE(dict.ok());
  auto with = Zstd::Create(*dict);
  auto without = Zstd::Create("");
  ASSERT_TRUE(with.ok() && without.ok());
  std::string packed;
  std::string out;
  for (const std::string& doc : JsonSamples(50, 4)) {
    without->Compress(doc, packed);
    ASSERT_TRUE(with->Decompress(packed, out).ok());
    EXPECT_EQ(out, doc);
    // ... but not the other way round: a dictionary frame needs its dictionary.
    with->Compress(doc, packed);
    const Status s = without->Decompress(packed, out);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
  }
}

TEST(ZstdTest, OtherDictionaryIsAnError) {
  auto d1 = Zstd::TrainDictionary(JsonSamples(1000, 5), 8 * 1024);
  auto d2 = Zstd::TrainDictionary(JsonSamples(1000, 6), 8 * 1024);
  ASSERT_TRUE(d1.ok() && d2.ok());
  auto z1 = Zstd::Create(*d1);
  auto z2 = Zstd::Create(*d2);
  ASSERT_TRUE(z1.ok() && z2.ok());
  ASSERT_NE(z1->DictionaryId(), z2->DictionaryId());
  std::string packed;
  std::string out;
  z1->Compress(JsonSamples(1, 7)[0], packed);
  EXPECT_FALSE(z2->Decompress(packed, out).ok());
}

TEST(ZstdTest, RawContentDictionary) {
  const std::string dict = JsonSamples(5, 8)[0] + JsonSamples(5, 9)[1];
  auto z = Zstd::Create(dict);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->DictionaryId(), 0u);
  auto plain = Zstd::Create("");
  ASSERT_TRUE(plain.ok());
  std::string packed;
  std::string out;
  for (const std::string& doc : JsonSamples(20, 10)) {
    z->Compress(doc, packed);
    ASSERT_TRUE(z->Decompress(packed, out).ok());
    EXPECT_EQ(out, doc);
    plain->Compress(doc, packed);
    ASSERT_TRUE(z->Decompress(packed, out).ok());
    EXPECT_EQ(out, doc);
  }
}

TEST(ZstdTest, CorruptInputIsAnErrorNeverACrash) {
  auto dict = Zstd::TrainDictionary(JsonSamples(1000, 11), 8 * 1024);
  ASSERT_TRUE(dict.ok());
  auto z = Zstd::Create(*dict);
  ASSERT_TRUE(z.ok());
  const std::string doc = JsonSamples(1, 12)[0];
  std::string packed;
  z->Compress(doc, packed);
  std::string out;

  EXPECT_FALSE(z->Decompress("", out).ok());
  EXPECT_FALSE(z->Decompress("not zstd at all", out).ok());
  EXPECT_FALSE(z->Decompress(std::string_view(packed).substr(0, packed.size() / 2), out).ok());
  EXPECT_FALSE(z->Decompress(std::string_view(packed).substr(0, 5), out).ok());
  EXPECT_FALSE(z->Decompress(packed + "trailing", out).ok());

  // Flip every byte in turn, and random garbage after a valid header: either an error or some
  // output, never a crash or sanitizer report. Flipping inside the content must not be accepted
  // silently as the original.
  for (size_t i = 0; i < packed.size(); ++i) {
    std::string bad = packed;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    const Status s = z->Decompress(bad, out);
    if (s.ok()) {
      EXPECT_NE(out, doc) << "byte " << i;
    }
  }
  std::mt19937 rng(13);
  for (int i = 0; i < 500; ++i) {
    std::string bad = packed.substr(0, 6);
    const size_t n = rng() % 300;
    for (size_t j = 0; j < n; ++j) bad.push_back(static_cast<char>(rng()));
    (void)z->Decompress(bad, out);
  }
}

TEST(ZstdTest, OutputLimit) {
  auto z = Zstd::Create("");
  ASSERT_TRUE(z.ok());
  const std::string in(100000, 'a');
  std::string packed;
  std::string out;
  z->Compress(in, packed);
  EXPECT_FALSE(z->Decompress(packed, out, 99999).ok());
  EXPECT_TRUE(z->Decompress(packed, out, 100000).ok());

  // A frame without a content size (streaming compression) is decoded by streaming, also bounded.
  std::string stream(ZSTD_compressBound(in.size()) + 64, '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{stream.data(), stream.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  stream.resize(output.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(stream.data(), stream.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  ASSERT_TRUE(z->Decompress(stream, out).ok());
  EXPECT_EQ(out, in);
  EXPECT_FALSE(z->Decompress(stream, out, 5000).ok());
  EXPECT_FALSE(z->Decompress(stream.substr(0, stream.size() - 3), out).ok());
}

TEST(ZstdTest, ConcurrentUse) {
  auto dict = Zstd::TrainDictionary(JsonSamples(1000, 14), 8 * 1024);
  ASSERT_TRUE(dict.ok());
  auto z = Zstd::Create(*dict);
  ASSERT_TRUE(z.ok());
  const Zstd& shared = *z;
  const std::vector<std::string> docs = JsonSamples(200, 15);
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string packed;
      std::string out;
      for (int round = 0; round < 5; ++round) {
        for (const std::string& doc : docs) {
          shared.Compress(doc, packed);
          if (!shared.Decompress(packed, out).ok() || out != doc) ++failures[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(ZstdTest, BadArguments) {
  EXPECT_FALSE(Zstd::Create("", 0).ok());
  EXPECT_FALSE(Zstd::Create("", 100).ok());
  EXPECT_FALSE(Zstd::TrainDictionary({}).ok());
  EXPECT_FALSE(Zstd::TrainDictionary({"a", "b"}).ok());
  // A zstd-dictionary header with garbage after it is rejected.
  std::string bad_dict = "\x37\xa4\x30\xec";
  bad_dict += std::string(100, '\x01');
  EXPECT_FALSE(Zstd::Create(bad_dict).ok());
}

}  // namespace
}  // namespace norreg::common
