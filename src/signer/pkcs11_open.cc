// Start-up of the pkcs11 provider: wiring checks, the PIN source, the module's mechanism
// list, and one slot of ferrohsm::client slot servers logged in once.
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/registry.h>
#include <spdlog/spdlog.h>

#include "base/names.h"
#include "base/pin_source.h"

#include <algorithm>
#include <vector>

#include "ferrohsm/signer/pkcs11_provider.h"
#include "pkcs11_support.h"

namespace ferrohsm::signer {

namespace pkcs11_detail {

Error from_client(const client::Error& e, std::string_view what) {
  std::string msg = "PKCS#11 " + std::string(what) + " failed: " + e.message;
  switch (e.kind) {
    case client::ErrorKind::key_not_found: return Error::key_not_found(msg);
    case client::ErrorKind::invalid_argument:
    case client::ErrorKind::config: return Error::invalid(msg);
    default: return Error::unavailable(msg);
  }
}

Result<client::PinCallback> pin_source(const Pkcs11Settings& s) {
  if (!s.pin_file.empty()) {
    // Fails at start, not at first login.
    if (auto first = read_pin_file(s.pin_file); !first) return Error::invalid(first.error().message);
    return client::PinCallback([path = s.pin_file](const client::PinRequest&) -> std::optional<Secret> {
      auto pin = read_pin_file(path);
      if (!pin) {
        spdlog::error("pkcs11 provider: {}", pin.error().message);
        return std::nullopt;
      }
      return std::move(*pin);
    });
  }
  if (s.pin) {
    auto held = std::make_shared<const Secret>(s.pin->view());  // dev-only: the PIN stays in memory
    return client::PinCallback(
        [held](const client::PinRequest&) { return std::optional<Secret>(Secret(held->view())); });
  }
  return Error::invalid("the pkcs11 provider needs --pkcs11-pin-file (or --pkcs11-pin for local development)");
}

}  // namespace pkcs11_detail

using pkcs11_detail::from_client;

std::string Pkcs11Provider::mechanism_problem(std::span<const CK_MECHANISM_TYPE> mechanisms) {
  auto has = [&](CK_MECHANISM_TYPE m) { return std::find(mechanisms.begin(), mechanisms.end(), m) != mechanisms.end(); };
  if (!has(CKM_EDDSA))
    return "the token does not list " + mechanism_name(CKM_EDDSA) +
           "; ferrohsm-signer needs a PKCS#11 3.0 module with EdDSA";
  if (!has(CKM_EC_EDWARDS_KEY_PAIR_GEN)) return "the token does not list " + mechanism_name(CKM_EC_EDWARDS_KEY_PAIR_GEN);
  return {};
}

Pkcs11Provider::Pkcs11Provider(std::unique_ptr<client::Registry> registry, std::string label)
    : registry_(std::move(registry)), label_(std::move(label)) {}

Pkcs11Provider::~Pkcs11Provider() { registry_->stop_all(); }  // sessions close before the module may be finalized

Result<std::unique_ptr<Pkcs11Provider>> Pkcs11Provider::open(const Pkcs11Settings& settings) {
  if (settings.module.empty()) return Error::invalid("the pkcs11 provider needs --pkcs11-module");
  if (!settings.slot) return Error::invalid("the pkcs11 provider needs --pkcs11-slot");
  if (settings.label.empty() || settings.label.find(':') != std::string::npos)
    return Error::invalid("--pkcs11-label must be non-empty and contain no ':'");
  if (settings.sessions < 1) return Error::invalid("--pkcs11-sessions must be at least 1");
  auto pins = pkcs11_detail::pin_source(settings);
  if (!pins) return pins.error();

  // Held until the slot servers run: they share this load of the library.
  auto module = client::Module::load(settings.module);
  if (!module) return from_client(module.error(), "module load");
  CK_SLOT_ID slot = *settings.slot;
  auto* fn = (*module)->functions();
  CK_ULONG count = 0;
  if (CK_RV rv = fn->C_GetMechanismList(slot, nullptr, &count); rv != CKR_OK)
    return Error::unavailable("cannot list the mechanisms of slot " + std::to_string(slot) + " of " + settings.module +
                              ": " + rv_name(rv));
  std::vector<CK_MECHANISM_TYPE> mechanisms(count);
  if (CK_RV rv = fn->C_GetMechanismList(slot, mechanisms.data(), &count); rv != CKR_OK)
    return Error::unavailable("cannot list the mechanisms of slot " + std::to_string(slot) + ": " + rv_name(rv));
  mechanisms.resize(count);
  if (auto problem = mechanism_problem(mechanisms); !problem.empty())
    return Error::invalid(settings.module + " slot " + std::to_string(slot) + ": " + problem);

  client::SlotConfig config;
  config.slot_ref = std::string(kSlotRef);
  config.module_path = settings.module;
  config.slot_id = slot;
  // One session is a `token` (its login lives on worker 1); several are a pool whose
  // workers share the token's login.
  config.type = settings.sessions > 1 ? client::SlotType::pool : client::SlotType::token;
  config.session_pool_size = settings.sessions;
  config.pin_callback = std::move(*pins);
  config.reauthentication = client::ReauthPolicy::prompt;  // a lost login is restored from the PIN source
  config.read_write = true;                                // generate and retire change the token
  auto registry = std::make_unique<client::Registry>();
  if (auto s = registry->start({std::move(config)}); !s) return from_client(s.error(), "open sessions");
  if (auto s = registry->login(kSlotRef); !s) return from_client(s.error(), "login");
  return std::unique_ptr<Pkcs11Provider>(new Pkcs11Provider(std::move(registry), settings.label));
}

Result<std::unique_ptr<KeyProvider>> make_pkcs11_provider(const Pkcs11Settings& settings) {
  auto p = Pkcs11Provider::open(settings);
  if (!p) return p.error();
  return std::unique_ptr<KeyProvider>(std::move(*p));
}

}  // namespace ferrohsm::signer
