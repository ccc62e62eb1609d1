// `import-p12`: the CLI11 subcommand, and where its PIN and password come from.
#include <ferrohsm/client/import_p12.h>
#include <ferrohsm/client/module.h>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

namespace ferrohsm::client {
namespace {

struct Options {
  std::string module, token, pin_file, p12, password_file, key_label, cert_label, id_hex;
  std::optional<CK_SLOT_ID> slot;
};

Result<Secret> read_secret_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorKind::io, CKR_OK, std::string("cannot read the ") + what + " file " + path};
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  Secret s(line);
  std::fill(line.begin(), line.end(), '\0');
  return s;
}

// Reads one line from the terminal with echo off.
Result<Secret> prompt_no_echo(const std::string& prompt) {
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (fd < 0) return Error{ErrorKind::io, CKR_OK, "no terminal to prompt on"};
  termios old{};
  bool restore = tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  (void)!write(fd, prompt.data(), prompt.size());
  std::string line;
  char ch;
  while (line.size() < 1024 && read(fd, &ch, 1) == 1 && ch != '\n') line.push_back(ch);
  if (restore) tcsetattr(fd, TCSAFLUSH, &old);
  (void)!write(fd, "\n", 1);
  close(fd);
  Secret s(line);
  std::fill(line.begin(), line.end(), '\0');
  return s;
}

Result<Secret> user_pin(const Options& o) {
  if (!o.pin_file.empty()) return read_secret_file(o.pin_file, "PIN");
  if (const char* env = std::getenv("FERROHSM_PIN"); env != nullptr && *env != '\0') return Secret(env);
  auto p = prompt_no_echo("User PIN: ");
  if (!p) return Error{ErrorKind::no_pin, CKR_OK, "no user PIN: give --pin-file or FERROHSM_PIN (" + p.error().message + ")"};
  return p;
}

Result<Secret> p12_password(const Options& o) {
  if (!o.password_file.empty()) return read_secret_file(o.password_file, "password");
  auto p = prompt_no_echo("PKCS#12 password: ");
  if (!p) return Error{ErrorKind::io, CKR_OK, "no PKCS#12 password: give --password-file (" + p.error().message + ")"};
  return p;
}

Result<Bytes> parse_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) return Error{ErrorKind::invalid_argument, CKR_OK, "--id must have an even number of hex digits"};
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    char* end = nullptr;
    std::string pair = hex.substr(i, 2);
    long v = std::strtol(pair.c_str(), &end, 16);
    if (end != pair.c_str() + 2) return Error{ErrorKind::invalid_argument, CKR_OK, "--id is not hex: " + hex};
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

Status run(const Options& o) {
  FHC_ASSIGN_OR_RETURN(Bytes id, parse_hex(o.id_hex));
  Result<P12Contents> contents = [&]() -> Result<P12Contents> {
    FHC_ASSIGN_OR_RETURN(Secret password, p12_password(o));
    return read_p12(o.p12, password);
  }();
  if (!contents) return contents.error();
  FHC_ASSIGN_OR_RETURN(Secret pin, user_pin(o));
  FHC_ASSIGN_OR_RETURN(auto module, Module::load(o.module));
  CK_SLOT_ID slot = 0;
  if (o.slot) {
    slot = *o.slot;
  } else {
    FHC_ASSIGN_OR_RETURN(slot, module->find_token(o.token));
  }
  FHC_ASSIGN_OR_RETURN(Session session, module->open_session(slot, true));
  FHC_TRY(session.login(CKU_USER, pin));
  pin.wipe();
  Status imported = import_p12(session, *contents, ImportRequest{o.key_label, o.cert_label, id});
  (void)session.logout();
  return imported;
}

}  // namespace

void register_import_p12_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("import-p12", "Import a PKCS#12 private key (RSA/EC) and certificate into a token");
  sub->add_option("--module", opts->module, "PKCS#11 library to import into")->required();
  auto* slot = sub->add_option("--slot", opts->slot, "slot id");
  auto* token = sub->add_option("--token", opts->token, "token label");
  slot->excludes(token);
  sub->add_option("--pin-file", opts->pin_file, "file whose first line is the user PIN (else $FERROHSM_PIN, else a prompt)");
  sub->add_option("--p12", opts->p12, "PKCS#12 file")->required()->check(CLI::ExistingFile);
  sub->add_option("--password-file", opts->password_file, "file whose first line is the PKCS#12 password (else a prompt)");
  sub->add_option("--key-label", opts->key_label, "CKA_LABEL of the private (and public) key")->required();
  sub->add_option("--cert-label", opts->cert_label, "CKA_LABEL of the certificate (default: the key label)");
  sub->add_option("--id", opts->id_hex, "CKA_ID in hex (empty: none)");
  sub->callback([opts] {
    if (!opts->slot && opts->token.empty()) {
      std::cerr << "import-p12: give --slot ID or --token LABEL\n";
      throw CLI::RuntimeError(2);
    }
    Status s = run(*opts);
    if (!s) {
      std::cerr << "import-p12: " << s.error().message << "\n";
      throw CLI::RuntimeError(1);
    }
    std::cout << "imported '" << opts->key_label << "' into " << (opts->slot ? "slot " + std::to_string(*opts->slot) : "token '" + opts->token + "'")
              << "\n";
  });
}

}  // namespace ferrohsm::client
