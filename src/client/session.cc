// Session: RAII over CK_SESSION_HANDLE and the typed calls the client layer makes.
#include <ferrohsm/client/module.h>
#include <ferrohsm/client/names.h>
#include <ferrohsm/client/session.h>

namespace ferrohsm::client {
namespace {

CK_MECHANISM raw(const Mechanism& m) {
  return CK_MECHANISM{m.type, m.parameter.empty() ? nullptr : const_cast<std::uint8_t*>(m.parameter.data()),
                      static_cast<CK_ULONG>(m.parameter.size())};
}

CK_BYTE_PTR bytes(std::span<const std::uint8_t> s) { return const_cast<CK_BYTE_PTR>(s.data()); }

}  // namespace

Session::Session(std::shared_ptr<Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE handle)
    : module_(std::move(module)), slot_(slot), handle_(handle) {}

Session::~Session() { (void)close(); }

Session::Session(Session&& other) noexcept
    : module_(std::move(other.module_)), slot_(other.slot_), handle_(other.handle_) {
  other.handle_ = CK_INVALID_HANDLE;
}

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    (void)close();
    module_ = std::move(other.module_);
    slot_ = other.slot_;
    handle_ = other.handle_;
    other.handle_ = CK_INVALID_HANDLE;
  }
  return *this;
}

Status Session::close() {
  if (handle_ == CK_INVALID_HANDLE || !module_) return {};
  CK_RV rv = module_->functions()->C_CloseSession(handle_);
  handle_ = CK_INVALID_HANDLE;
  if (rv != CKR_OK) return pkcs11_error(rv, "C_CloseSession");
  return {};
}

Status Session::login(CK_USER_TYPE user, const Secret& pin) {
  CK_RV rv = module_->functions()->C_Login(handle_, user,
                                           reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.data())), pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return pkcs11_error(rv, "C_Login");
  return {};
}

Status Session::logout() {
  CK_RV rv = module_->functions()->C_Logout(handle_);
  if (rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN) return pkcs11_error(rv, "C_Logout");
  return {};
}

Result<CK_SESSION_INFO> Session::info() const {
  CK_SESSION_INFO info{};
  CK_RV rv = module_->functions()->C_GetSessionInfo(handle_, &info);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_GetSessionInfo");
  return info;
}

Result<bool> Session::logged_in() const {
  FH_ASSIGN_OR_RETURN(CK_SESSION_INFO i, info());
  return i.state == CKS_RO_USER_FUNCTIONS || i.state == CKS_RW_USER_FUNCTIONS || i.state == CKS_RW_SO_FUNCTIONS;
}

Result<std::vector<CK_OBJECT_HANDLE>> Session::find(std::span<const CK_ATTRIBUTE> templ, std::size_t max) {
  auto* fn = module_->functions();
  CK_RV rv = fn->C_FindObjectsInit(handle_, const_cast<CK_ATTRIBUTE_PTR>(templ.data()), templ.size());
  if (rv != CKR_OK) return pkcs11_error(rv, "C_FindObjectsInit");
  std::vector<CK_OBJECT_HANDLE> found(max);
  CK_ULONG count = 0;
  rv = fn->C_FindObjects(handle_, found.data(), found.size(), &count);
  CK_RV final_rv = fn->C_FindObjectsFinal(handle_);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_FindObjects");
  if (final_rv != CKR_OK) return pkcs11_error(final_rv, "C_FindObjectsFinal");
  found.resize(count);
  return found;
}

Result<Bytes> Session::sign(const Mechanism& mechanism, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> data) {
  auto* fn = module_->functions();
  CK_MECHANISM m = raw(mechanism);
  CK_RV rv = fn->C_SignInit(handle_, &m, key);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_SignInit(" + mechanism_name(mechanism.type) + ")");
  // One call with a buffer large enough for RSA-16384 or any ECDSA/EdDSA signature;
  // a module that still wants more says so and the length query follows.
  Bytes sig(2048);
  CK_ULONG len = sig.size();
  rv = fn->C_Sign(handle_, bytes(data), data.size(), sig.data(), &len);
  if (rv == CKR_BUFFER_TOO_SMALL) {  // the operation stays active after BUFFER_TOO_SMALL
    sig.resize(len);
    rv = fn->C_Sign(handle_, bytes(data), data.size(), sig.data(), &len);
  }
  if (rv != CKR_OK) return pkcs11_error(rv, "C_Sign(" + mechanism_name(mechanism.type) + ")");
  sig.resize(len);
  return sig;
}

Result<bool> Session::verify(const Mechanism& mechanism, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> data,
                             std::span<const std::uint8_t> signature) {
  auto* fn = module_->functions();
  CK_MECHANISM m = raw(mechanism);
  CK_RV rv = fn->C_VerifyInit(handle_, &m, key);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_VerifyInit(" + mechanism_name(mechanism.type) + ")");
  rv = fn->C_Verify(handle_, bytes(data), data.size(), bytes(signature), signature.size());
  if (rv == CKR_OK) return true;
  if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE) return false;
  return pkcs11_error(rv, "C_Verify(" + mechanism_name(mechanism.type) + ")");
}

Result<CK_OBJECT_HANDLE> Session::create_object(std::span<CK_ATTRIBUTE> templ) {
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  CK_RV rv = module_->functions()->C_CreateObject(handle_, templ.data(), templ.size(), &h);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_CreateObject");
  return h;
}

Status Session::destroy_object(CK_OBJECT_HANDLE object) {
  CK_RV rv = module_->functions()->C_DestroyObject(handle_, object);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_DestroyObject");
  return {};
}

Result<Bytes> Session::attribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = module_->functions()->C_GetAttributeValue(handle_, object, &a, 1);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_GetAttributeValue");
  Bytes out(a.ulValueLen);
  a.pValue = out.data();
  rv = module_->functions()->C_GetAttributeValue(handle_, object, &a, 1);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_GetAttributeValue");
  out.resize(a.ulValueLen);
  return out;
}

Result<std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE>> Session::generate_key_pair(const Mechanism& mechanism,
                                                                                 std::span<CK_ATTRIBUTE> pub,
                                                                                 std::span<CK_ATTRIBUTE> priv) {
  CK_MECHANISM m = raw(mechanism);
  CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
  CK_RV rv = module_->functions()->C_GenerateKeyPair(handle_, &m, pub.data(), pub.size(), priv.data(), priv.size(),
                                                     &hpub, &hpriv);
  if (rv != CKR_OK) return pkcs11_error(rv, "C_GenerateKeyPair");
  return std::pair{hpub, hpriv};
}

Status Session::init_pin(const Secret& user_pin) {
  CK_RV rv = module_->functions()->C_InitPIN(
      handle_, reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(user_pin.data())), user_pin.size());
  if (rv != CKR_OK) return pkcs11_error(rv, "C_InitPIN");
  return {};
}

}  // namespace ferrohsm::client
