#!/usr/bin/env bash
# ctest "bench_smoke" (label bench): the whole benchmark path once, tiny and fast —
# FerroHSM, SoftHSMv2 directly and through FerroHSM's bridge, and OpenSSL; one round,
# 20 ms per measurement, 20 token objects; and the PostgreSQL part (a private server, two
# ferrohsm-servers on it, 2 signing processes). It checks that the run completes and prints
# the tables; it asserts no timing.
set -euo pipefail
build=$1
svg=$build/bench-smoke.svg report=$build/bench-smoke.md
rm -f "$svg" "$report"
out=$(BENCH_BUILD_DIR=$build BENCH_PEERS="ferrohsm softhsm bridge" BENCH_ROUNDS=1 BENCH_SECONDS=0.02 \
      BENCH_STAGES=20 BENCH_PG_PROCS=2 BENCH_PROCESS_SECONDS=0.2 BENCH_PLOT=$svg BENCH_REPORT=$report \
      "$(dirname "$0")/run.sh" 2>&1)
echo "$out"
grep -q '^| operation | thr | FerroHSM' <<<"$out"
grep -q '^| sign ECDSA P-256 32B digest | 1 | [0-9]' <<<"$out"
grep -q '^| find by label among 20 objects | 1 | [0-9]' <<<"$out"
# The bridge's row pair: both columns measured, the overhead computed.
grep -q '^| sign ECDSA P-256 32B digest | 1 | [0-9.k]* | [0-9.k]* | [0-9.]* | [-+][0-9.]* | [-+][0-9.]* |$' <<<"$out"
grep -q '^| digest SHA-256 64B | [0-9.k]* | [0-9.k]* | [-+][0-9.]* | [-+][0-9.]* |$' <<<"$out"  # paired
grep -q '^| the bridge adds ≤ 2 µs per call: digest SHA-256 64B | [-+][0-9.]* µs per call (.*, paired)' <<<"$out"
# The PostgreSQL part (bench/run_pg.sh): SQLite and PostgreSQL side by side, signing through
# one and two servers on one database, and every goal measured.
grep -q '^| operation | thr | SQLite | PostgreSQL |' <<<"$out"
grep -q '^| create token object (durable) | 8 | [0-9.k]* [*]* *| [0-9.k]* [*]* *| [0-9.]* |$' <<<"$out"
grep -q '^| find by label among 20 objects | 1 | [0-9.k]* ([0-9.]* µs) [*]* *| [0-9.k]* ([0-9.]* µs)' <<<"$out"
grep -q '^| processes: sign ECDSA P-256 32B digest | 2 | [0-9.k]* [*]* *| [0-9.k]* [*]* *| [0-9.]* |$' <<<"$out"
[[ $(grep -c '^| .* | \(met\|\*\*missed\*\*\) |$' <<<"$out") -ge 3 ]]
# The picture and the regression guard's input: an SVG with both peers' bars and curves,
# and a table that bench/check.py reads (against itself every ratio holds).
grep -q '<svg' "$svg" && grep -q 'FerroHSM' "$svg" && grep -q 'SoftHSMv2' "$svg"
python3 "$(dirname "$0")/check.py" "$report" <(printf '<!-- bench-check baseline -->\n'; cat "$report") >/dev/null
if grep -q 'failed' <<<"$out"; then echo "bench smoke: a measurement failed" >&2; exit 1; fi
echo "bench smoke: ok"
