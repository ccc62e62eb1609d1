#include "backends/bridge/library.h"

#include "base/log.h"

#include <unistd.h>

#include <map>
#include <mutex>

namespace ferrohsm::bridge {

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
// A library loaded by this process, by path. An entry a forked child inherits is the
// parent's (its sessions and logins): the child loads the library afresh, as
// client::Module does.
struct Entry {
  std::weak_ptr<Library> lib;
  pid_t pid = 0;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}

}  // namespace

Result<std::shared_ptr<Library>> Library::load(const std::string& path) {
  std::lock_guard lock(registry_mutex());
  Entry& entry = registry()[path];
  if (auto existing = entry.lib.lock(); existing != nullptr && entry.pid == getpid()) return existing;
  auto module = client::Module::load(path);
  if (!module.ok()) {
    const client::Error& e = module.error();
    return make_error(e.rv != CKR_OK ? e.rv : CKR_DEVICE_ERROR, e.message);
  }
  std::shared_ptr<Library> lib(new Library(std::move(*module)));
  entry = Entry{lib, getpid()};
  return lib;
}

bool Library::reinitialize_if_idle() {
  std::unique_lock lock(mu_);
  if (sessions_.load() != 0) return false;
  client::Status s = module_->reinitialize();
  if (!s.ok() && s.rv() == CKR_CRYPTOKI_ALREADY_INITIALIZED) return false;  // not ours to re-initialise
  ++epoch_;
  if (!s.ok()) log().warn("bridge: {}", s.error().message);
  else log().debug("bridge: re-initialised {} to look for its tokens again", path());
  return true;
}

}  // namespace ferrohsm::bridge
