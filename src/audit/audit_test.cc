// The audit library on its own: the writer's chain and checkpoints, rotation, and
// verify's verdict on every way a log can be changed (a sample of byte changes on every
// line, every single-line deletion, insertion, reordering, truncation).
#include "audit/verify.h"
#include "audit/writer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ferrohsm::audit {
namespace {

namespace fs = std::filesystem;

// A checkpoint signer over an Ed25519 key in memory (the core's keeps it in a token).
class MemorySigner : public Signer {
 public:
  MemorySigner() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")) {}
  ~MemorySigner() override { EVP_PKEY_free(key_); }
  Result<Bytes> sign(ByteView m) override {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 64;
    Bytes sig(len);
    bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
              EVP_DigestSign(ctx, sig.data(), &len, m.data(), m.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return make_error(CKR_FUNCTION_FAILED, "sign");
    return sig;
  }
  Result<Bytes> public_key_spki() override {
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key_, &der);
    Bytes out(der, der + n);
    OPENSSL_free(der);
    return out;
  }
  void write_pem(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_PUBKEY(f, key_);
    std::fclose(f);
  }

 private:
  EVP_PKEY* key_;
};

Record sample(int i) {
  Record r;
  r.time_us = now_us();
  r.identity = "uid:1000";
  r.pid = 4242;
  r.exe = "/usr/bin/app";
  r.slot = 1;
  r.token = "audit-token";
  r.serial = "0123456789abcdef";
  r.session = 7;
  r.function = i % 2 ? "C_SignInit" : "C_GenerateKeyPair";
  r.mechanism = "CKM_ECDSA";
  r.object_id = "uid-" + std::to_string(i);
  r.object_class = "CKO_PRIVATE_KEY";
  r.object_label = "key-" + std::to_string(i);
  r.rv = "CKR_OK";
  r.duration_us = 10 + i;
  return r;
}

class AuditLog : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fh-audit-" + std::to_string(getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    file_ = (dir_ / "audit.jsonl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `n` records with checkpoints every `every` records and a closing one.
  void Write(int n, uint32_t every = 4, uint64_t rotate_bytes = 0) {
    Options o;
    o.file = file_;
    o.checkpoint_records = every;
    o.rotate_bytes = rotate_bytes;
    auto w = Writer::open(o);
    ASSERT_TRUE(w.ok()) << w.error().message;
    (*w)->set_signer(signer_);
    // Waiting on each record makes the batches (and so the checkpoints) deterministic.
    for (int i = 0; i < n; ++i) ASSERT_TRUE((*w)->write(sample(i), true).ok());
    (*w)->close();
  }
  std::vector<std::string> Lines(const std::string& f) {
    std::ifstream in(f);
    std::vector<std::string> out;
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
  }
  void Put(const std::string& f, const std::vector<std::string>& lines) {
    std::ofstream out(f, std::ios::trunc);
    for (const auto& l : lines) out << l << "\n";
  }
  VerifyReport Check(VerifyOptions o = {}) {
    auto files = audit_files({file_});
    EXPECT_TRUE(files.ok());
    if (!o.public_key) o.public_key = *signer_->public_key_spki();
    return verify(*files, o);
  }

  fs::path dir_;
  std::string file_;
  std::shared_ptr<MemorySigner> signer_ = std::make_shared<MemorySigner>();
};

TEST_F(AuditLog, AFreshLogVerifiesWithSignedCheckpointsAndEndsWithOne) {
  Write(10);
  auto lines = Lines(file_);
  // 10 records, a checkpoint after every 4 (2), a closing one.
  ASSERT_EQ(lines.size(), 13u);
  auto first = decode_line(lines[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->seq, 0u);
  EXPECT_EQ(first->prev, kZeroHash);
  auto last = decode_line(lines.back());
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->kind, "checkpoint");
  EXPECT_EQ(last->prev, line_hash(lines[lines.size() - 2]));
  VerifyReport r = Check();
  EXPECT_TRUE(r.ok()) << r.problem->message;
  EXPECT_EQ(r.records, 10u);
  EXPECT_EQ(r.checkpoints, 3u);
  EXPECT_EQ(r.signed_checkpoints, 3u);
  EXPECT_TRUE(r.pinned);
}

TEST_F(AuditLog, AnotherKeyIsRefusedWhenPinned) {
  Write(3);
  MemorySigner other;
  VerifyOptions o;
  o.public_key = *other.public_key_spki();
  VerifyReport r = Check(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem->kind, "modified");
}

