#pragma once
// Natural order of file names: runs of digits compare as numbers, so "z2" comes
// before "z10" (as file browsers sort them).

#include <cctype>
#include <string>

namespace h5decon {

/// True when `a` comes before `b` in natural order.
inline bool natural_less(const std::string& a, const std::string& b) {
  auto digit = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; };
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::size_t ia = i, jb = j;  // leading zeros do not count
      while (ia + 1 < ie && a[ia] == '0') ++ia;
      while (jb + 1 < je && b[jb] == '0') ++jb;
      if (ie - ia != je - jb) return ie - ia < je - jb;
      const int order = a.compare(ia, ie - ia, b, jb, je - jb);
      if (order != 0) return order < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace h5decon
