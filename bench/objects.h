// The token-object suites: durable object creation and destruction, find by label
// among N token objects, C_Initialize + C_OpenSession + C_Login in a fresh process,
// and resident memory — over a token populated with N small data objects.
#pragma once

#include "p11.h"

#include <string>

namespace p11bench {

struct ObjectArgs {
  std::string self;  // this executable (for the fresh-process children)
  std::string module, label, pin_file, peer;
  long stage = 0;        // objects the token should hold
  long max_objects = 0;  // this peer's cap (0: none); a larger stage is reported as skipped
  double populate_budget_s = 300;
  int login_runs = 3;
};

// Populates to `stage` objects (bounded in count and time), then measures find, login and RSS.
int run_objects(const ObjectArgs& a);
// Durable creation and destruction of token objects at 1, 2 and 8 threads.
int run_create(const ObjectArgs& a, double seconds);
// The physical limit of a durable change: 4 KiB write + fdatasync in `dir`, per second.
int fsync_limit(const std::string& peer, const std::string& dir, double seconds);
// Children: print one number (ms of init+open+login; MiB resident) on stdout.
int login_child(const ObjectArgs& a);
int rss_child(const ObjectArgs& a);

}  // namespace p11bench
