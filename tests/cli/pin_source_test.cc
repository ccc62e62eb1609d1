#include "base/pin_source.h"

#include "run_tool.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace ferrohsm::cli {
namespace {

using test::TempDir;

TEST(PinFile, FirstLineWithoutItsEnding) {
  TempDir d;
  EXPECT_EQ(read_pin_file(d.write("a", "1234\n"))->view(), "1234");
  EXPECT_EQ(read_pin_file(d.write("b", "abcd\r\nsecond line\n"))->view(), "abcd");
  EXPECT_EQ(read_pin_file(d.write("c", "no-newline"))->view(), "no-newline");
  EXPECT_EQ(read_pin_file(d.write("d", " spaced pin \n"))->view(), " spaced pin ");
}

TEST(PinFile, MissingOrEmptyIsAUsageError) {
  TempDir d;
  auto missing = read_pin_file(d.file("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().rv, CKR_ARGUMENTS_BAD);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  auto empty = read_pin_file(d.write("empty", "\nsecond\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().rv, CKR_ARGUMENTS_BAD);
}

TEST(PinFile, ErrorsNeverContainThePin) {
  TempDir d;
  auto r = read_pin_file(d.write("x", "\n9876\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("9876"), std::string::npos);
}

class ObtainPin : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("FERROHSM_TEST_PIN"); }
};

TEST_F(ObtainPin, FileWinsOverEnvironment) {
  TempDir d;
  ::setenv("FERROHSM_TEST_PIN", "from-env", 1);
  PinSource src{"user PIN", d.write("p", "from-file\n"), "--pin-file", "FERROHSM_TEST_PIN", false};
  EXPECT_EQ(obtain_pin(src)->view(), "from-file");
}

TEST_F(ObtainPin, EnvironmentWhenNoFile) {
  ::setenv("FERROHSM_TEST_PIN", "from-env", 1);
  PinSource src{"user PIN", "", "--pin-file", "FERROHSM_TEST_PIN", false};
  EXPECT_EQ(obtain_pin(src)->view(), "from-env");
}

TEST_F(ObtainPin, UnreadableFileIsNotSilentlyReplacedByTheEnvironment) {
  TempDir d;
  ::setenv("FERROHSM_TEST_PIN", "from-env", 1);
  PinSource src{"user PIN", d.file("missing"), "--pin-file", "FERROHSM_TEST_PIN", false};
  auto r = obtain_pin(src, "key list");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("key list: ", 0), 0u) << r.error().message;
}

}  // namespace
}  // namespace ferrohsm::cli
