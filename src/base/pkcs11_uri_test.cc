#include "base/pkcs11_uri.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace ferrohsm {
namespace {

TEST(Pkcs11Uri, ParsesTokenObjectIdAndType) {
  auto u = parse_pkcs11_uri("pkcs11:token=My%20Token;object=signing%3Bkey;id=%01%02%ff;type=private");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->token, "My Token");
  EXPECT_EQ(u->object, "signing;key");
  EXPECT_EQ(u->id, (Bytes{0x01, 0x02, 0xff}));
  EXPECT_EQ(u->type, CKO_PRIVATE_KEY);
  EXPECT_FALSE(u->slot_id.has_value());
  EXPECT_FALSE(u->serial.has_value());
}

TEST(Pkcs11Uri, SchemeIsCaseInsensitiveAndEmptyPathIsAllowed) {
  auto u = parse_pkcs11_uri("PKCS11:");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->token.has_value());
  EXPECT_FALSE(u->object.has_value());
}

TEST(Pkcs11Uri, EveryTypeValue) {
  const std::pair<const char*, CK_OBJECT_CLASS> cases[] = {{"public", CKO_PUBLIC_KEY},
                                                           {"private", CKO_PRIVATE_KEY},
                                                           {"secret-key", CKO_SECRET_KEY},
                                                           {"cert", CKO_CERTIFICATE},
                                                           {"data", CKO_DATA}};
  for (const auto& [name, cls] : cases) {
    auto u = parse_pkcs11_uri(std::string("pkcs11:type=") + name);
    ASSERT_TRUE(u.ok()) << name;
    EXPECT_EQ(u->type, cls) << name;
    EXPECT_STREQ(uri_type_of(cls), name);
  }
}

TEST(Pkcs11Uri, SlotIdSerialAndDescriptiveAttributes) {
  auto u = parse_pkcs11_uri("pkcs11:manufacturer=FerroHSM;model=soft;serial=00ab;slot-id=7;token=t");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->slot_id, CK_SLOT_ID{7});
  EXPECT_EQ(u->serial, "00ab");
  EXPECT_EQ(u->token, "t");
}

TEST(Pkcs11Uri, QueryWithoutPinIsIgnored) {
  auto u = parse_pkcs11_uri("pkcs11:token=t?module-name=ferrohsm");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->token, "t");
}

TEST(Pkcs11Uri, RejectsBadInputWithAReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"pkcs12:token=t", "pkcs11:"},
      {"token=t", "pkcs11:"},
      {"pkcs11:token=a%4", "escape"},
      {"pkcs11:token=a%zz", "escape"},
      {"pkcs11:id=%0", "escape"},
      {"pkcs11:colour=red", "unknown attribute 'colour'"},
      {"pkcs11:token=a;token=b", "twice"},
      {"pkcs11:type=key", "unknown type"},
      {"pkcs11:slot-id=x1", "slot-id"},
      {"pkcs11:slot-id=", "slot-id"},
      {"pkcs11:token", "name=value"},
      {"pkcs11:token=t?pin-value=1234", "PIN"},
      {"pkcs11:token=t?pin-source=file:/p", "PIN"},
  };
  for (const auto& [uri, why] : cases) {
    auto u = parse_pkcs11_uri(uri);
    ASSERT_FALSE(u.ok()) << uri;
    EXPECT_EQ(u.error().rv, CKR_ARGUMENTS_BAD) << uri;
    EXPECT_NE(u.error().message.find(why), std::string::npos) << uri << ": " << u.error().message;
  }
}

TEST(Pkcs11Uri, PinValueIsNeverEchoedInTheMessage) {
  auto u = parse_pkcs11_uri("pkcs11:token=t?pin-value=s3cr3tPIN");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().message.find("s3cr3tPIN"), std::string::npos);
}

TEST(Pkcs11Uri, FormatMatchesTheDocumentedShape) {
  const uint8_t id[] = {0x01, 0x02};
  EXPECT_EQ(format_object_uri("tok", "key", id, CKO_PRIVATE_KEY), "pkcs11:token=tok;object=key;id=%01%02;type=private");
  EXPECT_EQ(format_object_uri("tok", "", ByteView(), CKO_SECRET_KEY), "pkcs11:token=tok;type=secret-key");
}

TEST(Pkcs11Uri, FormatThenParseRoundTrips) {
  const std::string token = "prod token/1";
  const std::string object = "a;b=c%d?e f\xc3\xa9:[x]";
  const uint8_t id[] = {0x00, 0x7f, 0x80, 0xff, 0x25, 0x3b};
  std::string uri = format_object_uri(token, object, id, CKO_CERTIFICATE);
  EXPECT_EQ(uri.find(' '), std::string::npos) << uri;
  EXPECT_EQ(uri.find('?'), std::string::npos) << uri;
  auto u = parse_pkcs11_uri(uri);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->token, token);
  EXPECT_EQ(u->object, object);
  EXPECT_EQ(u->id, Bytes(std::begin(id), std::end(id)));
  EXPECT_EQ(u->type, CKO_CERTIFICATE);
}

