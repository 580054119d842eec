// Restarts mid-way (issue 4) against the real binaries: `norreg uttrekk` killed with SIGKILL in
// the middle of an extract continues the same job on a rerun and writes every person exactly
// once; a server restarted (SIGTERM, then started again on the same port and data folder) while
// the client runs is bridged by the client's retries, and the job survives the restart; and the
// 11th concurrent order of one organisation is refused with 429 + Retry-After (SPEC 2.5).
//
// The register is generated once per test process (SetUpTestSuite) and copied into each test's own
// data folder. The client and the restarted server run as child processes started here (the
// harness's ServerProcess always listens on port 0; a restart needs a fixed port).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/local_copy.hpp"
#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

// Persons in the generated register. Big enough that `norreg uttrekk --concurrency 1` runs for
// several seconds under ASan (20 chunks of 1000 bulk lookups), so it can be interrupted mid-way.
constexpr int kPersons = 20000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t CountLines(const std::string& path) {
  const std::string text = ReadFile(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A child process whose stdout and stderr go to a log file. The destructor kills (SIGKILL) and
// reaps it when it still runs.
class Child {
 public:
  Child(std::vector<std::string> args, std::string log_path) : log_path_(std::move(log_path)) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      int null_fd = open("/dev/null", O_RDONLY);
      dup2(null_fd, STDIN_FILENO);
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      close(log);
      close(null_fd);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (Running()) {
      kill(pid_, SIGKILL);
      Wait(seconds(10));
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool Running() {
    if (pid_ <= 0 || status_.has_value()) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      return false;
    }
    return true;
  }
  void Signal(int sig) {
    if (Running()) kill(pid_, sig);
  }
  // The exit code once the child has ended within `timeout` (-1 when it died of a signal);
  // nullopt while it still runs.
  std::optional<int> Wait(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Running() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
    if (!status_.has_value()) return std::nullopt;
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1;
  }
  std::string Log() const { return ReadFile(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Counts the lines of a growing file, reading only what was appended since the last call.
class LineCounter {
 public:
  explicit LineCounter(std::string path) : path_(std::move(path)) {}
  size_t Count() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return lines_;
    in.seekg(static_cast<std::streamoff>(offset_));
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      const auto n = static_cast<size_t>(in.gcount());
      lines_ += static_cast<size_t>(std::count(buf, buf + n, '\n'));
      offset_ += n;
    }
    return lines_;
  }

 private:
  std::string path_;
  size_t offset_ = 0;
  size_t lines_ = 0;
};

// Waits until `out` has at least `min_lines` lines while `child` still runs; returns false when the
// child ended first or after `timeout`.
bool WaitForLines(const std::string& out, Child& child, size_t min_lines, milliseconds timeout) {
  LineCounter counter(out);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && child.Running()) {
    if (counter.Count() >= min_lines) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

// A loopback port that was free a moment ago.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Waits until the server child's log says it serves on `port`. (The "server_listening" log line,
// not the earlier "norreg listening on" banner: that one is printed before the server installs its
// SIGTERM handler, and a SIGTERM in between kills it by the default action.)
bool WaitListening(Child& server, int port, milliseconds timeout) {
  const std::string needle = "server_listening host=127.0.0.1 port=" + std::to_string(port);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && server.Running()) {
    if (server.Log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

std::string JobIdOf(const std::string& summary) {
  static const std::regex kJob(R"(job ([0-9a-f-]{36}),)");
  std::smatch m;
  return std::regex_search(summary, m, kJob) ? m[1].str() : std::string();
}

long RetriesOf(const std::string& summary) {
  static const std::regex kRetries(R"(persons/s\), (\d+) retries)");
  std::smatch m;
  return std::regex_search(summary, m, kRetries) ? std::stol(m[1]) : -1;
}

// The number of a person document: the current identifikasjonsnummer row's foedselsEllerDNummer
// (erGjeldende true, else the first row).
std::string PersonNumber(const json::object& person) {
  const auto* rows = person.if_contains("identifikasjonsnummer");
  if (rows == nullptr || !rows->is_array() || rows->as_array().empty()) return {};
  const json::value* chosen = &rows->as_array().front();
  for (const auto& row : rows->as_array()) {
    const auto* current = row.as_object().if_contains("erGjeldende");
    if (current != nullptr && current->is_bool() && current->as_bool()) {
      chosen = &row;
      break;
    }
  }
  const auto* number = chosen->as_object().if_contains("foedselsEllerDNummer");
  return number != nullptr && number->is_string() ? std::string(number->as_string()) : "";
}

// Every line of the NDJSON file is a whole person document, and each of `expected` persons occurs
// exactly once.
void ExpectEveryPersonOnce(const std::string& path, size_t expected) {
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  std::map<std::string, int> seen;
  std::string line;
  size_t lines = 0;
  size_t unparsable = 0;
  size_t without_number = 0;
  while (std::getline(in, line)) {
    ++lines;
    boost::system::error_code ec;
    json::value doc = json::parse(line, ec);
    if (ec || !doc.is_object()) {
      if (++unparsable <= 3) ADD_FAILURE() << "line " << lines << " is not a person document";
      continue;
    }
    std::string number = PersonNumber(doc.as_object());
    if (number.empty()) {
      ++without_number;
      continue;
    }
    ++seen[number];
  }
  EXPECT_EQ(unparsable, 0u);
  EXPECT_EQ(without_number, 0u);
  EXPECT_EQ(lines, expected);
  EXPECT_EQ(seen.size(), expected);
  size_t duplicates = 0;
  for (const auto& [number, count] : seen) {
    if (count != 1 && ++duplicates <= 5) {
      ADD_FAILURE() << number << " occurs " << count << " times";
    }
  }
  EXPECT_EQ(duplicates, 0u);
}

// The ids in all batches of a finished complete extract, as the server serves them.
size_t JobIdCount(ServerProcess& server, const std::string& job) {
  size_t total = 0;
  for (uint64_t n = 0; n < 100; ++n) {
    HttpResponse r;
    for (int attempt = 0; attempt < 600; ++attempt) {
      r = server.Get(Api("/uttrekk/" + job + "/batch/" + std::to_string(n)));
      if (r.status != 404) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    const json::value answer = json::parse(r.body);
    const auto* ids = answer.as_object().if_contains("dokumentidentifikator");
    if (ids == nullptr || ids->as_array().empty()) break;
    total += ids->as_array().size();
  }
  return total;
}

std::vector<std::string> UttrekkArgs(const std::string& base_url, const std::string& data,
                                     const std::string& out) {
  return {"uttrekk", "--url", base_url, "--data", data, "--out", out, "--concurrency", "1"};
}

std::vector<std::string> WithBinary(std::vector<std::string> args) {
  args.insert(args.begin(), NORREG_BINARY);
  return args;
}

// One raw HTTP/1.1 answer.
struct RawAnswer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

RawAnswer ParseRaw(const std::string& raw) {
  RawAnswer answer;
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      answer.headers[name] = value;
    }
    pos = eol + 2;
  }
  answer.body = raw.substr(end + 4);
  return answer;
}

// Sends the same GET on `count` connections opened beforehand, back to back, so that the server
// handles them at (nearly) the same time; returns the answers.
std::vector<RawAnswer> Burst(int port, const std::string& path, const std::string& token,
                             int count) {
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
      "\r\nAuthorization: Bearer " + token + "\r\nConnection: close\r\n\r\n";
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds.push_back(fd);
  }
  for (int fd : fds) EXPECT_EQ(write(fd, request.data(), request.size()), ssize_t(request.size()));
  std::vector<RawAnswer> answers;
  for (int fd : fds) {
    std::string raw;
    const auto deadline = Clock::now() + seconds(30);
    while (Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[8192];
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      raw.append(buf, static_cast<size_t>(n));
    }
    close(fd);
    answers.push_back(ParseRaw(raw));
  }
  return answers;
}

// Rows committed in a local copy (0 when it cannot be read yet), read without taking any lock a
// writer would wait for.
int64_t CommittedRows(const std::string& db) {
  return std::max<int64_t>(0, SqliteCount(db, "SELECT count(*) FROM persons"));
}

class ConsumerRestartTest : public ::testing::Test {
 protected:
  // Generates the register once per process: a server started on an empty folder generates the
  // demo population, then stops.
  static void SetUpTestSuite() {
    template_dir_ = std::make_unique<TempDir>();
    ServerProcess server(template_dir_->path(), {"--demo-persons", std::to_string(kPersons)}, 240);
    ASSERT_GT(server.port(), 0);
    // An answer means Run() has started (the banner comes before the SIGTERM handler).
    ASSERT_EQ(server.Get("/health/ready").status, 200) << server.Output();
    ASSERT_EQ(server.Stop(), 0) << server.Output();
    generated_ = true;
  }
  static void TearDownTestSuite() { template_dir_.reset(); }

  // A copy of the generated register in this test's own folder.
  std::string NewDataFolder() {
    const std::string data = dir_.path() + "/data";
    CopyDataFolder(template_dir_->path(), data);
    std::error_code ec;
    fs::remove(data + "/auth/token-cache.json", ec);
    return data;
  }

  static inline std::unique_ptr<TempDir> template_dir_;
  static inline bool generated_ = false;
  TempDir dir_;
};

TEST_F(ConsumerRestartTest, ClientKilledMidExtractResumesExactlyOnce) {
  ASSERT_TRUE(generated_) << "the register could not be generated";
  const std::string data = NewDataFolder();
  ServerProcess server(data);
  ASSERT_GT(server.port(), 0);
  const std::string out = dir_.path() + "/x.ndjson";
  const auto args = UttrekkArgs(server.base_url(), data, out);

  Child first(WithBinary(args), dir_.path() + "/first.log");
  ASSERT_TRUE(WaitForLines(out, first, kPersons / 4, seconds(120)))
      << "the extract ended (or stalled) before it could be killed mid-way; make kPersons bigger\n"
      << first.Log();
  first.Signal(SIGKILL);
  ASSERT_EQ(first.Wait(seconds(10)).value_or(-2), -1) << first.Log();
  const size_t lines_at_kill = CountLines(out);
  const std::string checkpoint = ReadFile(out + ".checkpoint");
  ASSERT_LT(lines_at_kill, static_cast<size_t>(kPersons));
  // "v1 <jobbId> komplett <seq> ... <persons> <done>": the job the rerun must continue.
  std::istringstream fields(checkpoint);
  std::string version, killed_job;
  fields >> version >> killed_job;
  ASSERT_EQ(version, "v1") << checkpoint;
  std::cout << "killed with " << lines_at_kill << " lines written; checkpoint: " << checkpoint;
  // The kill usually lands between chunks; a crash in the middle of a write leaves lines past the
  // checkpoint and a torn last line. Make sure of that case: a whole copy of the first person
  // plus half of it again.
  {
    std::ifstream in(out, std::ios::binary);
    std::string first_line;
    std::getline(in, first_line);
    ASSERT_FALSE(first_line.empty());
    std::ofstream append(out, std::ios::binary | std::ios::app);
    append << first_line << '\n' << first_line.substr(0, first_line.size() / 2);
  }

  std::string summary;
  ASSERT_EQ(RunNorreg(args, &summary), 0) << summary;
  EXPECT_NE(summary.find("(resumed)"), std::string::npos) << summary;
  const std::string job = JobIdOf(summary);
  EXPECT_EQ(job, killed_job) << summary;  // the same job continued, not a new order
  EXPECT_NE(summary.find(std::to_string(kPersons) + " persons"), std::string::npos) << summary;

  ExpectEveryPersonOnce(out, kPersons);
  // The number of persons as the server sees it: the ids of the job's batches.
  EXPECT_EQ(JobIdCount(server, job), static_cast<size_t>(kPersons));
}

// With a local copy the rows since the last checkpoint are in one open transaction, committed
// with the next checkpoint: a kill loses both together, and the rerun fills the copy exactly.
TEST_F(ConsumerRestartTest, ClientKilledMidExtractIntoALocalCopyResumesExactlyOnce) {
  ASSERT_TRUE(generated_) << "the register could not be generated";
  const std::string data = NewDataFolder();
  ServerProcess server(data);
  ASSERT_GT(server.port(), 0);
  const std::string out = dir_.path() + "/x.ndjson";
  const std::string db = dir_.path() + "/copy.db";
  auto args = UttrekkArgs(server.base_url(), data, out);
  args.insert(args.end(), {"--db", db, "--checkpoint-interval", "0.2"});

  Child first(WithBinary(args), dir_.path() + "/first.log");
  ASSERT_TRUE(WaitForLines(out, first, kPersons / 4, seconds(120)))
      << "the extract ended (or stalled) before it could be killed mid-way; make kPersons bigger\n"
      << first.Log();
  // Killed after a checkpoint committed some rows (so both committed and uncommitted rows
  // exist), if one comes within 2 s; read-only, so the poll never waits for the writer's lock.
  const auto deadline = std::chrono::steady_clock::now() + seconds(2);
  while (CommittedRows(db) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  first.Signal(SIGKILL);
  ASSERT_EQ(first.Wait(seconds(10)).value_or(-2), -1) << first.Log();
  int64_t rows_at_kill = 0;
  {
    auto copy = client::LocalCopy::Open(db);
    ASSERT_TRUE(copy.ok()) << copy.error().message;
    rows_at_kill = *(*copy)->Count();
    EXPECT_LT(rows_at_kill, kPersons);
    EXPECT_FALSE((*copy)->GetMeta(client::kMetaFeedSekvensnummer)->has_value());
  }

  std::string summary;
  ASSERT_EQ(RunNorreg(args, &summary), 0) << summary;
  EXPECT_NE(summary.find("(resumed)"), std::string::npos) << summary;
  ExpectEveryPersonOnce(out, kPersons);
  auto copy = client::LocalCopy::Open(db);
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(*(*copy)->Count(), kPersons);
  EXPECT_TRUE((*copy)->GetMeta(client::kMetaFeedSekvensnummer)->has_value());
  // The copy holds the same persons as the NDJSON, each under its current number.
  std::ifstream in(out, std::ios::binary);
  std::string line;
  size_t checked = 0;
  while (std::getline(in, line)) {
    const std::string number = PersonNumber(json::parse(line).as_object());
    auto stored = (*copy)->Document(number);
    ASSERT_TRUE(stored.ok() && stored->has_value()) << number;
    EXPECT_EQ(**stored, line) << number;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<size_t>(kPersons));
  std::cout << "killed with " << rows_at_kill << " rows in the copy\n";
}

TEST_F(ConsumerRestartTest, ServerRestartedMidExtractClientFinishes) {
  ASSERT_TRUE(generated_) << "the register could not be generated";
  const std::string data = NewDataFolder();
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string base_url = "http://127.0.0.1:" + std::to_string(port);
  // The same issuer for both runs: the signing keys persist in <data>/auth, so the client's token
  // stays valid across the restart.
  std::vector<std::string> serve{NORREG_BINARY,      "serve",
                                 "--data",           data,
                                 "--listen",         "127.0.0.1:" + std::to_string(port),
                                 "--issuer",         base_url + "/",
                                 "--shutdown-grace", "5"};
  for (std::string& arg : StoreArgs(data)) serve.push_back(std::move(arg));
  const std::string out = dir_.path() + "/x.ndjson";

  auto server = std::make_unique<Child>(serve, dir_.path() + "/server1.log");
  ASSERT_TRUE(WaitListening(*server, port, seconds(120))) << server->Log();
  Child client(WithBinary(UttrekkArgs(base_url, data, out)), dir_.path() + "/client.log");
  ASSERT_TRUE(WaitForLines(out, client, kPersons / 4, seconds(120)))
      << "the extract ended (or stalled) before the server could be restarted; make kPersons "
         "bigger\n"
      << client.Log();

  server->Signal(SIGTERM);
  const auto stopped = server->Wait(seconds(30));
  EXPECT_EQ(stopped.value_or(-2), 0) << server->Log();
  const size_t lines_at_stop = CountLines(out);
  EXPECT_LT(lines_at_stop, static_cast<size_t>(kPersons));
  // The client keeps trying while the server is down.
  std::this_thread::sleep_for(seconds(1));
  EXPECT_TRUE(client.Running()) << client.Log();

  server = std::make_unique<Child>(serve, dir_.path() + "/server2.log");
  ASSERT_TRUE(WaitListening(*server, port, seconds(60))) << server->Log();
  const auto exit_code = client.Wait(seconds(120));
  ASSERT_TRUE(exit_code.has_value()) << "client still running\n" << client.Log();
  const std::string summary = client.Log();
  ASSERT_EQ(*exit_code, 0) << summary;
  std::cout << "server stopped with " << lines_at_stop
            << " lines written; client: " << summary.substr(summary.rfind("norreg uttrekk: job"));
  EXPECT_GT(RetriesOf(summary), 0) << summary;  // the restart was bridged by retries
  EXPECT_EQ(summary.find("started over"), std::string::npos) << summary;  // same job
  const std::string job = JobIdOf(summary);
  ASSERT_FALSE(job.empty()) << summary;

  server->Signal(SIGTERM);
  EXPECT_EQ(server->Wait(seconds(30)).value_or(-2), 0) << server->Log();
  server.reset();

  ExpectEveryPersonOnce(out, kPersons);
  // The finished job is still served after yet another restart, with every person.
  ServerProcess check(data);
  ASSERT_GT(check.port(), 0);
  EXPECT_EQ(JobIdCount(check, job), static_cast<size_t>(kPersons));
}

TEST_F(ConsumerRestartTest, EleventhConcurrentOrderOfAnOrganisationIs429WithRetryAfter) {
  ASSERT_TRUE(generated_) << "the register could not be generated";
  const std::string data = NewDataFolder();
  // One worker: the jobs queue behind each other. Enough io threads to take the orders at once.
  ServerProcess server(data, {"--uttrekk-workers", "1", "--threads", "12"});
  ASSERT_GT(server.port(), 0);
  auto latest = server.Get(Api("/hendelser/siste/sekvensnummer"));
  ASSERT_EQ(latest.status, 200) << latest.body;
  const std::string order = Api("/uttrekk/komplett?feedsekvensnr=" + latest.body);

  std::vector<std::string> orgs;
  const auto clients = json::parse(ReadFile(data + "/auth/clients.json")).as_object();
  for (const auto& c : clients.at("clients").as_array()) {
    for (const auto& scope : c.at("scopes").as_array()) {
      if (scope.as_string() == kFregScope) orgs.emplace_back(c.at("orgnr").as_string());
    }
  }
  ASSERT_GE(orgs.size(), 2u);
  const std::string token_a = server.Token(kFregScope, orgs[0]);
  const std::string token_b = server.Token(kFregScope, orgs[1]);

  const std::vector<RawAnswer> answers = Burst(server.port(), order, token_a, 11);
  int accepted = 0;
  std::vector<const RawAnswer*> refused;
  for (const auto& a : answers) {
    if (a.status == 200) {
      ++accepted;
    } else {
      EXPECT_EQ(a.status, 429) << a.body;
      if (a.status == 429) refused.push_back(&a);
    }
  }
  EXPECT_EQ(accepted, 10);
  ASSERT_EQ(refused.size(), 1u) << "all 11 accepted: the first jobs finished before the 11th "
                                   "order (timing); make the register bigger";
  const RawAnswer& limited = *refused.front();
  const auto retry_after = limited.headers.find("retry-after");
  ASSERT_NE(retry_after, limited.headers.end());
  ASSERT_TRUE(std::regex_match(retry_after->second, std::regex("[0-9]+"))) << retry_after->second;
  const long retry_ms = std::stol(retry_after->second);
  EXPECT_GT(retry_ms, 0);
  EXPECT_EQ(limited.headers.at("content-type").rfind("application/json", 0), 0u);
  const auto body = json::parse(limited.body).as_object();
  EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
  EXPECT_FALSE(body.at("melding").as_string().empty());

  // The limit is per organisation: another one may order meanwhile.
  auto other = server.Get(order, {{"Authorization", "Bearer " + token_b}});
  EXPECT_EQ(other.status, 200) << other.body;

  // It counts unfinished jobs only: once they are done, the organisation may order again.
  HttpResponse again;
  const auto deadline = Clock::now() + seconds(120);
  do {
    std::this_thread::sleep_for(milliseconds(std::min(retry_ms, 2000L)));
    again = server.Get(order, {{"Authorization", "Bearer " + token_a}});
  } while (again.status == 429 && Clock::now() < deadline);
  EXPECT_EQ(again.status, 200) << again.body;
}

}  // namespace
}  // namespace norreg::testing
