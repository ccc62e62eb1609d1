#include "ferrohsm/signer/signing_key.h"

namespace ferrohsm::signer {

namespace {
struct StateName {
  KeyState state;
  std::string_view name;
};
// One table: state ↔ name (as stored in SQLite and shown in the API).
constexpr StateName kStateNames[] = {
    {KeyState::kPending, "pending"},
    {KeyState::kActive, "active"},
    {KeyState::kRetiring, "retiring"},
    {KeyState::kRetired, "retired"},
};
}  // namespace

std::string_view key_state_name(KeyState state) {
  for (const auto& s : kStateNames)
    if (s.state == state) return s.name;
  return "unknown";
}

std::optional<KeyState> parse_key_state(std::string_view name) {
  for (const auto& s : kStateNames)
    if (s.name == name) return s.state;
  return std::nullopt;
}

}  // namespace ferrohsm::signer