TEST(Pkcs11Uri, DecodeHandlesEscapesAtTheEnd) {
  Bytes out;
  ASSERT_TRUE(uri_decode("ab%41", out));
  EXPECT_EQ(std::string(out.begin(), out.end()), "abA");
  EXPECT_FALSE(uri_decode("ab%4", out));
  EXPECT_FALSE(uri_decode("%", out));
}

TEST(Pkcs11Uri, DescriptiveAndQueryAttributesAreNoted) {
  auto u = parse_pkcs11_uri("pkcs11:token=t;slot-description=reader%201;library-version=3?module-name=softhsm2");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->other, (std::vector<std::string>{"slot-description", "library-version", "module-name"}));
  EXPECT_FALSE(parse_pkcs11_uri("pkcs11:slot-description=a;slot-description=b").ok());
}

CK_TOKEN_INFO token_info(const std::string& label, const std::string& serial, const std::string& manufacturer,
                         const std::string& model) {
  CK_TOKEN_INFO info{};
  auto pad = [](CK_UTF8CHAR* field, size_t n, const std::string& v) {
    std::memset(field, ' ', n);
    std::memcpy(field, v.data(), std::min(n, v.size()));
  };
  pad(info.label, sizeof info.label, label);
  pad(info.serialNumber, sizeof info.serialNumber, serial);
  pad(info.manufacturerID, sizeof info.manufacturerID, manufacturer);
  pad(info.model, sizeof info.model, model);
  return info;
}

TEST(TokenSelector, MatchesEveryFieldItNamesWithoutThePadding) {
  const CK_TOKEN_INFO info = token_info("my token", "0a1b", "SoftHSM project", "SoftHSM v2");
  auto s = token_selector_from_uri("pkcs11:token=my%20token;manufacturer=SoftHSM%20project;model=SoftHSM%20v2");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->label, "my token");
  EXPECT_FALSE(s->serial.has_value());
  EXPECT_TRUE(s->matches(info));
  EXPECT_FALSE(s->matches(token_info("my token", "0a1b", "SoftHSM project", "SoftHSM v3")));
  EXPECT_FALSE(s->matches(token_info("my token2", "0a1b", "SoftHSM project", "SoftHSM v2")));
  EXPECT_TRUE((TokenSelector{std::nullopt, "0a1b", std::nullopt, std::nullopt}).matches(info));
  EXPECT_FALSE((TokenSelector{std::nullopt, "0a1", std::nullopt, std::nullopt}).matches(info));
  EXPECT_TRUE((TokenSelector{"my token  ", std::nullopt, std::nullopt, std::nullopt}).matches(info));
  EXPECT_EQ(s->describe(), "token \"my token\", manufacturer \"SoftHSM project\", model \"SoftHSM v2\"");
}

TEST(TokenSelector, AUriWithAnythingButTokenAttributesIsRefusedByName) {
  const std::pair<const char*, const char*> cases[] = {
      {"pkcs11:token=t;object=key", "'object'"},
      {"pkcs11:token=t;id=%01", "'id'"},
      {"pkcs11:token=t;type=private", "'type'"},
      {"pkcs11:token=t;slot-id=3", "'slot-id'"},
      {"pkcs11:token=t;slot-description=r", "'slot-description'"},
      {"pkcs11:token=t;library-manufacturer=x", "'library-manufacturer'"},
      {"pkcs11:token=t?module-path=/lib/x.so", "'module-path'"},
      {"pkcs11:", "names no token attribute"},
      {"pkcs11:colour=red", "unknown attribute 'colour'"},
      {"pkcs11:token=", "token is empty"},
      {"pkcs11:token=123456789012345678901234567890123", "at most 32"},
      {"pkcs11:serial=12345678901234567", "at most 16"},
      {"pkcs11:model=12345678901234567", "at most 16"},
      {"token=t", "pkcs11:"},
      {"pkcs11:token=t%2", "escape"},
  };
  for (const auto& [uri, why] : cases) {
    auto s = token_selector_from_uri(uri);
    ASSERT_FALSE(s.ok()) << uri;
    EXPECT_EQ(s.error().rv, CKR_ARGUMENTS_BAD) << uri;
    EXPECT_NE(s.error().message.find(why), std::string::npos) << uri << ": " << s.error().message;
  }
}

}  // namespace
}  // namespace ferrohsm
