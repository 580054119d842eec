// Brreg elektronisk mottak, outbound (SPEC 3.2) against the real binary: a producer publishes a
// reply, the organisation lists, downloads (a ZIP holding henvendelse.xml) and confirms it, with
// organisation isolation, the exact error bodies and 401 headers, and the confirm race.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <thread>

#include "harness.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "mottak/zip.hpp"

namespace norreg::testing {
namespace {

class MottakTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new ServerProcess(dir_->path(), std::vector<std::string>{"--demo-persons", "5"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static std::string As(const std::string& org) {
    return "Bearer " + server_->Token(kMottakScope, "0192:" + std::string(org));
  }
  // Publishes a reply for `org`; returns its mottakId.
  static std::string Publish(const std::string& org, const std::string& original_id) {
    auto r = server_->Post("/norreg/mottak/v1/svar", ReplyXml(org, original_id),
                           {{"Content-Type", "application/xml"},
                            {"Authorization", "Bearer " + server_->Token("norreg:mottak")}});
    EXPECT_EQ(r.status, 200) << r.body;
    const auto at = r.body.find("\"mottakId\":\"");
    return at == std::string::npos ? "" : r.body.substr(at + 12, 36);
  }
  static HttpResponse Call(const std::string& method, const std::string& path,
                           const std::string& org) {
    return server_->Request(method, path, "", {{"Authorization", As(org)}});
  }
  static void ExpectMottakError(const HttpResponse& r, long status, const std::string& feilkode,
                                const std::string& mottak_id_json) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find("\"feilkode\":\"" + feilkode + "\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"mottakId\":" + mottak_id_json), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"feilId\":\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"kilde\":\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"beskrivelse\":\""), std::string::npos) << r.body;
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};
TempDir* MottakTest::dir_ = nullptr;
ServerProcess* MottakTest::server_ = nullptr;

TEST_F(MottakTest, PublishListDownloadConfirm) {
  const std::string id = Publish(kOrgA, "aaaaaaaabbbbbbbbccccccccdddddddd");
  ASSERT_EQ(id.size(), 36u);

  auto available = Call("GET", "/outbound/available", kOrgA);
  ASSERT_EQ(available.status, 200);
  EXPECT_EQ(available.Header("content-type").substr(0, 16), "application/json");
  EXPECT_NE(available.body.find("\"mottakId\":\"" + id +
                                "\",\"version\":0,\"orgnr\":310000019,"
                                "\"dokumentId\":\""),
            std::string::npos)
      << available.body;
  EXPECT_NE(available.body.find("\"status\":\"ready\",\"oppdatert\":\"20"), std::string::npos);
  EXPECT_EQ(Call("GET", "/outbound/available?tjeneste=Annet", kOrgA).body, "[]");
  EXPECT_EQ(Call("GET", "/outbound/available?fraDato=2000-01-01&tilDato=2000-12-31", kOrgA).body,
            "[]");
  EXPECT_NE(Call("GET", "/outbound/available?tjeneste=Tinglysing&fraDato=2000-01-01", kOrgA)
                .body.find(id),
            std::string::npos);

  auto download = Call("GET", "/outbound/download?mottakId=" + id, kOrgA);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.Header("content-type"), "application/octet-stream");
  EXPECT_NE(download.Header("content-disposition").find(id + ".zip"), std::string::npos);
  EXPECT_EQ(Call("GET", "/outbound/download?mottakId=" + id, kOrgA).body, download.body);
  auto entries = mottak::ReadZip(download.body);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "henvendelse.xml");
  EXPECT_EQ((*entries)[0].content, ReplyXml(kOrgA, "aaaaaaaabbbbbbbbccccccccdddddddd"));
  // The download is a disclosure: the audit log names the organisation and the message.
  std::string audit;
  ASSERT_EQ(RunNorregStdout({"audit", "--data", dir_->path(), "--person", id, "--json"}, &audit),
            0);
  EXPECT_NE(audit.find("mottak_download"), std::string::npos) << audit;
  EXPECT_NE(audit.find(kOrgA), std::string::npos) << audit;

  EXPECT_EQ(Call("PUT", "/outbound/confirm?mottakId=" + id, kOrgA).status, 200);
  EXPECT_EQ(Call("GET", "/outbound/available", kOrgA).body.find(id), std::string::npos);
  EXPECT_EQ(Call("GET", "/outbound/download?mottakId=" + id, kOrgA).status, 200);
  // A confirm after the winning one is the race lost: 500 ERROR-00005.
  ExpectMottakError(Call("PUT", "/outbound/confirm?mottakId=" + id, kOrgA), 500, "ERROR-00005",
                    "\"" + id + "\"");
}

