// Private to the slot server: the live session and the handles of keys found on it.
// Dropping a Live closes the session and forgets its handles in one step.
#pragma once

#include <ferrohsm/client/session.h>
#include <ferrohsm/client/slot_server.h>

#include <map>
#include <string>
#include <utility>

namespace ferrohsm::client {

struct SlotServer::Live {
  explicit Live(Session s) : session(std::move(s)) {}
  Session session;
  std::map<std::pair<CK_OBJECT_CLASS, std::string>, CK_OBJECT_HANDLE> keys;  // (class, label) → handle
};

}  // namespace ferrohsm::client
