// The BigDataViewer layout's names and SpimData XML (bdv_export.hpp).
#include <gtest/gtest.h>

#include <string>

#include "h5decon/error.hpp"
#include "h5decon/io/bdv_export.hpp"

using namespace h5decon;
using namespace h5decon::io;

namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(BdvLayout, NamesPathsAsBigDataViewerFormatsThem) {
  EXPECT_EQ(bdv_setup_path(0), "s00");
  EXPECT_EQ(bdv_setup_path(123), "s123");
  EXPECT_EQ(bdv_cells_path(3, 12, 2), "t00003/s12/2/cells");
  EXPECT_EQ(bdv_xml_file("dir/view.h5"), "dir/view.xml");
  EXPECT_EQ(bdv_xml_file("view"), "view.xml");
}

TEST(BdvXml, DescribesEverySetupTimePointAndRegistration) {
  const BdvXmlDescription d{"a&b.h5", Shape5{2, 3, {5, 6, 7}}, {0.4, 0.2, 0.1}, "from x.h5"};
  const std::string xml = bdv_xml(d);
  EXPECT_NE(xml.find("<SpimData version=\"0.2\">"), std::string::npos);
  EXPECT_NE(xml.find("<ImageLoader format=\"bdv.hdf5\">"), std::string::npos);
  EXPECT_NE(xml.find("<hdf5 type=\"relative\">a&amp;b.h5</hdf5>"), std::string::npos);
  EXPECT_EQ(count(xml, "<ViewSetup>"), 2);
  EXPECT_EQ(count(xml, "<size>7 6 5</size>"), 2);        // x y z
  EXPECT_EQ(count(xml, "<size>0.1 0.2 0.4</size>"), 2);  // voxel size, x y z
  EXPECT_EQ(count(xml, "<Channel>"), 2);
  for (const char* entity : {"<Illumination>", "<Tile>", "<Angle>"})  // for BigStitcher
    EXPECT_EQ(count(xml, entity), 1) << entity;
  EXPECT_EQ(count(xml, "<tile>0</tile>"), 2);
  EXPECT_NE(xml.find("<last>2</last>"), std::string::npos);
  EXPECT_EQ(count(xml, "<ViewRegistration "), 6);
  EXPECT_EQ(count(xml, "<affine>0.1 0 0 0 0 0.2 0 0 0 0 0.4 0</affine>"), 6);
  EXPECT_NE(xml.find("<!-- from x.h5 -->"), std::string::npos);
}

TEST(BdvXml, RefusesACommentAnXmlParserWouldReject) {
  EXPECT_THROW(bdv_xml({"a.h5", Shape5{1, 1, {1, 1, 1}}, {1, 1, 1}, "a -- b"}), Error);
}
