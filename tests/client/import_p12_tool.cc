// Test-only stand-in for `ferrohsm import-p12`: a CLI11 app with just that subcommand.
#include <ferrohsm/client/import_p12.h>

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"ferrohsm-import-p12 (test tool)"};
  app.require_subcommand(1);
  ferrohsm::client::register_import_p12_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
