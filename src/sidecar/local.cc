// What the library answers itself in sidecar mode: C_GetInfo (it describes the library,
// not the server) and C_WaitForSlotEvent, which watches the server's slots — a token
// created, deleted or gone with its server is an event — by asking every 200 ms, and
// which C_Finalize wakes. And the two calls wrapped around their wire call:
// C_GetSlotList (no server reachable: no slots) and C_GenerateRandom (any length, in
// pieces that fit a message).
#include "sidecar/functions.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

namespace ferrohsm::sidecar {
namespace {

void pad(CK_UTF8CHAR* dst, size_t n, const char* s) {
  std::memset(dst, ' ', n);
  std::memcpy(dst, s, std::min(n, std::strlen(s)));
}

// Slot id → the serial of the token in it ("" when none), as last seen.
using Snapshot = std::map<CK_SLOT_ID, std::string>;

struct Watch {
  std::mutex mu;
  std::condition_variable cv;
  bool have = false;
  Snapshot last;
  uint64_t wake_epoch = 0;
};
Watch& watch() {
  static Watch w;
  return w;
}

// The server's slots now; an unreachable server has no tokens.
Snapshot look() {
  Snapshot s;
  CK_ULONG n = 0;
  if (sc_C_GetSlotList(CK_FALSE, nullptr, &n) != CKR_OK) return s;
  std::vector<CK_SLOT_ID> ids(n);
  if (sc_C_GetSlotList(CK_FALSE, ids.data(), &n) != CKR_OK) return s;
  ids.resize(n);
  for (CK_SLOT_ID id : ids) {
    CK_TOKEN_INFO info{};
    s[id] = sc_C_GetTokenInfo(id, &info) == CKR_OK && (info.flags & CKF_TOKEN_INITIALIZED)
                ? std::string(reinterpret_cast<char*>(info.serialNumber), sizeof info.serialNumber)
                : std::string();
  }
  return s;
}

// The first slot whose token differs between two snapshots.
bool changed(const Snapshot& a, const Snapshot& b, CK_SLOT_ID& slot) {
  for (const auto& [id, serial] : b) {
    auto it = a.find(id);
    if (it == a.end() || it->second != serial) {
      slot = id;
      return true;
    }
  }
  for (const auto& [id, serial] : a) {
    if (!b.count(id) && !serial.empty()) {
      slot = id;
      return true;
    }
  }
  return false;
}

}  // namespace

CK_RV sc_local_C_GetInfo(CK_INFO_PTR pInfo) {
  if (active() == nullptr) return CKR_CRYPTOKI_NOT_INITIALIZED;
  if (pInfo == nullptr) return CKR_ARGUMENTS_BAD;
  std::memset(pInfo, 0, sizeof *pInfo);
  pInfo->cryptokiVersion = {3, 0};
  pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "FerroHSM");
  pad(pInfo->libraryDescription, sizeof pInfo->libraryDescription, "FerroHSM PKCS#11 (sidecar)");
  pInfo->libraryVersion = {0, 2};
  return CKR_OK;
}

CK_RV sc_local_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved) {
  if (active() == nullptr) return CKR_CRYPTOKI_NOT_INITIALIZED;
  if (pSlot == nullptr || pReserved != nullptr) return CKR_ARGUMENTS_BAD;
  Watch& w = watch();
  std::unique_lock lock(w.mu);
  if (!w.have) {  // the first call compares with the slots as they were at its start
    lock.unlock();
    Snapshot first = look();
    lock.lock();
    if (!w.have) {
      w.last = std::move(first);
      w.have = true;
    }
  }
  const uint64_t epoch = w.wake_epoch;
  for (;;) {
    lock.unlock();
    Snapshot now = look();
    lock.lock();
    if (active() == nullptr || w.wake_epoch != epoch) return CKR_CRYPTOKI_NOT_INITIALIZED;
    CK_SLOT_ID slot = 0;
    if (changed(w.last, now, slot)) {
      w.last = std::move(now);
      *pSlot = slot;
      return CKR_OK;
    }
    if (flags & CKF_DONT_BLOCK) return CKR_NO_EVENT;
    w.cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return w.wake_epoch != epoch; });
    if (w.wake_epoch != epoch) return CKR_CRYPTOKI_NOT_INITIALIZED;
  }
}

CK_RV sc_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount) {
  const CK_RV rv = sc_wire_C_GetSlotList(tokenPresent, pSlotList, pulCount);
  // CKR_TOKEN_NOT_PRESENT is no answer C_GetSlotList may give: with no server there
  // are no slots, and the next call asks again.
  if (rv == CKR_TOKEN_NOT_PRESENT && pulCount != nullptr) {
    *pulCount = 0;
    return CKR_OK;
  }
  return rv;
}

CK_RV sc_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen) {
  // A message carries at most a few MiB: a longer request is served piece by piece.
  constexpr CK_ULONG kPiece = CK_ULONG{1} << 20;
  if (RandomData == nullptr || ulRandomLen <= kPiece) return sc_wire_C_GenerateRandom(hSession, RandomData, ulRandomLen);
  for (CK_ULONG done = 0; done < ulRandomLen;) {
    const CK_ULONG n = std::min(kPiece, ulRandomLen - done);
    if (const CK_RV rv = sc_wire_C_GenerateRandom(hSession, RandomData + done, n); rv != CKR_OK) return rv;
    done += n;
  }
  return CKR_OK;
}

void begin_watch() {
  Snapshot first = look();
  Watch& w = watch();
  std::lock_guard lock(w.mu);
  w.last = std::move(first);
  w.have = true;
}

void wake_waiters() {
  Watch& w = watch();
  std::lock_guard lock(w.mu);
  ++w.wake_epoch;
  w.have = false;
  w.cv.notify_all();
}

}  // namespace ferrohsm::sidecar
