// "FILE.h5:/path" parsing and the names of element types.
#include "h5decon/error.hpp"
#include "h5decon/io/hdf5_io.hpp"

namespace h5decon::io {

DatasetRef DatasetRef::parse(const std::string& spec, const std::string& default_path) {
  // The last ':' followed by '/' splits, so file names that contain ':' keep
  // working as long as a dataset path follows.
  DatasetRef ref{spec, default_path};
  for (std::size_t pos = spec.rfind(':'); pos != std::string::npos;
       pos = pos == 0 ? std::string::npos : spec.rfind(':', pos - 1)) {
    if (pos + 1 < spec.size() && spec[pos + 1] == '/') {
      ref = DatasetRef{spec.substr(0, pos), spec.substr(pos + 1)};
      break;
    }
  }
  H5DECON_REQUIRE(!ref.file.empty(), InputError, "'", spec,
                  "' names no file; expected FILE.h5 or FILE.h5:/path/to/dataset");
  return ref;
}

std::string DatasetRef::str() const { return path.empty() ? file : file + ":" + path; }

std::string to_string(DType t) {
  switch (t) {
    case DType::uint8:
      return "uint8";
    case DType::uint16:
      return "uint16";
    case DType::float32:
      return "float32";
    case DType::int8:
      return "int8";
    case DType::int16:
      return "int16";
    case DType::float64:
      return "float64";
  }
  return "unknown";
}

int dtype_bytes(DType t) {
  switch (t) {
    case DType::uint8:
    case DType::int8:
      return 1;
    case DType::uint16:
    case DType::int16:
      return 2;
    case DType::float64:
      return 8;
    case DType::float32:
      break;
  }
  return 4;
}

SampleType sample_type(DType t) {
  switch (t) {
    case DType::uint8:
      return SampleType::uint8;
    case DType::uint16:
      return SampleType::uint16;
    case DType::int8:
      return SampleType::int8;
    case DType::int16:
      return SampleType::int16;
    case DType::float32:
    case DType::float64:
      break;
  }
  return SampleType::float32;
}

}  // namespace h5decon::io
