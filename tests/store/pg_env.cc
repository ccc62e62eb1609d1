#include "pg_env.h"

#include <gtest/gtest.h>

#include <cctype>

namespace ferrohsm::store::pgtest {
namespace {

testing::PgInstance* g_server = nullptr;

class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_server = new testing::PgInstance();
    const std::string err = g_server->start();
    ASSERT_EQ(err, "") << "the private PostgreSQL server did not start";
  }
  void TearDown() override {
    delete g_server;  // stops the server and removes its folder
    g_server = nullptr;
  }
};

[[maybe_unused]] ::testing::Environment* const g_env = ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace

testing::PgInstance& server() { return *g_server; }

std::string schema_name(const std::string& from) {
  std::string name = "fh_";
  for (char c : from) name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  return name.substr(0, 63);
}

std::string url_for(const std::string& schema) {
  return server().conninfo("postgres") + " options='-csearch_path=" + schema + "'";
}

StoreSettings settings_for(const std::string& schema) {
  EXPECT_EQ(server().sql("CREATE SCHEMA IF NOT EXISTS " + schema), "");
  StoreSettings s;
  s.backend = "postgres";
  s.url = url_for(schema);
  s.pool_size = 4;
  return s;
}

int64_t make_token(ObjectStore& st, const std::string& label) {
  TokenRow r;
  r.slot_id = *st.next_slot_id();
  r.label = label;
  r.serial = "serial-" + label;
  r.so_wrap = Bytes{'s', 'o', '-', 'w', 'r', 'a', 'p'};
  r.so_kdf = "kdf";
  auto id = st.create_token(r);
  EXPECT_TRUE(id.ok()) << id.error().message;
  return id.ok() ? *id : 0;
}

}  // namespace ferrohsm::store::pgtest
