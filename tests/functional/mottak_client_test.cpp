// The mottak consumer (client/mottak_client.hpp and `norreg mottak`) against the real binary:
// send with attachments, poll the automatic receipt, a poller killed between the write and the
// confirm, and two pollers of one organisation at the same time.
#include "client/mottak_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "client/token_client.hpp"
#include "harness.hpp"
#include "mottak/melding.hpp"
#include "mottak/zip.hpp"

namespace norreg::testing {
namespace {

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// The reply Melding inside a reply ZIP.
mottak::Melding ReplyIn(const std::string& zip) {
  auto entries = mottak::ReadZip(zip);
  EXPECT_TRUE(entries.ok()) << entries.error().message;
  if (!entries.ok()) return {};
  for (const auto& entry : *entries) {
    if (entry.name != "henvendelse.xml") continue;
    auto melding = mottak::ParseMelding(entry.content);
    EXPECT_TRUE(melding.ok()) << melding.error().message;
    if (melding.ok()) return *melding;
  }
  ADD_FAILURE() << "no henvendelse.xml";
  return {};
}

std::string Referanse(const mottak::Melding& melding) {
  for (const auto& r : melding.referanser) {
    if (r.referanse_type == "MeldingsReferanse") return r.referanse;
  }
  return {};
}

// A library client of the server for one organisation (token client included).
struct Consumer {
  Consumer(const ServerProcess& server, const std::string& org, const std::string& state_dir) {
    auto token_options =
        client::DemoTokenClientOptions(server.data_dir(), kMottakScope, "0192:" + org, "");
    EXPECT_TRUE(token_options.ok()) << token_options.error().message;
    token_options->token_endpoint = server.base_url() + "/token";
    token_options->cache_file.clear();
    tokens = std::make_unique<client::TokenClient>(std::move(*token_options));
    options.base_url = server.base_url();
    options.tokens = client::TokenSourceFor(*tokens, kMottakScope);
    options.state_dir = state_dir;
  }
  std::unique_ptr<client::TokenClient> tokens;
  client::MottakClientOptions options;
};

class MottakClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new ServerProcess(dir_->path(), std::vector<std::string>{"--demo-persons", "5"});
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  void SetUp() override {
    work_ = std::make_unique<TempDir>();
    state_ = work_->path() + "/state";
    out_ = work_->path() + "/ut";
  }

  // The organisation's available list (raw JSON).
  static std::string Available(const std::string& org) {
    return server_
        ->Request("GET", "/outbound/available", "",
                  {{"Authorization", "Bearer " + server_->Token(kMottakScope, "0192:" + org)}})
        .body;
  }

