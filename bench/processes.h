// Several client processes at once: each a fresh process that loads the module, opens
// a session, logs in and runs one operation for the same wall time, started together.
// Through a sidecar this is what a server sees from independent applications (one
// connection each); in one process the library's own threads would share a connection.
#pragma once

#include "objects.h"

#include <string>
#include <vector>

namespace p11bench {

struct ProcessArgs {
  ObjectArgs o;
  std::vector<int> counts = {1, 8};  // processes per measurement
  std::string only;                  // operations whose name holds this; empty: the defaults
  int op = -1;                       // proc-child: index into crypto_ops()
  std::vector<std::string> confs;    // child i gets FERROHSM_CONF = confs[i % size] (several servers); empty: inherited
};

// For each operation and each count: the children's operations per second together,
// emitted as the row "processes: <operation>" with the count in the threads column.
// This process stays logged in meanwhile (the children are second applications).
int run_processes(const ProcessArgs& a);
// One child (measures for `seconds`, env BENCH_SECONDS): prints "<ops> <start> <end>" (monotonic seconds) on stdout.
int process_child(const ProcessArgs& a, double seconds);

}  // namespace p11bench
