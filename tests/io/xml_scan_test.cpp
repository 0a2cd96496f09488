// The metadata XML scanner (src/io/xml_scan.hpp) on what BigDataViewer and
// OME-TIFF writers produce: prefixes, nesting, empty elements, entities.
#include <gtest/gtest.h>

#include "io/xml_scan.hpp"

using namespace h5decon::io::detail;

TEST(XmlScan, FindsElementsTheirTextAndAttributes) {
  const std::string xml =
      "<?xml version=\"1.0\"?><Root><A id=\"1\" name='x &amp; y'> one </A>"
      "<A id=\"2\"/><B><A id=\"3\">three<C>c</C></A></B></Root>";
  const auto found = xml_elements(xml, "A");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].attribute("id"), "1");
  EXPECT_EQ(found[0].attribute("name"), "x & y");
  EXPECT_EQ(xml_text(found[0].content), "one");
  EXPECT_EQ(found[1].attribute("id"), "2");
  EXPECT_TRUE(found[1].content.empty());
  EXPECT_EQ(found[2].child_text("C"), "c");
  EXPECT_FALSE(found[2].attribute("name").has_value());
  EXPECT_FALSE(found[0].child_text("C").has_value());
}

TEST(XmlScan, IgnoresNamespacePrefixesAndCountsNesting) {
  const std::string xml =
      "<ome:OME><ome:Image><ome:Pixels SizeZ=\"5\" DimensionOrder=\"XYZCT\">"
      "<ome:Channel Name=\"DAPI\"/><ome:Channel Name=\"&#181;-GFP\"/></ome:Pixels></ome:Image>"
      "<Group><Group>inner</Group></Group></ome:OME>";
  const auto pixels = xml_elements(xml, "Pixels");
  ASSERT_EQ(pixels.size(), 1u);
  EXPECT_EQ(pixels[0].attribute("SizeZ"), "5");
  EXPECT_FALSE(pixels[0].attribute("Z").has_value());  // not a suffix of SizeZ
  const auto channels = pixels[0].children("Channel");
  ASSERT_EQ(channels.size(), 2u);
  EXPECT_EQ(channels[1].attribute("Name"), "\xC2\xB5-GFP");
  const auto groups = xml_elements(xml, "Group");
  ASSERT_EQ(groups.size(), 1u);  // the outer one, with the inner inside its content
  EXPECT_EQ(xml_text(groups[0].content), "<Group>inner</Group>");
}
