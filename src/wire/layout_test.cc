// The codecs on both ends of one process: what a client encodes, the server rebuilds
// into an equal structure with its own pointers, and the outputs come back.
#include "wire/call.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ferrohsm::wire {
namespace {

std::string str(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST(Layout, GcmParametersSurviveTheTrip) {
  std::vector<uint8_t> iv(12, 7), aad = {1, 2, 3};
  CK_GCM_PARAMS p{iv.data(), iv.size(), 96, aad.data(), aad.size(), 128};
  ParamSpec spec = mechanism_param(CKM_AES_GCM);
  ASSERT_EQ(spec.kind, ParamKind::Struct);
  google::protobuf::RepeatedPtrField<Field> fields;
  uint64_t budget = 1 << 20;
  ASSERT_TRUE(encode(*spec.layout, &p, &fields, budget).ok());
  Storage storage;
  std::string why;
  auto* q = static_cast<CK_GCM_PARAMS*>(rebuild(*spec.layout, fields, storage, why));
  ASSERT_NE(q, nullptr) << why;
  EXPECT_NE(q->pIv, p.pIv);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(q->pIv), q->ulIvLen), str(iv));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(q->pAAD), q->ulAADLen), str(aad));
  EXPECT_EQ(q->ulIvBits, 96u);
  EXPECT_EQ(q->ulTagBits, 128u);
}

TEST(Layout, MessageOutputsComeBack) {
  std::vector<uint8_t> iv(12, 0), tag(16, 0);
  CK_GCM_MESSAGE_PARAMS p{iv.data(), iv.size(), 0, CKG_GENERATE_RANDOM, tag.data(), 128};
  ParamSpec spec = message_param(CKM_AES_GCM);
  google::protobuf::RepeatedPtrField<Field> fields;
  uint64_t budget = 1 << 20;
  ASSERT_TRUE(encode(*spec.layout, &p, &fields, budget).ok());
  Storage storage;
  std::string why;
  auto* q = static_cast<CK_GCM_MESSAGE_PARAMS*>(rebuild(*spec.layout, fields, storage, why));
  ASSERT_NE(q, nullptr) << why;
  std::memset(q->pIv, 0xAA, q->ulIvLen);    // the server's callee generates an IV …
  std::memset(q->pTag, 0x55, q->ulTagBits / 8);  // … and writes the tag
  google::protobuf::RepeatedPtrField<Field> out;
  encode_outputs(*spec.layout, q, &out);
  write_back(*spec.layout, out, &p);
  EXPECT_EQ(iv, std::vector<uint8_t>(12, 0xAA));
  EXPECT_EQ(tag, std::vector<uint8_t>(16, 0x55));
}

TEST(Layout, Sp800108ArraysAndDerivedKeyHandles) {
  CK_SP800_108_COUNTER_FORMAT counter{CK_FALSE, 32};
  std::vector<uint8_t> label = {'l', 'a', 'b'};
  CK_PRF_DATA_PARAM data[2] = {{CK_SP800_108_ITERATION_VARIABLE, &counter, sizeof counter},
                               {CK_SP800_108_BYTE_ARRAY, label.data(), label.size()}};
  CK_ULONG len = 16;
  CK_ATTRIBUTE tmpl[] = {{CKA_VALUE_LEN, &len, sizeof len}};
  CK_OBJECT_HANDLE extra = 0;
  CK_DERIVED_KEY keys[1] = {{tmpl, 1, &extra}};
  CK_SP800_108_KDF_PARAMS p{CKM_SHA256_HMAC, 2, data, 1, keys};
  ParamSpec spec = mechanism_param(CKM_SP800_108_COUNTER_KDF);
  google::protobuf::RepeatedPtrField<Field> fields;
  uint64_t budget = 1 << 20;
  ASSERT_TRUE(encode(*spec.layout, &p, &fields, budget).ok());
  Storage storage;
  std::string why;
  auto* q = static_cast<CK_SP800_108_KDF_PARAMS*>(rebuild(*spec.layout, fields, storage, why));
  ASSERT_NE(q, nullptr) << why;
  ASSERT_EQ(q->ulNumberOfDataParams, 2u);
  auto* c = static_cast<CK_SP800_108_COUNTER_FORMAT*>(q->pDataParams[0].pValue);
  EXPECT_EQ(c->ulWidthInBits, 32u);
  EXPECT_EQ(std::string(static_cast<char*>(q->pDataParams[1].pValue), q->pDataParams[1].ulValueLen), "lab");
  ASSERT_EQ(q->ulAdditionalDerivedKeys, 1u);
  ASSERT_EQ(q->pAdditionalDerivedKeys[0].ulAttributeCount, 1u);
  EXPECT_EQ(*static_cast<CK_ULONG*>(q->pAdditionalDerivedKeys[0].pTemplate[0].pValue), 16u);
  *q->pAdditionalDerivedKeys[0].phKey = 42;
  google::protobuf::RepeatedPtrField<Field> out;
  encode_outputs(*spec.layout, q, &out);
  write_back(*spec.layout, out, &p);
  EXPECT_EQ(extra, 42u);
}

TEST(Layout, FieldCountsThatDoNotFitAreMalformed) {
  google::protobuf::RepeatedPtrField<Field> fields;
  fields.Add();
  Storage storage;
  std::string why;
  EXPECT_EQ(rebuild(*mechanism_param(CKM_AES_GCM).layout, fields, storage, why), nullptr);
  EXPECT_NE(why.find("CK_GCM_PARAMS"), std::string::npos);
}

}  // namespace
}  // namespace ferrohsm::wire