TEST_F(AuditLog, UnsignedCheckpointsFailOnlyWhenSignaturesAreRequired) {
  signer_.reset();
  Options o;
  o.file = file_;
  auto w = Writer::open(o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write(sample(0), true).ok());
  (*w)->close();
  auto files = audit_files({file_});
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(verify(*files, {}).ok());
  VerifyOptions req;
  req.require_signed = true;
  VerifyReport r = verify(*files, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem->kind, "unsigned");
  EXPECT_EQ(r.problem->line, 2u);
}

// Any one byte changed: verify fails and names the line changed. Positions: a spread of
// offsets over every line (start, end, and every 7th byte between).
TEST_F(AuditLog, ASampleOfByteChangesOnEveryLineIsFoundAndNamed) {
  Write(9, 4);
  const auto lines = Lines(file_);
  int tried = 0;
  for (size_t li = 0; li < lines.size(); ++li) {
    for (size_t off = 0; off < lines[li].size(); off += (off == 0 ? 1 : 7)) {
      auto changed = lines;
      char& c = changed[li][off];
      c = c == '1' ? '2' : (c == 'a' ? 'b' : static_cast<char>(c ^ 0x01));
      Put(file_, changed);
      VerifyReport r = Check();
      ++tried;
      ASSERT_FALSE(r.ok()) << "line " << li + 1 << " offset " << off << " changed, and verify passed";
      EXPECT_EQ(r.problem->line, li + 1) << "line " << li + 1 << " offset " << off << ": named line "
                                         << r.problem->line << " (" << r.problem->kind << ": " << r.problem->message << ")";
      EXPECT_TRUE(r.problem->kind == "modified" || r.problem->kind == "inserted" || r.problem->kind == "truncated")
          << r.problem->kind;
    }
  }
  EXPECT_GT(tried, 100);
}

TEST_F(AuditLog, EveryOneLineDeletionIsFoundAndNamed) {
  Write(9, 4);
  const auto lines = Lines(file_);
  for (size_t li = 0; li < lines.size(); ++li) {
    auto cut = lines;
    cut.erase(cut.begin() + static_cast<long>(li));
    Put(file_, cut);
    VerifyReport r = Check();
    ASSERT_FALSE(r.ok()) << "line " << li + 1 << " deleted, and verify passed";
    const uint64_t seq = decode_line(lines[li])->seq;
    if (li + 1 == lines.size()) {
      // The closing checkpoint gone: the log ends after its last checkpoint.
      EXPECT_EQ(r.problem->kind, "truncated");
      EXPECT_EQ(r.problem->seq, seq - 1);
    } else {
      EXPECT_EQ(r.problem->kind, "deleted") << "line " << li + 1 << ": " << r.problem->message;
      EXPECT_EQ(r.problem->seq, seq) << "line " << li + 1 << ": " << r.problem->message;
      EXPECT_EQ(r.problem->line, li + 1);
    }
  }
}

TEST_F(AuditLog, InsertionReorderingAndTruncationAreNamed) {
  Write(9, 4);
  const auto lines = Lines(file_);
  {  // a copy of line 3 inserted after line 5
    auto v = lines;
    v.insert(v.begin() + 5, lines[2]);
    Put(file_, v);
    VerifyReport r = Check();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.problem->kind, "inserted") << r.problem->message;
    EXPECT_EQ(r.problem->line, 6u);
  }
  {  // a made-up record inserted
    auto v = lines;
    v.insert(v.begin() + 3, encode_record(sample(99), 3, line_hash(lines[2])));
    Put(file_, v);
    VerifyReport r = Check();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.problem->kind, "inserted") << r.problem->message;
    EXPECT_EQ(r.problem->line, 4u);
  }
  {  // lines 3 and 4 swapped
    auto v = lines;
    std::swap(v[2], v[3]);
    Put(file_, v);
    VerifyReport r = Check();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.problem->kind, "reordered") << r.problem->message;
    EXPECT_EQ(r.problem->line, 3u);
    EXPECT_EQ(r.problem->seq, 3u);
  }
  {  // cut after the second checkpoint (line 10): the records after it are gone
    auto v = lines;
    v.resize(7);  // ends with records seq 5, 6 after the checkpoint at seq 4
    Put(file_, v);
    VerifyReport r = Check();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.problem->kind, "truncated");
    EXPECT_EQ(r.problem->seq, 6u);
    VerifyOptions open;
    open.open = true;
    EXPECT_TRUE(Check(open).ok()) << "--open accepts a live log";
  }
  {  // the first line deleted: the chain does not start at seq 0
    auto v = lines;
    v.erase(v.begin());
    Put(file_, v);
    VerifyReport r = Check();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.problem->kind, "deleted");
  }
}

