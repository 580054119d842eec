#pragma once
// Path routing over a segment trie (no regex). Patterns are '/'-separated segments; a segment
// `{name}` captures one whole non-empty decoded segment, every other segment is a literal.
//
// Matching rules:
// - literal segments beat parameters at every depth, with backtracking on the path (given
//   `/p/arkiv/{dok}` and `/p/{id}`: "/p/arkiv/x" -> the first, "/p/123" and "/p/arkiv" -> the
//   second);
// - the path is matched first, the method after: when the winning pattern has no route for the
//   method, the answer is 405 even if a less specific pattern would take the method;
// - a trailing slash is ignored ("/p/123/" == "/p/123"); empty middle segments never match;
// - HEAD falls back to the GET route when no HEAD route exists;
// - a path that matches some pattern but not for this method -> kMethodNotAllowed with the
//   methods that pattern allows (for the Allow header); else kNotFound.
//
// Thread-safety: Add() during setup only; Find() is const and safe from any thread afterwards.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "http/request.hpp"

namespace norreg::http {

// A handler: parse the Request, call the domain, serialise. Expected failures are Errors (the
// API's error renderer shapes them); exceptions become a logged 500.
using Handler = std::function<Result<Response>(Request&)>;

// Where a streaming route's request body goes (Dispatcher::AddStreaming): Write receives the body
// in pieces as it arrives (any sizes, in order; at most the body limit in total), then Finish once
// it is complete and gives the answer. An error from Write ends the request with that error; the
// rest of the body is not read. The sink is destroyed when the request ends, finished or not (a
// client that goes away mid-body): whatever it still holds (temporary files) it cleans up then.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(std::string_view bytes) = 0;
  virtual Result<Response> Finish() = 0;
};

// A streaming route's handler: runs once the header is in and the before-steps passed, before
// any of the body is read; returns the sink for the body, or an Error answered at once.
using StreamHandler = std::function<Result<std::unique_ptr<BodySink>>(Request&)>;

struct Route {
  Method method = Method::kGet;
  std::string pattern;
  RouteInfo info;
  Handler handler;       // empty when `stream` is set
  StreamHandler stream;  // set: the body is handed over as it arrives (see BodySink)
  std::vector<std::string> param_names;  // in pattern order
  std::uint32_t slot = 0;                // opaque tag for the caller (metrics slot)
};

class Router {
 public:
  static constexpr std::size_t kMaxSegments = 32;  // deeper patterns are rejected
  static constexpr std::size_t kMaxParams = 16;

  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. kInvalidInput when the pattern does not start with '/', has an empty or
  // malformed segment ("{", "{}", "a{b}"), repeats a parameter name, or when the same
  // (method, pattern shape) is already registered, or when neither `handler` nor `stream` is set.
  // kOther is not routable.
  Status Add(Method method, std::string_view pattern, RouteInfo info, Handler handler,
             std::uint32_t slot = 0, StreamHandler stream = {});

  enum class Outcome { kFound, kNotFound, kMethodNotAllowed };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    const Route* route = nullptr;  // kFound
    // kFound: captured values (views into the request's path; valid while it lives), same
    // order as route->param_names.
    std::array<std::string_view, kMaxParams> captures{};
    std::size_t capture_count = 0;
    // kMethodNotAllowed: "GET, HEAD, POST" (HEAD listed whenever GET is).
    std::string allow;
  };

  // Matches the request's decoded segments (Request::segment()). Does not modify the request.
  Match Find(Method method, const Request& request) const;

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

  struct Node;  // opaque trie node (public only so the matcher in router.cpp can name it)

 private:
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace norreg::http
