#include "auth/principal.hpp"

namespace norreg::auth {

bool Principal::HasScope(std::string_view wanted) const {
  // A wanted scope with a space would span two tokens.
  if (wanted.empty() || wanted.find(' ') != std::string_view::npos) return false;
  const std::string_view all(scope);
  std::size_t pos = 0;
  while ((pos = all.find(wanted, pos)) != std::string_view::npos) {
    const std::size_t end = pos + wanted.size();
    const bool starts = pos == 0 || all[pos - 1] == ' ';
    const bool ends = end == all.size() || all[end] == ' ';
    if (starts && ends) return true;
    pos += 1;
  }
  return false;
}

}  // namespace norreg::auth
