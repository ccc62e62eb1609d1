// Creating the imported key and certificate objects, all or nothing.
#include <ferrohsm/client/import_p12.h>

#include <vector>

namespace ferrohsm::client {
namespace {

CK_BBOOL kTrue = CK_TRUE;
CK_BBOOL kFalse = CK_FALSE;

CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const Bytes& value) {
  return {type, const_cast<std::uint8_t*>(value.data()), static_cast<CK_ULONG>(value.size())};
}
CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, const std::string& value) {
  return {type, const_cast<char*>(value.data()), static_cast<CK_ULONG>(value.size())};
}
template <typename T>
CK_ATTRIBUTE attr(CK_ATTRIBUTE_TYPE type, T* value) {
  return {type, value, sizeof(T)};
}

Result<std::size_t> objects_labelled(Session& session, const std::string& label) {
  CK_ATTRIBUTE templ[] = {attr(CKA_LABEL, label)};
  FH_ASSIGN_OR_RETURN(auto found, session.find(templ, 8));
  return found.size();
}

}  // namespace

Status import_p12(Session& session, const P12Contents& c, const ImportRequest& request) {
  if (request.key_label.empty()) return Error{ErrorKind::invalid_argument, CKR_OK, "--key-label is required"};
  const std::string cert_label = request.cert_label.empty() ? request.key_label : request.cert_label;
  for (const std::string* label : {&request.key_label, &cert_label}) {
    FH_ASSIGN_OR_RETURN(std::size_t n, objects_labelled(session, *label));
    if (n > 0) {
      return Error{ErrorKind::invalid_argument, CKR_OK,
                   "label '" + *label + "' is already in use on the token (" + std::to_string(n) +
                       " object(s)); nothing was imported"};
    }
  }

  CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY, cert_class = CKO_CERTIFICATE;
  CK_KEY_TYPE key_type = c.key_type == P12KeyType::rsa ? CKK_RSA : CKK_EC;
  CK_CERTIFICATE_TYPE cert_type = CKC_X_509;

  std::vector<CK_ATTRIBUTE> priv = {
      attr(CKA_CLASS, &priv_class), attr(CKA_KEY_TYPE, &key_type), attr(CKA_TOKEN, &kTrue),
      attr(CKA_PRIVATE, &kTrue),    attr(CKA_SENSITIVE, &kTrue),   attr(CKA_EXTRACTABLE, &kFalse),
      attr(CKA_SIGN, &kTrue),       attr(CKA_LABEL, request.key_label), attr(CKA_SUBJECT, c.subject_der)};
  std::vector<CK_ATTRIBUTE> pub = {
      attr(CKA_CLASS, &pub_class), attr(CKA_KEY_TYPE, &key_type), attr(CKA_TOKEN, &kTrue),
      attr(CKA_PRIVATE, &kFalse),  attr(CKA_VERIFY, &kTrue),     attr(CKA_LABEL, request.key_label),
      attr(CKA_SUBJECT, c.subject_der)};
  std::vector<CK_ATTRIBUTE> cert = {
      attr(CKA_CLASS, &cert_class), attr(CKA_CERTIFICATE_TYPE, &cert_type), attr(CKA_TOKEN, &kTrue),
      attr(CKA_PRIVATE, &kFalse),   attr(CKA_LABEL, cert_label),             attr(CKA_SUBJECT, c.subject_der),
      attr(CKA_ISSUER, c.issuer_der), attr(CKA_SERIAL_NUMBER, c.serial_der), attr(CKA_VALUE, c.cert_der)};
  if (!request.id.empty()) {
    for (auto* t : {&priv, &pub, &cert}) t->push_back(attr(CKA_ID, request.id));
  }
  if (c.key_type == P12KeyType::rsa) {
    priv.insert(priv.end(), {attr(CKA_MODULUS, c.modulus), attr(CKA_PUBLIC_EXPONENT, c.public_exponent),
                             attr(CKA_PRIVATE_EXPONENT, c.private_exponent), attr(CKA_PRIME_1, c.prime1),
                             attr(CKA_PRIME_2, c.prime2), attr(CKA_EXPONENT_1, c.exponent1),
                             attr(CKA_EXPONENT_2, c.exponent2), attr(CKA_COEFFICIENT, c.coefficient)});
    pub.insert(pub.end(), {attr(CKA_MODULUS, c.modulus), attr(CKA_PUBLIC_EXPONENT, c.public_exponent)});
  } else {
    priv.insert(priv.end(), {attr(CKA_EC_PARAMS, c.ec_params), attr(CKA_VALUE, c.ec_value)});
    pub.insert(pub.end(), {attr(CKA_EC_PARAMS, c.ec_params), attr(CKA_EC_POINT, c.ec_point)});
  }

  std::vector<CK_OBJECT_HANDLE> created;
  for (auto* templ : {&priv, &pub, &cert}) {
    auto h = session.create_object(*templ);
    if (!h) {
      for (auto it = created.rbegin(); it != created.rend(); ++it) (void)session.destroy_object(*it);
      const char* what = templ == &priv ? "private key" : templ == &pub ? "public key" : "certificate";
      return Error{h.error().kind, h.rv(),
                   std::string("creating the ") + what + " failed: " + h.error().message + "; nothing was imported"};
    }
    created.push_back(*h);
  }
  return {};
}

}  // namespace ferrohsm::client
