#include "http/handlers/register/register_api.hpp"

#include "http/error_mapping.hpp"

namespace norreg::http::register_api {

Status RegisterApi(Dispatcher& dispatcher, service::PersonImporter& importer,
                   std::vector<BeforeStep> before) {
  if (Status s = dispatcher.AddApi(
          ApiSpec{std::string(kApi), std::string(kBasePath), std::move(before), &RenderFregError});
      !s.ok()) {
    return s;
  }
  return dispatcher.Add(Method::kPost, std::string(kBasePath) + "/personer",
                        // A durable write (the register syncs its log on commit).
                        RouteInfo{std::string(kApi), "register_personer", true},
                        [&importer](Request& request) { return PostPersons(importer, request); });
}

}  // namespace norreg::http::register_api