TEST_F(AuditLog, RotationContinuesTheChainAcrossFiles) {
  Write(40, 1000, 2000);
  auto files = audit_files({file_});
  ASSERT_TRUE(files.ok());
  ASSERT_GE(files->size(), 3u) << "2000-byte files for 40 records";
  EXPECT_EQ(files->back(), file_) << "the live file comes last";
  VerifyReport r = Check();
  EXPECT_TRUE(r.ok()) << r.problem->file << ":" << r.problem->line << " " << r.problem->message;
  EXPECT_EQ(r.records, 40u);
  // Each rotated file ends with a signed checkpoint; the next starts chained to it.
  auto second = Lines((*files)[1]);
  auto first = Lines((*files)[0]);
  EXPECT_EQ(decode_line(first.back())->kind, "checkpoint");
  EXPECT_EQ(decode_line(second.front())->prev, line_hash(first.back()));
  // A rotated file removed from the middle: the records in it are missing.
  fs::remove((*files)[1]);
  r = Check();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problem->kind, "deleted");
  EXPECT_EQ(r.problem->file, (*files)[2]);
}

TEST_F(AuditLog, AReopenedLogContinuesItsChain) {
  Write(3);
  Write(3);
  VerifyReport r = Check();
  EXPECT_TRUE(r.ok()) << r.problem->message;
  EXPECT_EQ(r.records, 6u);
}

TEST_F(AuditLog, RequiredWritesFailWhenTheSinkCannotWrite) {
  Options o;
  o.file = (dir_ / "no-such-dir" / "audit.jsonl").string();
  o.required = true;
  auto w = Writer::open(o);
  ASSERT_FALSE(w.ok()) << "required: no log, no start";
  EXPECT_EQ(w.error().rv, CKR_FUNCTION_FAILED);
  // A full disk: /dev/full opens and takes no byte.
  o.file = "/dev/full";
  auto full = Writer::open(o);
  ASSERT_TRUE(full.ok()) << full.error().message;
  Status s = (*full)->write(sample(0), true);
  EXPECT_EQ(s.rv(), CKR_FUNCTION_FAILED);
  EXPECT_EQ((*full)->failures(), 1u);
  (*full)->close();
}

TEST_F(AuditLog, NotRequiredWritesCountFailuresAndGoOn) {
  Options o;
  o.file = "/dev/full";
  auto w = Writer::open(o);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE((*w)->write(sample(0), false).ok());
  (*w)->close();
  EXPECT_GE((*w)->failures(), 1u);
}

TEST(AuditRecord, TheLineHasAFixedKeyOrderAndRoundTrips) {
  Record r = sample(1);
  r.rule = "max-uses";
  std::string line = encode_record(r, 5, kZeroHash);
  EXPECT_EQ(line.rfind("{\"seq\":5,\"prev\":\"000", 0), 0u) << line;
  EXPECT_NE(line.find("\"function\":\"C_SignInit\",\"mechanism\":\"CKM_ECDSA\",\"object\":{\"id\":\"uid-1\","
                      "\"class\":\"CKO_PRIVATE_KEY\",\"label\":\"key-1\"},\"rv\":\"CKR_OK\""),
            std::string::npos)
      << line;
  auto l = decode_line(line);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->canonical, line);
  EXPECT_EQ(l->record.rule, "max-uses");
  EXPECT_EQ(l->record.pid, 4242);
  EXPECT_EQ(format_time(*parse_time("2026-12-06T01:02:03.000042Z")), "2026-12-06T01:02:03.000042Z");
}

}  // namespace
}  // namespace ferrohsm::audit

namespace ferrohsm::audit {
namespace {

TEST(AuditRecord, AnyLabelBytesGiveALineThatParsesAndReencodesToItself) {
  Record r = sample(3);
  r.object_label = std::string("a\"b\\c\n\x01\x7f", 9) + "\xc3\xa9" + "\xff\xc3" + "\xed\xa0\x80" + "\xf0\x9f\x94\x91";
  r.detail = std::string("\0x", 2);
  const std::string line = encode_record(r, 1, kZeroHash);
  auto l = decode_line(line);
  ASSERT_TRUE(l.ok()) << line;
  EXPECT_EQ(l->canonical, line);
  EXPECT_EQ(l->record.detail, std::string("\0x", 2));
  EXPECT_NE(l->record.object_label.find("\xc3\xa9"), std::string::npos);       // é kept
  EXPECT_NE(l->record.object_label.find("\xf0\x9f\x94\x91"), std::string::npos);  // 🔑 kept
  EXPECT_NE(l->record.object_label.find("\xef\xbf\xbd"), std::string::npos);    // bad bytes replaced
}

}  // namespace
}  // namespace ferrohsm::audit
