#include "bridge_pair.h"

#include "ops.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace p11bench {
namespace {

// Batches per operation and side; each side runs 4 × measure_seconds() in all (1 s by
// default: a difference of 1 µs in an operation of 100 µs needs that many on a busy machine).
constexpr int kPairs = 40;

struct Side {
  Module m;
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  TokenKeys keys;
};

Side open_side(const std::string& path, const std::string& label, const std::string& pin) {
  Side side;
  side.m = load_module(path);
  long slot = find_slot(side.m, label);
  if (slot < 0) {
    std::fprintf(stderr, "p11bench bridge-pair: no token labelled %s in %s (run setup first)\n", label.c_str(),
                 path.c_str());
    std::exit(2);
  }
  side.s = open_session(side.m, static_cast<CK_SLOT_ID>(slot));
  login_user(side.m, side.s, pin);  // the second side finds the token logged in already
  side.keys = find_token_keys(side.m, side.s);
  return side;
}

// Runs `fn` for `seconds`; microseconds per call, or a negative value when a call failed.
double batch_us(const OpFn& fn, double seconds) {
  long n = 0;
  const double t0 = now_s();
  double t = t0;
  do {
    if (!fn()) return -1;
    ++n;
    t = now_s();
  } while (t - t0 < seconds);
  return (t - t0) * 1e6 / static_cast<double>(n);
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int run_bridge_pair(const ObjectArgs& a, const std::string& bridged) {
  const std::string pin = read_pin(a.pin_file, false);
  // SoftHSMv2 first: FerroHSM's bridge then shares the initialised library.
  Side direct = open_side(a.module, a.label, pin);
  Side bridge = open_side(bridged, a.label, pin);
  const double batch = 4 * measure_seconds() / kPairs;
  for (const OpSpec& op : crypto_ops()) {
    if (op.kind != Kind::kNull && op.name != "sign ECDSA P-256 32B digest" && op.name != "digest SHA-256 64B") continue;
    const std::string row = kBridgePairPrefix + op.name;
    std::string why;
    std::optional<OpFn> fd = p11_factory(direct.m, {direct.s}, direct.keys, op)(0, why);
    std::optional<OpFn> fb;
    if (fd) fb = p11_factory(bridge.m, {bridge.s}, bridge.keys, op)(0, why);
    if (!fd || !fb) {
      emit_na("bridge", row, 1, why);
      continue;
    }
    batch_us(*fd, batch);  // warm-up, both paths
    batch_us(*fb, batch);
    std::vector<double> td, tb, added;
    bool failed = false;
    for (int i = 0; i < kPairs && !failed; ++i) {
      // Alternating which side goes first, so that neither always follows the other.
      const bool direct_first = i % 2 == 0;
      const double first = batch_us(direct_first ? *fd : *fb, batch);
      const double second = batch_us(direct_first ? *fb : *fd, batch);
      const double d = direct_first ? first : second, b = direct_first ? second : first;
      failed = d < 0 || b < 0;
      td.push_back(d);
      tb.push_back(b);
      added.push_back(b - d);
    }
    if (failed) {
      emit_na("bridge", row, 1, "operation failed");
      continue;
    }
    emit("softhsm", row, 1, "ops/s", 1e6 / median_of(td));
    emit("bridge", row, 1, "ops/s", 1e6 / median_of(tb));
    emit("bridge", kBridgePairAddedPrefix + op.name, 1, "µs", median_of(added));
  }
  unload_module(bridge.m);
  unload_module(direct.m);
  return 0;
}

}  // namespace p11bench
