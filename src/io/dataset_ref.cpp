// "FILE.h5:/path" parsing and the names of element types.
#include <cctype>

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
  if (ref.file == spec) {  // no ':/': "out.h5:data" is a forgotten '/', not a file name
    const auto colon = spec.rfind(':');
    if (colon != std::string::npos && colon + 1 < spec.size()) {
      std::string stem = spec.substr(0, colon);
      for (char& ch : stem) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      for (const char* ext : {".h5", ".hdf5", ".hdf", ".he5", ".ims", ".nxs"})
        H5DECON_REQUIRE(!stem.ends_with(ext), InputError, "'", spec,
                        "': a dataset path starts with '/'; did you mean '",
                        spec.substr(0, colon + 1), "/", spec.substr(colon + 1), "'?");
    }
  }
  H5DECON_REQUIRE(ref.path.find_first_not_of('/') != std::string::npos, InputError, "'", spec,
                  "' names the root group '/', not a dataset; give FILE.h5:/path/to/dataset");
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