TEST_F(MottakTest, AnotherOrganisationsMessageIsLikeAnUnknownOne) {
  const std::string id = Publish(kOrgA, "11111111222222223333333344444444");
  EXPECT_EQ(Call("GET", "/outbound/available", kOrgB).body.find(id), std::string::npos);
  const std::string unknown = "0f8fad5b-d9cb-469f-a165-70867728950e";
  for (const std::string& mottak_id : {id, unknown}) {
    ExpectMottakError(Call("GET", "/outbound/download?mottakId=" + mottak_id, kOrgB), 404,
                      "CLIENTERROR-10004", "\"" + mottak_id + "\"");
    ExpectMottakError(Call("PUT", "/outbound/confirm?mottakId=" + mottak_id, kOrgB), 404,
                      "CLIENTERROR-10004", "\"" + mottak_id + "\"");
  }
  EXPECT_NE(Call("GET", "/outbound/available", kOrgA).body.find(id), std::string::npos);
}

TEST_F(MottakTest, BadRequestsAnswerInTheBrregShape) {
  ExpectMottakError(Call("GET", "/outbound/download?mottakId=abc", kOrgA), 400, "CLIENTERROR-10002",
                    "null");
  ExpectMottakError(Call("PUT", "/outbound/confirm", kOrgA), 400, "CLIENTERROR-10002", "null");
  ExpectMottakError(Call("GET", "/outbound/available?fraDato=2020-02-30", kOrgA), 400,
                    "CLIENTERROR-10002", "null");
  ExpectMottakError(Call("GET", "/outbound/nothing", kOrgA), 404, "CLIENTERROR-10004", "null");
  // The producer endpoint validates the Melding and names what is wrong.
  auto invalid = server_->Post("/norreg/mottak/v1/svar", "<Melding/>",
                               {{"Content-Type", "application/xml"},
                                {"Authorization", "Bearer " + server_->Token("norreg:mottak")}});
  ExpectMottakError(invalid, 400, "CLIENTERROR-10002", "null");
}

