#include "harness.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include "client/token_client.hpp"
#include "store/postgres/pg.hpp"

namespace norreg::testing {
namespace {

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

pid_t Spawn(std::vector<std::string> args, int* out_fd, bool keep_stderr = true) {
  int pipe_fds[2];
  // Close-on-exec: no other child inherits either end, so the reader sees EOF when this one exits.
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    if (keep_stderr) {
      dup2(pipe_fds[1], STDERR_FILENO);
    } else {
      int null_fd = open("/dev/null", O_WRONLY);
      dup2(null_fd, STDERR_FILENO);
      close(null_fd);
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    auto argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  *out_fd = pipe_fds[0];
  return pid;
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

// --- the store the tests run on ---
namespace {

// NORREG_TEST_PG with its database name replaced by `database`.
std::string WithDatabase(const std::string& server, const std::string& database) {
  const auto scheme = server.find("://");
  const auto path = server.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return server + "/" + database;
  const auto query = server.find('?', path);
  return server.substr(0, path + 1) + database +
         (query == std::string::npos ? "" : server.substr(query));
}

// The databases made for data folders, by folder; each is dropped with the TempDir holding it.
class Databases {
 public:
  static Databases& Get() {
    // Never destroyed: TempDirs of static lifetime may still drop their databases at exit.
    static Databases* const databases = new Databases;
    return *databases;
  }
  const std::string& server() const { return server_; }

  // The URL of `data_dir`'s database, created on first use.
  std::string For(const std::string& data_dir) {
    std::lock_guard lock(mu_);
    const std::string folder = Folder(data_dir);
    auto it = names_.find(folder);
    if (it == names_.end()) {
      const std::string name = NameOf(folder);
      if (Admin("CREATE DATABASE " + name)) it = names_.emplace(folder, name).first;
      if (it == names_.end()) return "";
    }
    return WithDatabase(server_, it->second);
  }

  void Copy(const std::string& from, const std::string& to) {
    std::lock_guard lock(mu_);
    auto it = names_.find(Folder(from));
    if (it == names_.end()) return;  // `from` never had a database
    const std::string name = NameOf(Folder(to));
    if (Admin("CREATE DATABASE " + name + " TEMPLATE " + it->second)) {
      names_.emplace(Folder(to), name);
    }
  }

  // Drops the databases of `root` and the folders below it.
  void DropUnder(const std::string& root) {
    std::lock_guard lock(mu_);
    const std::string prefix = Folder(root);
    for (auto it = names_.begin(); it != names_.end();) {
      const bool below = it->first == prefix || it->first.starts_with(prefix + "/");
      if (below) {
        Admin("DROP DATABASE IF EXISTS " + it->second + " WITH (FORCE)");
        it = names_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  Databases() {
    const char* server = std::getenv("NORREG_TEST_PG");
    server_ = server != nullptr ? server : "";
  }
  static std::string Folder(const std::string& data_dir) {
    return std::filesystem::weakly_canonical(std::filesystem::absolute(data_dir)).string();
  }
  // "nft_<pid>_<hash of the folder>": unique per folder and test process.
  static std::string NameOf(const std::string& folder) {
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(folder));
    return "nft_" + std::to_string(getpid()) + "_" + hash;
  }
  bool Admin(const std::string& sql) {
    auto admin = store::pg::Connection::Open(server_);
    if (!admin.ok()) {
      ADD_FAILURE() << "PostgreSQL (NORREG_TEST_PG): " << admin.error().detail;
      return false;
    }
    Status done = admin->Exec(sql);
    EXPECT_TRUE(done.ok()) << sql << ": " << done.error().detail;
    return done.ok();
  }

  std::mutex mu_;
  std::string server_;
  std::map<std::string, std::string> names_;
};

// Skips every test of a PostgreSQL run when there is no server to run it on.
class StoreEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!OnPostgres()) return;
    const std::string& server = Databases::Get().server();
    if (server.empty()) {
      GTEST_SKIP() << "NORREG_TEST_STORE=postgresql but NORREG_TEST_PG is unset (scripts/test.sh "
                      "starts a throwaway cluster and sets it)";
    }
    ASSERT_TRUE(server.starts_with("postgresql://") || server.starts_with("postgres://"))
        << "NORREG_TEST_PG must be a postgresql:// URI: " << server;
  }
};
[[maybe_unused]] const auto* const kStoreEnvironment =
    ::testing::AddGlobalTestEnvironment(new StoreEnvironment);

// The subcommands that take the register's `--db`.
bool TakesDb(const std::string& command) {
  return command == "serve" || command == "generate" || command == "import" ||
         command == "rotate-signing-key" || command == "audit";
}

// `args` with `--db <the data folder's database>` added when they are for one of TakesDb's
// subcommands, name a `--data` folder and no `--db` (on PostgreSQL only).
std::vector<std::string> WithStore(std::vector<std::string> args) {
  if (!OnPostgres()) return args;
  auto command = std::find_if(args.begin(), args.end(), TakesDb);
  if (command == args.end() || std::find(args.begin(), args.end(), "--db") != args.end()) {
    return args;
  }
  auto data = std::find(command, args.end(), "--data");
  if (data == args.end() || data + 1 == args.end()) return args;
  const std::vector<std::string> store = StoreArgs(*(data + 1));
  args.insert(args.end(), store.begin(), store.end());
  return args;
}

}  // namespace

bool OnPostgres() {
  static const bool on = [] {
    const char* store = std::getenv("NORREG_TEST_STORE");
    return store != nullptr && std::string(store) == "postgresql";
  }();
  return on;
}

std::vector<std::string> StoreArgs(const std::string& data_dir) {
  if (!OnPostgres()) return {};
  return {"--db", Databases::Get().For(data_dir)};
}

void CopyDataFolder(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  if (OnPostgres()) Databases::Get().Copy(from, to);
}

int64_t CountMottakRows(const std::string& data_dir, const std::string& sql) {
  int64_t n = -1;
  if (OnPostgres()) {
    auto db = store::pg::Connection::Open(Databases::Get().For(data_dir));
    if (!db.ok()) return n;
    auto rows = db->Query(sql.c_str());
    if (rows.ok() && rows->rows() > 0) n = rows->Int64(0, 0);
    return n;
  }
  return SqliteCount(data_dir + "/mottak/mottak.db", sql);
}

int64_t SqliteCount(const std::string& file, const std::string& sql) {
  int64_t n = -1;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

namespace {

int RunToCompletion(const std::vector<std::string>& args, std::string* output, bool keep_stderr) {
  std::vector<std::string> full{NORREG_BINARY};
  const std::vector<std::string> with_store = WithStore(args);
  full.insert(full.end(), with_store.begin(), with_store.end());
  int fd = -1;
  pid_t pid = Spawn(full, &fd, keep_stderr);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output != nullptr) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int RunNorreg(const std::vector<std::string>& args, std::string* output) {
  return RunToCompletion(args, output, true);
}

int RunNorregStdout(const std::vector<std::string>& args, std::string* output) {
  return RunToCompletion(args, output, false);
}

ScopedEnv::ScopedEnv(const char* name, const std::string& value) : name_(name) {
  if (const char* old = std::getenv(name)) old_ = old;
  setenv(name, value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (old_) {
    setenv(name_.c_str(), old_->c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "norreg-test-XXXXXX").string();
  path_ = mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  if (OnPostgres()) Databases::Get().DropUnder(path_);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ServerProcess::ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra,
                             int startup_timeout_s)
    : data_dir_(data_dir) {
  std::vector<std::string> args{NORREG_BINARY, "serve",    "--data",
                                data_dir,      "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_ = Spawn(WithStore(std::move(args)), &out_fd_);
  reader_ = std::thread([this] { ReadOutput(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(startup_timeout_s);
  static const std::regex kAddress(R"(listening on http://127\.0\.0\.1:(\d+))");
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::smatch m;
    const std::string output = Output();
    if (std::regex_search(output, m, kAddress)) {
      port_ = std::stoi(m[1]);
      base_url_ = "http://127.0.0.1:" + std::to_string(port_);
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (reader_.joinable()) reader_.join();
      ADD_FAILURE() << "norreg serve exited early:\n" << Output();
      return;
    }
  }
  ADD_FAILURE() << "norreg serve did not start in time:\n" << Output();
}

ServerProcess::~ServerProcess() {
  Stop();
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

int ServerProcess::Stop() {
  PauseOutput(false);
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  int result = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool exited = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited = true;
      result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  // The server has closed its end: what it wrote last (e.g. a sanitizer report) is in Output().
  if (reader_.joinable()) reader_.join();
  return result;
}

void ServerProcess::ReadOutput() {
  char buf[65536];
  for (;;) {
    {
      std::unique_lock lock(output_mu_);
      output_cv_.wait(lock, [this] { return !output_paused_; });
    }
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    std::lock_guard lock(output_mu_);
    output_.append(buf, static_cast<size_t>(n));
  }
}

void ServerProcess::PauseOutput(bool paused) {
  {
    std::lock_guard lock(output_mu_);
    output_paused_ = paused;
  }
  output_cv_.notify_all();
}

std::string ServerProcess::Output() {
  std::lock_guard lock(output_mu_);
  return output_;
}

HttpResponse ServerProcess::Get(const std::string& path,
                                const std::map<std::string, std::string>& headers) {
  return Request("GET", path, "", headers);
}

HttpResponse ServerProcess::Post(const std::string& path, const std::string& body,
                                 const std::map<std::string, std::string>& headers) {
  return Request("POST", path, body, headers);
}

std::string ServerProcess::Token(const std::string& scope, const std::string& org) {
  const std::string key = scope + "|" + org;
  if (auto it = tokens_.find(key); it != tokens_.end()) return it->second;
  // The issuer comes from <data>/auth/server.json (it may be configured); the endpoint is ours.
  auto options = client::DemoTokenClientOptions(data_dir_, scope, org, "");
  EXPECT_TRUE(options.ok()) << options.error().message;
  if (!options.ok()) return "";
  options->token_endpoint = base_url_ + "/token";
  options->cache_file.clear();
  client::TokenClient tokens(std::move(options).value());
  auto token = tokens.Token(scope);
  EXPECT_TRUE(token.ok()) << token.error().message;
  if (!token.ok()) return "";
  return tokens_[key] = *token;
}

HttpResponse ServerProcess::Request(const std::string& method, const std::string& path,
                                    const std::string& body,
                                    const std::map<std::string, std::string>& headers) {
  HttpResponse response;
  bool has_authorization = false;
  for (const auto& [name, value] : headers) {
    has_authorization = has_authorization || strcasecmp(name.c_str(), "authorization") == 0;
  }
  std::string authorization;
  if (!has_authorization && std::filesystem::exists(data_dir_ + "/auth/server.json")) {
    authorization = "Authorization: Bearer " + Token();
  }
  CURL* curl = curl_easy_init();
  std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT" || !body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  bool has_accept = false;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    has_accept = has_accept || lower == "accept";
    // "Name:" with nothing after the colon makes curl send no such header at all.
    list = curl_slist_append(list, (value.empty() ? name + ":" : name + ": " + value).c_str());
  }
  if (!authorization.empty()) list = curl_slist_append(list, authorization.c_str());
  if (!has_accept) list = curl_slist_append(list, "Accept:");  // no Accept header by default
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  } else if (response.body.empty()) {
    response.body = std::string("(no answer: curl: ") + curl_easy_strerror(rc) + ")";
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return response;
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string RawExchange(int port, const std::string& bytes, int timeout_ms) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  (void)!write(fd, bytes.data(), bytes.size());
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string Multipart(const std::vector<Part>& parts) {
  std::string body;
  for (const Part& part : parts) {
    body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" +
            part.name + "\"";
    if (!part.filename.empty()) body += "; filename=\"" + part.filename + "\"";
    body += "\r\nContent-Type: " + part.content_type + "\r\n\r\n" + part.content + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

std::string UploadXml(const std::string& from, const std::string& id) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id=")" +
         id + R"(" tjeneste="Tinglysing" tjenestehandling="innsending">
  <Mottaker id="974760673" idType="orgnr">Brønnøysundregistrene</Mottaker>
  <Avsender id=")" +
         from + R"(" idType="orgnr">Avsender AS</Avsender>
  <Innhold><Data format="text/plain">Søknad</Data></Innhold>
</Melding>
)";
}

std::string ReplyXml(const std::string& to, const std::string& original_id, const std::string& id,
                     const std::string& text) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id=")" +
         id + R"(" tjeneste="Tinglysing" tjenestehandling="vedtak">
  <Mottaker id=")" +
         to + R"(" idType="orgnr">Mottaker AS</Mottaker>
  <Avsender id="974760673" idType="orgnr">Brønnøysundregistrene</Avsender>
  <Referanse referanse=")" +
         original_id + R"(" referanseType="MeldingsReferanse"/>
  <Innhold><Data format="text/plain">)" +
         text + R"(</Data></Innhold>
</Melding>
)";
}

int RunShell(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace norreg::testing
