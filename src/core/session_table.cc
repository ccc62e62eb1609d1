#include "core/session_table.h"

#include <mutex>

namespace ferrohsm {

void SessionTable::add(SessionPtr s) {
  Shard& sh = shard(s->handle());
  std::unique_lock lock(sh.mu);
  sh.map.emplace(s->handle(), std::move(s));
}

SessionPtr SessionTable::get(CK_SESSION_HANDLE h) const {
  Shard& sh = shard(h);
  std::shared_lock lock(sh.mu);
  auto it = sh.map.find(h);
  return it == sh.map.end() ? nullptr : it->second;
}

SessionPtr SessionTable::remove(CK_SESSION_HANDLE h) {
  Shard& sh = shard(h);
  std::unique_lock lock(sh.mu);
  auto it = sh.map.find(h);
  if (it == sh.map.end()) return nullptr;
  SessionPtr s = std::move(it->second);
  sh.map.erase(it);
  return s;
}

std::vector<SessionPtr> SessionTable::all() const {
  std::vector<SessionPtr> out;
  for (Shard& sh : shards_) {
    std::shared_lock lock(sh.mu);
    for (const auto& [h, s] : sh.map) out.push_back(s);
  }
  return out;
}

std::vector<SessionPtr> SessionTable::on_slot(CK_SLOT_ID slot) const {
  std::vector<SessionPtr> out;
  for (Shard& sh : shards_) {
    std::shared_lock lock(sh.mu);
    for (const auto& [h, s] : sh.map)
      if (s->slot_id() == slot) out.push_back(s);
  }
  return out;
}

}  // namespace ferrohsm