TEST_F(MottakTest, UploadIsStoredOnceAndAnsweredWithAReceipt) {
  const std::string id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
  const std::string body = Multipart(
      {{"payload", "melding.xml", "application/xml", UploadXml(kOrgB, id)},
       {"attachments", "skjema.pdf", "application/pdf", std::string("%PDF-1.4\0\x01", 10)},
       {"attachments", "notat.txt", "text/plain", "hei"}});
  const std::map<std::string, std::string> headers = {
      {"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary},
      {"Authorization", As(kOrgB)}};
  auto first = server_->Request("POST", "/inbound/upload", body, headers);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("\"antallVedlegg\":2"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find("\"mottattTidspunkt\":\"20"), std::string::npos) << first.body;
  const auto at = first.body.find("\"mottakId\":\"");
  ASSERT_NE(at, std::string::npos);
  const std::string mottak_id = first.body.substr(at + 12, 36);
  // A retry of the same Melding id is the same upload.
  auto again = server_->Request("POST", "/inbound/upload", body, headers);
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body.find(mottak_id), std::string::npos) << again.body;

  // The demo answers it with one receipt reply referring to the Melding.
  auto available = Call("GET", "/outbound/available", kOrgB);
  ASSERT_EQ(available.status, 200);
  size_t receipts = 0;
  std::string reply_id;
  for (size_t pos = 0; (pos = available.body.find("\"mottakId\":\"", pos)) != std::string::npos;
       pos += 12) {
    const std::string candidate = available.body.substr(pos + 12, 36);
    auto download = Call("GET", "/outbound/download?mottakId=" + candidate, kOrgB);
    auto entries = mottak::ReadZip(download.body);
    ASSERT_TRUE(entries.ok());
    const std::string& xml = (*entries)[0].content;
    if (xml.find("referanse=\"" + id + "\"") == std::string::npos) continue;
    ++receipts;
    reply_id = candidate;
    EXPECT_NE(xml.find("tjenestehandling=\"kvittering\""), std::string::npos) << xml;
    EXPECT_NE(xml.find("Applikasjonskvittering"), std::string::npos) << xml;
    EXPECT_NE(xml.find("&lt;Status&gt;OK&lt;/Status&gt;"), std::string::npos) << xml;
    EXPECT_NE(xml.find(mottak_id), std::string::npos) << xml;
  }
  EXPECT_EQ(receipts, 1u) << available.body;
  EXPECT_EQ(Call("PUT", "/outbound/confirm?mottakId=" + reply_id, kOrgB).status, 200);
}

