#include "ferrohsm/signer/errors.h"

namespace ferrohsm::signer {

namespace {
struct KindName {
  ErrorKind kind;
  std::string_view name;
};
// One table: kind → stable name.
constexpr KindName kKindNames[] = {
    {ErrorKind::kKeyNotFound, "key_not_found"},
    {ErrorKind::kProviderUnavailable, "provider_unavailable"},
    {ErrorKind::kKeyRetired, "key_retired"},
    {ErrorKind::kRotationInProgress, "rotation_in_progress"},
    {ErrorKind::kNoActiveKey, "no_active_key"},
    {ErrorKind::kInvalidArgument, "invalid_argument"},
    {ErrorKind::kInvalidState, "invalid_state"},
    {ErrorKind::kDeadlineExceeded, "deadline_exceeded"},
    {ErrorKind::kCancelled, "cancelled"},
    {ErrorKind::kNotBuilt, "not_built"},
    {ErrorKind::kNotSupported, "not_supported"},
    {ErrorKind::kStateUnavailable, "state_unavailable"},
    {ErrorKind::kInternal, "internal"},
};
}  // namespace

std::string_view error_kind_name(ErrorKind kind) {
  for (const auto& e : kKindNames)
    if (e.kind == kind) return e.name;
  return "internal";
}

}  // namespace ferrohsm::signer
