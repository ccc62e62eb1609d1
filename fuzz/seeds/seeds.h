// The seed writer's helpers (make fuzz-seeds): where seeds go, and byte builders.
#pragma once

#include <ferrohsm/cryptoki.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/module.h"

namespace ferrohsm::fuzz::seeds {

using Bytes = std::vector<uint8_t>;

// Writes <corpus dir>/<harness>/<name>.
void save(const char* harness, const std::string& name, const Bytes& b);
void save_text(const char* harness, const std::string& name, const std::string& text);

Bytes counting(size_t n, uint8_t from = 0);
Bytes str(const char* s);
Bytes ulongs(std::initializer_list<CK_ULONG> v);
template <typename T>
Bytes raw_struct(const T& t) {
  return Bytes(reinterpret_cast<const uint8_t*>(&t), reinterpret_cast<const uint8_t*>(&t) + sizeof t);
}

inline const Bytes kP256 = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
inline const Bytes kEd25519 = {0x06, 0x03, 0x2b, 0x65, 0x70};
inline const Bytes kX25519 = {0x06, 0x03, 0x2b, 0x65, 0x6e};

void template_seeds();
void mech_seeds(Module& m);  // seeds/mech.cc
void op_state_seeds(Module& m);
void config_seeds();

}  // namespace ferrohsm::fuzz::seeds