  // Sends `count` Meldinger (fresh ids) with the library; returns their meldingIds.
  std::vector<std::string> SendMany(const Consumer& consumer, const std::string& org, int count) {
    const std::string file = work_->path() + "/m.xml";
    WriteFile(file, UploadXml(org, "0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) {
      auto sent = client::SendMelding(consumer.options, file, {}, true);
      EXPECT_TRUE(sent.ok()) << sent.error().message;
      if (sent.ok()) ids.push_back(sent->melding_id);
    }
    return ids;
  }

  static TempDir* dir_;
  static ServerProcess* server_;
  std::unique_ptr<TempDir> work_;
  std::string state_;
  std::string out_;
};
TempDir* MottakClientTest::dir_ = nullptr;
ServerProcess* MottakClientTest::server_ = nullptr;

TEST_F(MottakClientTest, SendWithAttachmentsThenPollTheReceipt) {
  const std::string org = "310000019";
  const std::string melding = work_->path() + "/søknad.xml";
  const std::string melding_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
  WriteFile(melding, UploadXml(org, melding_id));
  WriteFile(work_->path() + "/skjema.pdf", std::string("%PDF-1.4\0\x01", 10));
  WriteFile(work_->path() + "/notat.txt", "hei");
  std::string mottak_id;
  ASSERT_EQ(
      RunNorregStdout({"mottak", "send", melding, work_->path() + "/skjema.pdf",
                       work_->path() + "/notat.txt", "--state", state_, "--url",
                       server_->base_url(), "--data", server_->data_dir(), "--org", "0192:" + org},
                      &mottak_id),
      0)
      << mottak_id;
  ASSERT_EQ(mottak_id.size(), 37u) << mottak_id;  // only the id and a newline
  mottak_id.pop_back();

  // --url comes from <data>/auth/server.json.
  std::string lines;
  ASSERT_EQ(RunNorregStdout({"mottak", "poll", "--once", "--out", out_, "--state", state_, "--data",
                             server_->data_dir(), "--org", org},
                            &lines),
            0)
      << lines;
  const auto files = Files(out_);
  ASSERT_EQ(files.size(), 1u);
  const std::string reply_id = files.begin()->substr(0, 36);
  EXPECT_EQ(lines,
            reply_id + " " + out_ + "/" + reply_id + ".zip svar på " + melding + " (kvittering)\n");
  const mottak::Melding reply = ReplyIn(ReadFile(out_ + "/" + reply_id + ".zip"));
  EXPECT_EQ(reply.tjenestehandling, "kvittering");
  EXPECT_EQ(Referanse(reply), melding_id);
  EXPECT_NE(reply.innhold.data.find(mottak_id), std::string::npos) << reply.innhold.data;
  // Confirmed: no longer available, and a second poll has nothing to do.
  EXPECT_EQ(Available(org).find(reply_id), std::string::npos);
  lines.clear();
  ASSERT_EQ(RunNorregStdout({"mottak", "poll", "--once", "--out", out_, "--state", state_, "--data",
                             server_->data_dir(), "--org", org},
                            &lines),
            0);
  EXPECT_EQ(lines, "");
  EXPECT_EQ(Files(out_).size(), 1u);

  // A file type the service does not take is refused before sending (exit code 2).
  WriteFile(work_->path() + "/x.exe", "MZ");
  std::string ignored;
  EXPECT_EQ(RunNorregStdout({"mottak", "send", melding, work_->path() + "/x.exe", "--state", state_,
                             "--data", server_->data_dir(), "--org", org},
                            &ignored),
            2);
}

TEST_F(MottakClientTest, APollKilledBeforeItsConfirmLosesNothing) {
  const std::string org = "310000027";
  Consumer consumer(*server_, org, state_);
  const auto sent = SendMany(consumer, org, 3);
  ASSERT_EQ(sent.size(), 3u);

  client::PollOptions poll;
  poll.out_dir = out_;
  poll.stop_after_writes = 1;
  auto killed = client::PollMailbox(consumer.options, poll);
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  EXPECT_EQ(killed->written, 1);
  EXPECT_EQ(killed->confirmed, 0);
  const auto after_kill = Files(out_);
  ASSERT_EQ(after_kill.size(), 1u);
  const std::string first = *after_kill.begin();
  const std::string first_bytes = ReadFile(out_ + "/" + first);
  EXPECT_NE(Available(org).find(first.substr(0, 36)), std::string::npos);  // not confirmed

  poll.stop_after_writes = 0;
  std::vector<client::PolledReply> replies;
  auto resumed = client::PollMailbox(consumer.options, poll,
                                     [&](const client::PolledReply& r) { replies.push_back(r); });
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->written, 3);
  EXPECT_EQ(resumed->confirmed, 3);
  EXPECT_EQ(Files(out_).size(), 3u);
  EXPECT_EQ(Available(org), "[]");
  // Each sent message is answered exactly once in the folder, and each report names it.
  std::multiset<std::string> answered;
  for (const std::string& name : Files(out_)) {
    answered.insert(Referanse(ReplyIn(ReadFile(out_ + "/" + name))));
  }
  EXPECT_EQ(answered, std::multiset<std::string>(sent.begin(), sent.end()));
  ASSERT_EQ(replies.size(), 3u);
  for (const auto& reply : replies) {
    EXPECT_EQ(reply.answers_file, work_->path() + "/m.xml");
    EXPECT_EQ(reply.tjenestehandling, "kvittering");
  }
  // The re-downloaded reply is byte for byte the one written before the "crash".
  EXPECT_EQ(ReadFile(out_ + "/" + first), first_bytes);
}

TEST_F(MottakClientTest, TwoPollersAtOnceFetchEveryReplyExactlyOnce) {
  const std::string org = "310000035";
  Consumer sender(*server_, org, state_);
  const auto sent = SendMany(sender, org, 8);
  ASSERT_EQ(sent.size(), 8u);

  Consumer a(*server_, org, state_);
  Consumer b(*server_, org, state_);
  std::mutex mutex;
  std::vector<std::string> reported;
  std::vector<Result<client::PollSummary>> results;
  std::vector<std::thread> pollers;
  for (Consumer* consumer : {&a, &b}) {
    pollers.emplace_back([&, consumer] {
      client::PollOptions poll;
      poll.out_dir = out_;
      auto summary =
          client::PollMailbox(consumer->options, poll, [&](const client::PolledReply& reply) {
            std::lock_guard lock(mutex);
            reported.push_back(reply.mottak_id);
          });
      std::lock_guard lock(mutex);
      results.push_back(std::move(summary));
    });
  }
  for (auto& t : pollers) t.join();
  int confirmed = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().message;
    confirmed += result->confirmed;
  }
  EXPECT_GE(confirmed, 8);
  EXPECT_EQ(Available(org), "[]");
  const auto files = Files(out_);
  ASSERT_EQ(files.size(), 8u);
  std::multiset<std::string> answered;
  for (const std::string& name : files) {
    answered.insert(Referanse(ReplyIn(ReadFile(out_ + "/" + name))));
  }
  EXPECT_EQ(answered, std::multiset<std::string>(sent.begin(), sent.end()));
  // Every reply was reported by at least one poller, and none that is not in the folder.
  std::set<std::string> reported_files;
  for (const std::string& id : reported) reported_files.insert(id + ".zip");
  EXPECT_EQ(reported_files, files);
}

}  // namespace
}  // namespace norreg::testing
