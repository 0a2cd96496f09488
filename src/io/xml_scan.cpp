// A scanner for the small, machine-written XML of microscopy metadata.
#include "io/xml_scan.hpp"

#include <cctype>
#include <cstdint>

namespace h5decon::io::detail {
namespace {

bool is_name_end(char ch) {
  return ch == '>' || ch == '/' || std::isspace(static_cast<unsigned char>(ch));
}

// The position of the next start tag of `tag` (or `prefix:tag`) at or after
// `from`, at its '<'; npos when none.
std::size_t find_start(std::string_view xml, std::string_view tag, std::size_t from) {
  for (std::size_t at = xml.find('<', from); at != std::string_view::npos;
       at = xml.find('<', at + 1)) {
    std::size_t name = at + 1;
    std::size_t end = name;
    while (end < xml.size() && !is_name_end(xml[end])) ++end;
    std::string_view full = xml.substr(name, end - name);
    if (const auto colon = full.find(':'); colon != std::string_view::npos)
      full = full.substr(colon + 1);
    if (full == tag) return at;
  }
  return std::string_view::npos;
}

// The end tag </tag> or </prefix:tag> closing the element whose content starts
// at `from`, counting nested elements of the same name; npos when none.
std::size_t find_end(std::string_view xml, std::string_view tag, std::size_t from) {
  int depth = 1;
  for (std::size_t at = xml.find('<', from); at != std::string_view::npos;
       at = xml.find('<', at + 1)) {
    const bool closing = at + 1 < xml.size() && xml[at + 1] == '/';
    std::size_t name = at + (closing ? 2 : 1);
    std::size_t end = name;
    while (end < xml.size() && !is_name_end(xml[end])) ++end;
    std::string_view full = xml.substr(name, end - name);
    if (const auto colon = full.find(':'); colon != std::string_view::npos)
      full = full.substr(colon + 1);
    if (full != tag) continue;
    if (closing) {
      if (--depth == 0) return at;
    } else {
      const std::size_t close = xml.find('>', end);
      if (close != std::string_view::npos && xml[close - 1] != '/') ++depth;
    }
  }
  return std::string_view::npos;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string xml_text(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semi == std::string_view::npos) {
      out += text[i];
      continue;
    }
    const std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.starts_with("#x") || entity.starts_with("#X"))
      append_utf8(out, static_cast<std::uint32_t>(std::stoul(std::string(entity.substr(2)), nullptr, 16)));
    else if (entity.starts_with("#"))
      append_utf8(out, static_cast<std::uint32_t>(std::stoul(std::string(entity.substr(1)))));
    else {
      out += text[i];
      continue;
    }
    i = semi;
  }
  return out;
}

std::vector<XmlElement> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<XmlElement> out;
  std::size_t from = 0;
  for (std::size_t at = find_start(xml, tag, from); at != std::string_view::npos;
       at = find_start(xml, tag, from)) {
    const std::size_t close = xml.find('>', at);
    if (close == std::string_view::npos) break;
    std::size_t name_end = at + 1;
    while (name_end < close && !is_name_end(xml[name_end])) ++name_end;
    XmlElement e;
    const bool empty = xml[close - 1] == '/';
    e.attributes = xml.substr(name_end, close - name_end - (empty ? 1 : 0));
    if (empty) {
      from = close + 1;
    } else {
      const std::size_t end = find_end(xml, tag, close + 1);
      if (end == std::string_view::npos) break;  // unterminated: what was found stands
      e.content = xml.substr(close + 1, end - close - 1);
      from = end + 1;
    }
    out.push_back(e);
  }
  return out;
}

std::optional<std::string> XmlElement::attribute(std::string_view name) const {
  for (std::size_t at = attributes.find(name); at != std::string_view::npos;
       at = attributes.find(name, at + 1)) {
    const bool starts = at == 0 || std::isspace(static_cast<unsigned char>(attributes[at - 1]));
    std::size_t i = at + name.size();
    while (i < attributes.size() && std::isspace(static_cast<unsigned char>(attributes[i]))) ++i;
    if (!starts || i >= attributes.size() || attributes[i] != '=') continue;
    ++i;
    while (i < attributes.size() && std::isspace(static_cast<unsigned char>(attributes[i]))) ++i;
    if (i >= attributes.size() || (attributes[i] != '"' && attributes[i] != '\'')) continue;
    const char quote = attributes[i];
    const std::size_t end = attributes.find(quote, i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return xml_text(attributes.substr(i + 1, end - i - 1));
  }
  return std::nullopt;
}

std::optional<std::string> XmlElement::child_text(std::string_view tag) const {
  const std::vector<XmlElement> found = xml_elements(content, tag);
  if (found.empty()) return std::nullopt;
  return xml_text(found.front().content);
}

std::vector<XmlElement> XmlElement::children(std::string_view tag) const {
  return xml_elements(content, tag);
}

}  // namespace h5decon::io::detail
