#pragma once
// Functional-test harness: runs the real `norreg` binary (NORREG_BINARY) as a child process on an
// ephemeral loopback port with its own temporary data folder, and talks HTTP to it with libcurl.
#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace norreg::testing {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const;
};

// The store every functional test runs on. ctest registers each functional test twice (see
// tests/CMakeLists.txt): on SQLite in the data folder (the default), and with
// NORREG_TEST_STORE=postgresql ("pg." before the name) on PostgreSQL: each data folder then has a
// database of its own on the server NORREG_TEST_PG names, created on first use and dropped with its
// TempDir. The harness adds `--db <that database>` to `serve`, `generate`, `import`,
// `rotate-signing-key` and `audit` (RunNorreg, ServerProcess) unless the arguments have a `--db`
// already.
bool OnPostgres();
// {"--db", <data_dir's database>} on PostgreSQL; {} on SQLite.
std::vector<std::string> StoreArgs(const std::string& data_dir);
// Copies the data folder of a stopped server to `to` (which must not exist), and on PostgreSQL its
// database too.
void CopyDataFolder(const std::string& from, const std::string& to);
// The first column of the first row of `sql` on the SQLite file `file`, opened read-only (no lock
// a writer waits for); -1 when it cannot be read.
int64_t SqliteCount(const std::string& file, const std::string& sql);
// The first column of the first row of `sql` on the mailbox's store of `data_dir`: its SQLite file
// <data_dir>/mottak/mottak.db, or the data folder's database on PostgreSQL (the tables are the
// same).
int64_t CountMottakRows(const std::string& data_dir, const std::string& sql);

// Runs `norreg <args...>` to completion; returns exit code, stdout+stderr in `output`.
int RunNorreg(const std::vector<std::string>& args, std::string* output = nullptr);
// Same, with only stdout in `output` (stderr discarded).
int RunNorregStdout(const std::vector<std::string>& args, std::string* output);
// Runs `command` through the shell; returns its exit status and puts stdout+stderr in `output`.
int RunShell(const std::string& command, std::string& output);

inline constexpr const char* kFregScope = "folkeregister:deling/offentligmedhjemmel";

// Sets an environment variable (inherited by the processes started meanwhile) and restores its
// old value at destruction.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// A temporary folder removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ServerProcess {
 public:
  // Starts `norreg serve --data <data_dir> --listen 127.0.0.1:0 <extra...>` and waits until it
  // prints its address (up to `startup_timeout_s`). Aborts the test on failure.
  ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra_args = {},
                int startup_timeout_s = 120);
  ~ServerProcess();  // SIGTERM, then SIGKILL after 20 s

  std::string base_url() const { return base_url_; }
  const std::string& data_dir() const { return data_dir_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits; returns the exit status (or -1).
  int Stop();
  // Everything the server wrote so far (access log, messages). A thread reads the server's output
  // all the time, so a server that logs more than a pipe holds never blocks on its log.
  std::string Output();
  // Stops reading the server's output (its pipe fills, as when a log reader stalls) or goes on.
  // Stop() goes on by itself.
  void PauseOutput(bool paused);

  // An access token from the server's built-in authorisation server for a demo client (the first
  // allowing `scope`, or the one of organisation `org`), fetched with the client library.
  std::string Token(const std::string& scope = kFregScope, const std::string& org = "");

  // Requests carry `Authorization: Bearer <Token()>` unless `headers` has an Authorization entry
  // (an empty value sends no Authorization header at all) or the server has no built-in
  // authorisation server.
  HttpResponse Get(const std::string& path, const std::map<std::string, std::string>& headers = {});
  HttpResponse Post(const std::string& path, const std::string& body,
                    const std::map<std::string, std::string>& headers = {
                        {"Content-Type", "application/json"}});
  HttpResponse Request(const std::string& method, const std::string& path, const std::string& body,
                       const std::map<std::string, std::string>& headers);

 private:
  // Reads out_fd_ into output_ until the server closes its end.
  void ReadOutput();
  std::string data_dir_;
  std::map<std::string, std::string> tokens_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::mutex output_mu_;
  std::condition_variable output_cv_;
  bool output_paused_ = false;  // guarded by output_mu_
  std::string output_;          // guarded by output_mu_
  std::thread reader_;
  std::string base_url_;
  int port_ = 0;
};

// Brreg mottak: the consumer scope, two demo organisations, and Melding documents.
inline constexpr const char* kMottakScope = "brreg:mottak";
inline constexpr const char* kOrgA = "310000019";
inline constexpr const char* kOrgB = "310000027";
// An upload (tjenestehandling innsending) from organisation `from` with Melding id `id`.
std::string UploadXml(const std::string& from, const std::string& id);
// A reply (vedtak) for organisation `to` referring to the uploaded message `original_id`.
std::string ReplyXml(const std::string& to, const std::string& original_id,
                     const std::string& id = "c0ffee00c0ffee00c0ffee00c0ffee00",
                     const std::string& text = "Vedtak: godkjent æøå");

// One part of a multipart/form-data body (a Brreg mottak upload).
struct Part {
  std::string name;
  std::string filename;  // "" = no filename parameter
  std::string content_type;
  std::string content;
};
inline constexpr const char* kBoundary = "norreg-test-boundary-7f3a";
// A multipart/form-data body of `parts` with boundary kBoundary.
std::string Multipart(const std::vector<Part>& parts);

// A TCP connection to 127.0.0.1:port (a socket the caller closes); -1 when it cannot connect.
int ConnectLoopback(int port);

// Sends raw bytes on a fresh TCP connection to 127.0.0.1:port and returns what comes back until
// the server closes or `timeout_ms` passes.
std::string RawExchange(int port, const std::string& bytes, int timeout_ms = 3000);

}  // namespace norreg::testing
