#pragma once
// Just enough XML for the metadata microscopy files carry (BigDataViewer's
// SpimData, OME-XML): elements by name, their attributes and text. No DTDs, no
// namespaces beyond a prefix ignored on element names. Private to src/io.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h5decon::io::detail {

/// One element: its start tag's attribute text and its content (between the
/// start and end tags; empty for <tag/>).
struct XmlElement {
  std::string_view attributes;
  std::string_view content;

  /// The attribute `name`'s value, entities decoded; nullopt when absent.
  std::optional<std::string> attribute(std::string_view name) const;
  /// The content of the first child element `tag` (any depth), decoded and trimmed.
  std::optional<std::string> child_text(std::string_view tag) const;
  /// Every element `tag` inside this one (see xml_elements).
  std::vector<XmlElement> children(std::string_view tag) const;
};

/// Every element named `tag` (or `prefix:tag`) in `xml`, in document order; an
/// element's own descendants of the same name are not listed separately.
std::vector<XmlElement> xml_elements(std::string_view xml, std::string_view tag);

/// `text` with &amp; &lt; &gt; &quot; &apos; and numeric references decoded and
/// surrounding white space removed.
std::string xml_text(std::string_view text);

}  // namespace h5decon::io::detail
