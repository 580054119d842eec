// libFuzzer target for the mailbox's XML (mottak/melding.hpp): any bytes go through ParseMelding
// and ParseKvittering. A crash, sanitizer report or a broken contract (abort) is a failure: a
// Melding that parses renders, and what it renders parses back to the same rendering.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mottak/melding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace norreg::mottak;
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  (void)ParseKvittering(xml);
  auto melding = ParseMelding(xml);
  if (!melding.ok()) return 0;
  auto rendered = RenderMelding(*melding);
  if (!rendered.ok()) std::abort();
  auto again = ParseMelding(*rendered);
  if (!again.ok()) std::abort();
  auto rendered_again = RenderMelding(*again);
  if (!rendered_again.ok() || *rendered_again != *rendered) std::abort();
  return 0;
}