// The README's example message is accepted as it stands.
TEST_F(MottakTest, TheExampleMeldingIsAccepted) {
  std::ifstream in(std::string(NORREG_SOURCE_DIR) + "/examples/melding.xml");
  const std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(xml.empty());
  auto r = server_->Request(
      "POST", "/inbound/upload", Multipart({{"payload", "melding.xml", "application/xml", xml}}),
      {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary},
       {"Authorization", As(kOrgA)}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(MottakTest, BadUploadsAnswerTheDocumentedErrors) {
  const std::string type = std::string("multipart/form-data; boundary=") + kBoundary;
  auto upload = [&](const std::string& body, const std::string& content_type = "") {
    return server_->Request("POST", "/inbound/upload", body,
                            {{"Content-Type", content_type.empty() ? type : content_type},
                             {"Authorization", As(kOrgA)}});
  };
  const std::string valid = UploadXml(kOrgA, "ffffffffeeeeeeeeddddddddcccccccc");
  ExpectMottakError(upload(Multipart({{"payload", "", "application/xml", "<Melding/>"}})), 400,
                    "CLIENTERROR-10001", "null");
  ExpectMottakError(
      upload(
          Multipart({{"payload", "", "application/xml",
                      "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaa\">]><Melding/>"}})),
      400, "CLIENTERROR-10001", "null");
  // Another organisation as Avsender.
  ExpectMottakError(upload(Multipart({{"payload", "", "application/xml",
                                       UploadXml(kOrgB, "ffffffffeeeeeeeeddddddddcccccccc")}})),
                    400, "CLIENTERROR-10001", "null");
  ExpectMottakError(upload(Multipart({{"attachments", "a.txt", "text/plain", "x"}})), 400,
                    "CLIENTERROR-10002", "null");
  ExpectMottakError(
      upload(Multipart({{"payload", "", "application/xml", valid}}), "multipart/form-data"), 400,
      "CLIENTERROR-10002", "null");
  const std::string whole = Multipart({{"payload", "", "application/xml", valid}});
  ExpectMottakError(upload(whole.substr(0, whole.size() / 2)), 400, "CLIENTERROR-10002", "null");
  auto unsupported =
      upload(Multipart({{"payload", "", "application/xml", valid},
                        {"attachments", "x.exe", "application/x-msdownload", "MZ"}}));
  EXPECT_EQ(unsupported.status, 415) << unsupported.body;
  EXPECT_NE(unsupported.body.find("Unsupported file type(s): application/x-msdownload"),
            std::string::npos)
      << unsupported.body;
  auto too_large = upload(
      Multipart({{"payload", "", "application/xml", valid},
                 {"attachments", "big.txt", "text/plain", std::string((35u << 20) + 1, 'x')}}));
  ExpectMottakError(too_large, 413, "CLIENTERROR-10003", "null");
  // Nothing of the refused uploads was stored: the valid one is new.
  auto stored = upload(whole);
  EXPECT_EQ(stored.status, 200) << stored.body;
}

TEST_F(MottakTest, TokensAreRefusedWithTheExactHeaders) {
  auto none = server_->Get("/outbound/available", {{"Authorization", ""}});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("www-authenticate"), http::auth_api::kBrregNoToken);
  // A valid token without brreg:mottak is 401 at Brreg, not 403.
  auto wrong_scope = server_->Get("/outbound/available",
                                  {{"Authorization", "Bearer " + server_->Token(kFregScope)}});
  EXPECT_EQ(wrong_scope.status, 401);
  EXPECT_EQ(wrong_scope.Header("www-authenticate"), http::auth_api::kBrregInvalidToken);
  auto garbage = server_->Get("/outbound/available", {{"Authorization", "Bearer x.y.z"}});
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(garbage.Header("www-authenticate"), http::auth_api::kBrregInvalidToken);
  // Consumers cannot publish.
  auto consumer =
      server_->Post("/norreg/mottak/v1/svar", ReplyXml(kOrgA, "x"),
                    {{"Content-Type", "application/xml"}, {"Authorization", As(kOrgA)}});
  EXPECT_EQ(consumer.status, 401);
}

TEST_F(MottakTest, ConcurrentConfirmsHaveExactlyOneWinner) {
  constexpr int kRounds = 20;
  constexpr int kClients = 6;
  const std::string token = As(kOrgA);
  for (int round = 0; round < kRounds; ++round) {
    const std::string id =
        Publish(kOrgA, "5555555566666666777777778888888" + std::to_string(round % 10));
    std::atomic<int> ok{0}, lost{0}, other{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        auto r = server_->Request("PUT", "/outbound/confirm?mottakId=" + id, "",
                                  {{"Authorization", token}});
        if (r.status == 200) {
          ++ok;
        } else if (r.status == 500 && r.body.find("ERROR-00005") != std::string::npos) {
          ++lost;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), kClients - 1) << "round " << round;
    EXPECT_EQ(other.load(), 0) << "round " << round;
  }
}

// Confirmed replies are deleted after the retention (`--mottak-retention 0`: at the next sweep,
// within a few seconds); unconfirmed ones stay.
TEST(MottakRetentionTest, ConfirmedRepliesAreDeletedAfterTheRetention) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--demo-persons", "5", "--mottak-retention", "0"});
  const std::string producer = "Bearer " + server.Token("norreg:mottak");
  const std::string consumer = "Bearer " + server.Token(kMottakScope, std::string("0192:") + kOrgA);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = server.Post("/norreg/mottak/v1/svar", ReplyXml(kOrgA, "r" + std::to_string(i)),
                         {{"Content-Type", "application/xml"}, {"Authorization", producer}});
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(r.body.substr(r.body.find("\"mottakId\":\"") + 12, 36));
  }
  auto call = [&](const std::string& method, const std::string& path) {
    return server.Request(method, path, "", {{"Authorization", consumer}});
  };
  ASSERT_EQ(call("PUT", "/outbound/confirm?mottakId=" + ids[0]).status, 200);
  long status = 200;
  for (int i = 0; i < 100 && status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = call("GET", "/outbound/download?mottakId=" + ids[0]).status;
  }
  EXPECT_EQ(status, 404);
  EXPECT_EQ(call("GET", "/outbound/download?mottakId=" + ids[1]).status, 200);
  EXPECT_NE(call("GET", "/outbound/available").body.find(ids[1]), std::string::npos);
}

}  // namespace
}  // namespace norreg::testing
