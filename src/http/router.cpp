#include "http/router.hpp"

#include <algorithm>
#include <span>
#include <utility>

namespace norreg::http {
struct Router::Node {
  // Sorted by literal for binary search; fan-out is small, so a flat vector beats a map.
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;
  std::unique_ptr<Node> param;
  std::array<const Route*, kMethodCount> by_method{};

  Node* Literal(std::string_view seg) const {
    auto it = std::lower_bound(literals.begin(), literals.end(), seg,
                               [](const auto& e, std::string_view s) { return e.first < s; });
    if (it != literals.end() && it->first == seg) return it->second.get();
    return nullptr;
  }
  bool Terminal() const {
    return std::any_of(by_method.begin(), by_method.end(), [](const Route* r) { return r; });
  }
};

namespace {

constexpr std::size_t kMaxParams = Router::kMaxParams;

struct Search {
  std::span<const std::string_view> segs;
  std::array<std::string_view, kMaxParams> caps;
  std::size_t ncaps = 0;
  const Router::Node* found = nullptr;
};

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Status Router::Add(Method method, std::string_view pattern, RouteInfo info, Handler handler,
                   std::uint32_t slot, StreamHandler stream) {
  auto bad = [&](std::string_view why) {
    return Status(MakeError(ErrorCode::kInvalidInput, std::string("route ") + std::string(pattern) +
                                                          ": " + std::string(why)));
  };
  if (method == Method::kOther) return bad("method not routable");
  if (pattern.empty() || pattern.front() != '/') return bad("must start with '/'");
  if (!handler && !stream) return bad("no handler");
  std::string_view rest = pattern.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // trailing slash

  auto route = std::make_unique<Route>();
  Node* node = root_.get();
  std::size_t depth = 0;
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg.empty()) return bad("empty segment");
    if (++depth > kMaxSegments) return bad("too many segments");
    if (seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}') return bad("malformed parameter");
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name.find_first_of("{}") != std::string_view::npos) return bad("malformed parameter");
      if (std::find(route->param_names.begin(), route->param_names.end(), name) !=
          route->param_names.end()) {
        return bad("repeated parameter name");
      }
      if (route->param_names.size() >= kMaxParams) return bad("too many parameters");
      route->param_names.emplace_back(name);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) return bad("malformed segment");
      Node* child = node->Literal(seg);
      if (!child) {
        auto it = std::lower_bound(node->literals.begin(), node->literals.end(), seg,
                                   [](const auto& e, std::string_view s) { return e.first < s; });
        it = node->literals.emplace(it, std::string(seg), std::make_unique<Node>());
        child = it->second.get();
      }
      node = child;
    }
    if (slash == std::string_view::npos) break;
  }
  auto& entry = node->by_method[static_cast<std::size_t>(method)];
  if (entry) return bad("already registered for this method");
  route->method = method;
  route->pattern = std::string(pattern);
  route->info = std::move(info);
  route->handler = std::move(handler);
  route->stream = std::move(stream);
  route->slot = slot;
  entry = route.get();
  routes_.push_back(std::move(route));
  return Status::Ok();
}

namespace {

// Path first: the first node (literals before parameters, depth first) that ends the path and
// has any route. The method is checked afterwards, so a path never falls through to a parameter
// route just because its literal route has another method (that is a 405).
bool Dfs(const Router::Node* node, std::size_t i, Search& s) {
  if (i == s.segs.size()) {
    if (!node->Terminal()) return false;
    s.found = node;
    return true;
  }
  std::string_view seg = s.segs[i];
  if (seg.empty()) return false;
  if (const Router::Node* child = node->Literal(seg)) {
    if (Dfs(child, i + 1, s)) return true;
  }
  if (node->param && s.ncaps < kMaxParams) {
    s.caps[s.ncaps++] = seg;
    if (Dfs(node->param.get(), i + 1, s)) return true;
    --s.ncaps;
  }
  return false;
}

}  // namespace

Router::Match Router::Find(Method method, const Request& request) const {
  std::array<std::string_view, kMaxSegments> segs;
  std::size_t n = request.segment_count();
  Match m;
  if (n > kMaxSegments) return m;
  for (std::size_t i = 0; i < n; ++i) segs[i] = request.segment(i);
  Search s{std::span<const std::string_view>(segs.data(), n)};
  if (!Dfs(root_.get(), 0, s)) return m;
  const auto& bm = s.found->by_method;
  const Route* r = method == Method::kOther ? nullptr : bm[static_cast<std::size_t>(method)];
  if (!r && method == Method::kHead) r = bm[static_cast<std::size_t>(Method::kGet)];
  if (r) {
    m.outcome = Outcome::kFound;
    m.route = r;
    m.captures = s.caps;
    m.capture_count = s.ncaps;
    return m;
  }
  m.outcome = Outcome::kMethodNotAllowed;
  for (std::size_t i = 0; i + 1 < kMethodCount; ++i) {
    auto mm = static_cast<Method>(i);
    bool allowed = bm[i] != nullptr ||
                   (mm == Method::kHead && bm[static_cast<std::size_t>(Method::kGet)] != nullptr);
    if (!allowed) continue;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += MethodName(mm);
  }
  return m;
}

}  // namespace norreg::http
