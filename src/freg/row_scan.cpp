#include "freg/row_scan.hpp"

namespace norreg::freg {

bool StringMember(std::string_view json, std::string_view key, std::string_view& out) {
  bool is_string = false;
  return RowScanner(json).Find(key, out, is_string) && is_string;
}

bool ObjectMember(std::string_view json, std::string_view key, std::string_view& out) {
  bool is_string = false;
  return RowScanner(json).Find(key, out, is_string) && !is_string && !out.empty() && out[0] == '{';
}

}  // namespace norreg::freg
