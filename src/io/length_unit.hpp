#pragma once
// Length units as microscopy files spell them (ImageJ, OME-XML, BigDataViewer,
// Imaris). Private to src/io.

#include <string>

namespace h5decon::io::detail {

/// Micrometres per `unit` (micron, um, µm, micrometer, nm, mm, ...); 0 for
/// "pixel" and anything that is not a length.
inline double micrometres_per(const std::string& unit) {
  const std::pair<const char*, double> known[] = {
      {"micron", 1},      {"microns", 1},     {"um", 1},         {"\xC2\xB5m", 1},
      {"\xCE\xBCm", 1},   {"\\u00B5m", 1},    {"micrometer", 1}, {"micrometre", 1},
      {"micrometers", 1}, {"nm", 1e-3},       {"nanometer", 1e-3}, {"nanometers", 1e-3},
      {"mm", 1e3},        {"millimeter", 1e3}, {"cm", 1e4},      {"m", 1e6},
      {"meter", 1e6},     {"inch", 25400}};
  for (const auto& [name, um] : known)
    if (unit == name) return um;
  return 0;
}

}  // namespace h5decon::io::detail
