#pragma once
// Serial writing of attributes on an existing HDF5 object (generated PSFs).

#include <map>
#include <string>
#include <vector>

namespace h5decon::io {

/// Attributes to attach to one object: float64 arrays (one value: a scalar) and strings.
struct AttributeSet {
  std::map<std::string, std::vector<double>> numbers;  ///< name -> values (float64)
  std::map<std::string, std::string> strings;          ///< name -> text (variable-length UTF-8)
};

/// Writes every attribute of `set` on the object at `path` of `file` (which must
/// exist), replacing attributes of the same name. Serial, like io::write_array.
/// Throws IoError naming file, object and attribute.
void write_attributes(const std::string& file, const std::string& path, const AttributeSet& set);

}  // namespace h5decon::io
