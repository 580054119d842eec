// libFuzzer target for what a Folkeregisteret request carries from outside: the request target
// (path + query string, percent-decoding), the `part` values, and bulk bodies in JSON and XML
// (ReadIdList). The first input byte picks the body's Content-Type. Any answer is a pass; a crash
// or sanitizer report is a failure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/ids.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "http/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool xml = (data[0] & 1) != 0;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  // First line: the request target; the rest: the body.
  const auto newline = input.find('\n');
  std::string_view target = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);

  norreg::http::Request request;
  if (request.SetTarget(target).ok()) {
    (void)request.QueryAll("part");
    for (const norreg::freg::Package& package : norreg::freg::Packages()) {
      (void)norreg::http::freg_api::PartsFromQuery(request, package);
    }
    for (std::size_t i = 0; i < request.segment_count(); ++i) (void)request.segment(i);
  }
  request.AddHeader("Content-Type", xml ? "application/xml" : "application/json");
  request.body = std::string(body);
  auto ids = norreg::http::freg_api::ReadIdList(request, "foedselsEllerDNummer");
  if (ids.ok()) {
    for (const auto& id : *ids) (void)norreg::ids::FnrProblem(id);
  }
  return 0;
}
