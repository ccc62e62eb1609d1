#include "byte_io.h"

#include "base/base64.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

namespace ferrohsm::cli {

Result<Bytes> read_input(const std::string& path) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error(CKR_ARGUMENTS_BAD, "cannot read " + path);
  Bytes out;
  uint8_t buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.insert(out.end(), buf, buf + n);
    if (out.size() > kMaxInput) break;
  }
  const bool failed = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (failed) return make_error(CKR_ARGUMENTS_BAD, "cannot read " + (path == "-" ? std::string("stdin") : path));
  if (out.size() > kMaxInput)
    return make_error(CKR_DATA_LEN_RANGE, (path == "-" ? std::string("stdin") : path) + " is over " +
                                              std::to_string(kMaxInput) + " bytes");
  return out;
}

Status write_output(const std::string& path, ByteView bytes) {
  if (path == "-") {
    std::cout.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    if (!std::cout) return make_error(CKR_FUNCTION_FAILED, "cannot write to stdout");
    return {};
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return make_error(CKR_ARGUMENTS_BAD, "cannot write " + path);
  return {};
}

std::string pem_block(const std::string& what, ByteView der) {
  std::string b64 = to_base64(der), out = "-----BEGIN " + what + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + what + "-----\n";
}

}  // namespace ferrohsm::cli
