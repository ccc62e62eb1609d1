#include "base/pin_source.h"

#include "base/bytes.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace ferrohsm {
namespace {

constexpr size_t kMaxPinLine = 4096;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads one line from `fd` (without its ending) into `out`; false at end of input
// before any byte.
bool read_line(int fd, Secret& out) {
  char line[kMaxPinLine];
  size_t len = 0;
  bool any = false;
  char c = 0;
  while (len < kMaxPinLine) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    any = true;
    if (c == '\n') break;
    line[len++] = c;
  }
  if (len > 0 && line[len - 1] == '\r') --len;
  out = Secret(std::string_view(line, len));
  secure_wipe(line, sizeof line);
  secure_wipe(&c, sizeof c);
  return any;
}

// Echo off on the terminal for as long as this lives. An interrupt (Ctrl-C) or
// termination while the prompt waits restores the terminal before the process ends.
struct SavedTerminal {
  int fd = -1;
  termios mode{};
};
SavedTerminal g_saved;  // only touched by the prompt (one at a time) and the handler

void restore_and_reraise(int sig) {
  if (g_saved.fd >= 0) ::tcsetattr(g_saved.fd, TCSAFLUSH, &g_saved.mode);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

class NoEcho {
 public:
  explicit NoEcho(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    g_saved = {fd_, saved_};
    struct sigaction sa{};
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  ~NoEcho() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    if (g_saved.fd >= 0) {
      for (int i = 0; i < 3; ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
      g_saved.fd = -1;
    }
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  int fd_;
  termios saved_{};
  struct sigaction old_[3] {};
  bool active_ = false;
};

void say(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

Result<Secret> prompt(const PinSource& src) {
  Fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (tty.get() < 0)
    return make_error(CKR_ARGUMENTS_BAD, "no " + src.what + " given and no terminal to ask on: use " + src.file_option +
                                             " FILE or set $" + src.env);
  NoEcho quiet(tty.get());
  Secret pin, again;
  say(tty.get(), "Enter " + src.what + ": ");
  if (!read_line(tty.get(), pin)) return make_error(CKR_CANCEL, src.what + ": input ended");
  if (src.confirm) {
    say(tty.get(), "Repeat " + src.what + ": ");
    if (!read_line(tty.get(), again)) return make_error(CKR_CANCEL, src.what + ": input ended");
    if (again != pin) return make_error(CKR_PIN_INVALID, src.what + ": the two entries differ");
  }
  if (pin.empty()) return make_error(CKR_PIN_LEN_RANGE, src.what + " is empty");
  return pin;
}

}  // namespace

Result<Secret> read_pin_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return make_error(CKR_ARGUMENTS_BAD, "PIN file '" + path + "' cannot be read: " + std::strerror(errno));
  Secret pin;
  read_line(fd.get(), pin);
  if (pin.empty()) return make_error(CKR_ARGUMENTS_BAD, "PIN file '" + path + "' has an empty first line");
  return pin;
}

Result<Secret> obtain_pin(const PinSource& src) {
  if (!src.file.empty()) return read_pin_file(src.file);
  if (!src.env.empty()) {
    if (const char* v = std::getenv(src.env.c_str()); v != nullptr && *v != '\0') return Secret(v);
  }
  return prompt(src);
}

Result<Secret> obtain_pin(const PinSource& src, const std::string& what) {
  auto pin = obtain_pin(src);
  if (!pin) return make_error(pin.error().rv, what + ": " + pin.error().message);
  return std::move(*pin);
}

}  // namespace ferrohsm
