#!/usr/bin/env bash
# make bench: FerroHSM, SoftHSMv2 and OpenSSL EVP in one run, alternating round by
# round, then one table (medians over the rounds) — and, in the same run, FerroHSM
# through its sidecar (ferrohsm-server over the unix socket and over TCP + mTLS) and
# through p11-kit's RPC (`p11-kit server` + p11-kit-client.so), with a second table and
# the audit trail's cost (ECDSA P-256 sign with audit off and on, BENCH_AUDIT=0 skips it),
# the sidecar goals; and the SoftHSMv2 token once more through FerroHSM's bridge (peer
# "bridge": a [[bridge]] naming it; its crypto rows, and both paths paired in one process
# by `p11bench bridge-pair`), with a third table and its goal. Bounded: every loop stops by itself, the servers this script
# starts are stopped by pid at the end; the whole run takes about 8–11 minutes on a
# 2-core machine.
#
# Knobs (environment):
#   BENCH_BUILD_DIR            build tree with p11bench, the module, ferrohsm-server and ferrohsm (default build/release)
#   BENCH_ROUNDS               alternating rounds (default 3)
#   BENCH_SECONDS              seconds per measurement (default 0.25)
#   BENCH_STAGES               token object counts (default "1000 10000 100000")
#   BENCH_SOFTHSM_MAX_OBJECTS  SoftHSMv2's largest stage (default 10000: it creates ~30–180 objects/s, 100k would take ~10 min)
#   BENCH_POPULATE_SECONDS     time cap per population step (default 240)
#   BENCH_PEERS                PKCS#11 peers (default "ferrohsm softhsm bridge sidecar-unix sidecar-tls p11kit";
#                              OpenSSL always runs; bridge needs SoftHSMv2)
#   BENCH_PROCESSES            client process counts of the multi-process rows (default "1,8")
#   BENCH_PROCESS_SECONDS      seconds per multi-process measurement (default 1: several processes
#                              on 2 cores need longer than one thread to give a steady figure)
#   BENCH_P11KIT_CLIENT        p11-kit-client.so (default: found under /usr/lib/*/pkcs11)
#   BENCH_REST=0               skip the REST API rows (they need the sidecar peers' ferrohsm-server)
#   BENCH_OBJECTS=0            skip the token-object suites (durable creation, find, login, memory)
#   BENCH_PG=0                 skip the PostgreSQL part (bench/run_pg.sh: its own knobs BENCH_PG_STAGE,
#                              BENCH_PG_PROCS, BENCH_PG_SETTINGS)
#   BENCH_PLOT=FILE.svg        draw the picture of the run there (bench/plot.py; make bench: docs/bench/latest.svg)
#   BENCH_REPORT=FILE.md       keep the table there too (make bench-check compares it with docs/PERFORMANCE.md)
#   BENCH_KEEP=1               keep the temporary stores (printed path)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=$(realpath -m "${BENCH_BUILD_DIR:-build/release}")
BIN=$BUILD/bench/p11bench
FERRO=$BUILD/src/pkcs11/libferrohsm-pkcs11.so
SERVER=$BUILD/tools/ferrohsm-server/ferrohsm-server
CLI=$BUILD/tools/ferrohsm/ferrohsm
SOFTHSM=${BENCH_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
P11KIT_CLIENT=${BENCH_P11KIT_CLIENT:-$(ls /usr/lib/*/pkcs11/p11-kit-client.so 2>/dev/null | head -n1 || true)}
PROCESSES=${BENCH_PROCESSES:-1,8}
ROUNDS=${BENCH_ROUNDS:-3}
STAGES=${BENCH_STAGES:-"1000 10000 100000"}
SOFTHSM_MAX=${BENCH_SOFTHSM_MAX_OBJECTS:-10000}
POPULATE=${BENCH_POPULATE_SECONDS:-240}
export BENCH_SECONDS=${BENCH_SECONDS:-0.25}

for f in "$BIN" "$FERRO"; do
  [[ -x $f || -f $f ]] || { echo "bench: $f is missing (build first: make bench)" >&2; exit 1; }
done

# The stores live on disk under the build tree (not tmpfs): durable means a real fsync.
mkdir -p "$BUILD"
WORK=$(mktemp -d "$BUILD/bench-run.XXXXXX")
SERVER_PID="" P11KIT_PID="" REST_URL=""
# Stops a process this script started: SIGTERM, up to 5 s, then SIGKILL.
stop_pid() {
  local pid=$1
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  pg_cleanup
  stop_pid "$P11KIT_PID"
  stop_pid "$SERVER_PID"
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: stores kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
source bench/run_pg.sh  # pg_part and pg_cleanup
trap cleanup EXIT
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# PINs: random per run, passed by environment, never printed.
BENCH_PIN=$(openssl rand -hex 12)
BENCH_SO_PIN=$(openssl rand -hex 12)
export BENCH_PIN BENCH_SO_PIN

mkdir -p "$WORK/ferrohsm" "$WORK/softhsm/tokens"
cat >"$WORK/ferrohsm.toml" <<TOML
[store]
path = "$WORK/ferrohsm/ferrohsm.db"

[log]
level = "error"
TOML
cat >"$WORK/softhsm2.conf" <<CONF
directories.tokendir = $WORK/softhsm/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF=$WORK/softhsm2.conf

# Every FerroHSM column serves the same store and token: the embedded library opens
# it directly, ferrohsm-server holds it for the sidecar columns, and `p11-kit remote`
# loads the embedded library for p11-kit's column; so the columns differ only in the path.
declare -A MODULE=([ferrohsm]=$FERRO [softhsm]=$SOFTHSM [bridge]=$FERRO [sidecar-unix]=$FERRO [sidecar-tls]=$FERRO
                   [p11kit]=$P11KIT_CLIENT)
declare -A CONF=([sidecar-unix]=$WORK/sidecar-unix.toml [sidecar-tls]=$WORK/sidecar-tls.toml
                 [bridge]=$WORK/bridge.toml)
export P11_KIT_SERVER_ADDRESS=unix:path=$WORK/p11kit.sock
PEERS=()
for p in ${BENCH_PEERS:-ferrohsm softhsm bridge sidecar-unix sidecar-tls p11kit}; do
  if [[ -n ${MODULE[$p]:-} && -f ${MODULE[$p]} ]]; then
    PEERS+=("$p")
  else
    echo "bench: $p's module not found (${MODULE[$p]:-unknown peer}; SoftHSMv2: apt-get install softhsm2;" \
      "p11-kit: apt-get install p11-kit p11-kit-modules); its column stays empty" >&2
  fi
done
has_peer() { local p; for p in "${PEERS[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }
drop_peer() {
  local keep=() p
  for p in "${PEERS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PEERS=("${keep[@]}")
}
LABEL=bench

start=$(date +%s)
say() { printf 'bench [%4ds] %s\n' $(($(date +%s) - start)) "$*" >&2; }
# p11bench for peer $p (its FERROHSM_CONF), result lines appended to the results.
run() {
  local p=$1
  shift
  FERROHSM_CONF=${CONF[$p]:-$WORK/ferrohsm.toml} "$BIN" "$@" | tee -a "$RESULTS" >/dev/null
}
# await WHAT PID CMD…: waits (at most 10 s) until CMD succeeds while process PID lives.
await() {
  local what=$1 pid=$2
  shift 2
  for _ in $(seq 100); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "bench: $what exited" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: $what did not start within 10 s" >&2
  return 1
}

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(openssl version)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
# One setup of the FerroHSM store (through the embedded library) serves every FerroHSM
# column; the bridge serves SoftHSMv2's token, so it needs that one set up.
if has_peer bridge && [[ ! -f $SOFTHSM ]]; then
  echo "bench: the bridge peer needs SoftHSMv2 ($SOFTHSM); its column stays empty" >&2
  drop_peer bridge
fi
SETUP=()
{ has_peer softhsm || has_peer bridge; } && SETUP+=(softhsm)
for p in "${PEERS[@]}"; do [[ $p != softhsm && $p != bridge ]] && { SETUP+=(ferrohsm); break; }; done
for p in "${SETUP[@]}"; do
  say "setting up the $p token (keys: RSA-2048, P-256, P-384, Ed25519, AES-256, HMAC)"
  FERROHSM_CONF=$WORK/ferrohsm.toml "$BIN" setup --module "${MODULE[$p]}" --label $LABEL
done

# The bridge: the library with a [[bridge]] to SoftHSMv2's token (labelled like FerroHSM's
# own, so its keystore is a store of its own, with no token that could be found first).
if has_peer bridge; then
  mkdir -p "$WORK/bridge"
  cat >"$WORK/bridge.toml" <<TOML
[store]
path = "$WORK/bridge/ferrohsm.db"

[log]
level = "error"

[[bridge]]
module = "$SOFTHSM"
token = "$LABEL"
TOML
fi
# ferrohsm-server: the unix socket and TCP + mTLS on a free loopback port.
if has_peer sidecar-unix || has_peer sidecar-tls; then
  if [[ -x $SERVER && -x $CLI ]]; then
    "$CLI" tls init "$WORK/tls" >/dev/null
    cat >"$WORK/server.toml" <<TOML
[server]
listen = ["unix:$WORK/server.sock", "tcp:127.0.0.1:0"]
tls_cert = "tls/server.pem"
tls_key = "tls/server.key"
client_ca = "tls/ca.pem"

[rest]
listen = "127.0.0.1:0"
rate_per_s = 1000000  # the rate limit would cap the measurement, not the server
threads = 8

[limits]
shutdown_timeout_ms = 2000

[[access]]
peer = "uid:$(id -u)"
tokens = ["*"]
admin = true

[[access]]
peer = "cert:CN=ferrohsm-dev-client"
tokens = ["*"]
admin = true

[store]
path = "$WORK/ferrohsm/ferrohsm.db"

[log]
level = "info"
TOML
    "$SERVER" --config "$WORK/server.toml" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    tcp_listening() { grep -q 'listening on tcp:' "$WORK/server.log"; }
    if await ferrohsm-server "$SERVER_PID" tcp_listening; then
      endpoint=$(grep -o 'listening on tcp:[^ ]*' "$WORK/server.log" | head -n1 | cut -d' ' -f3)
      say "ferrohsm-server (pid $SERVER_PID) on unix:$WORK/server.sock and $endpoint"
      REST_URL=$(grep -o 'listening on rest:[^ ]*' "$WORK/server.log" | head -n1 | sed 's/.*rest:/https:\/\//')
      cat >"$WORK/sidecar-unix.toml" <<TOML
mode = "sidecar"
[sidecar]
endpoints = ["unix:$WORK/server.sock"]
[log]
level = "error"
TOML
      cat >"$WORK/sidecar-tls.toml" <<TOML
mode = "sidecar"
[sidecar]
endpoints = ["$endpoint"]
cert = "$WORK/tls/client.pem"
key = "$WORK/tls/client.key"
ca = "$WORK/tls/ca.pem"
[log]
level = "error"
TOML
    else
      cat "$WORK/server.log" >&2
      drop_peer sidecar-unix
      drop_peer sidecar-tls
    fi
  else
    echo "bench: $SERVER or $CLI is missing (make bench builds them); the sidecar columns stay empty" >&2
    drop_peer sidecar-unix
    drop_peer sidecar-tls
  fi
fi

# p11-kit's RPC: `p11-kit server` runs one `p11-kit remote` with the embedded library per
# client connection; p11-kit-client.so finds it through P11_KIT_SERVER_ADDRESS.
if has_peer p11kit; then
  if command -v p11-kit >/dev/null; then
    FERROHSM_CONF=$WORK/ferrohsm.toml p11-kit server -f -n "$WORK/p11kit.sock" --provider "$FERRO" \
      "pkcs11:token=$LABEL" >"$WORK/p11kit.log" 2>&1 &
    P11KIT_PID=$!
    if await "p11-kit server" "$P11KIT_PID" test -S "$WORK/p11kit.sock"; then
      say "p11-kit server (pid $P11KIT_PID) on $WORK/p11kit.sock"
    else
      cat "$WORK/p11kit.log" >&2
      drop_peer p11kit
    fi
  else
    echo "bench: p11-kit not installed (apt-get install p11-kit p11-kit-modules); its column stays empty" >&2
    drop_peer p11kit
  fi
fi
# p11-kit's and the bridge's columns are crypto (and round trips) only; the object suites
# run on the others (BENCH_OBJECTS=0: on none).
OBJECT_PEERS=()
for p in "${PEERS[@]}"; do [[ $p != p11kit && $p != bridge ]] && OBJECT_PEERS+=("$p"); done
[[ ${BENCH_OBJECTS:-1} == 1 ]] || OBJECT_PEERS=()

for r in $(seq "$ROUNDS"); do
  for p in "${PEERS[@]}"; do
    say "round $r/$ROUNDS: crypto, $p"
    run "$p" crypto --peer "$p" --module "${MODULE[$p]}" --label $LABEL
  done
  say "round $r/$ROUNDS: crypto, openssl"
  run openssl crypto --openssl
  # AES-GCM as a program calls OpenSSL per message: a context made, keyed and freed each
  # time (issue 18's "fresh context" figure; the report's note under the table).
  BENCH_OSSL_FRESH=1 run openssl crypto --openssl --peer openssl-fresh --only "AES-256-GCM 4KiB"
done

# What the audit trail costs (docs/AUDIT.md): ECDSA P-256 signing on the same store and
# token with audit off and on ([audit] file, checkpoints signed by the token's audit key),
# alternating run by run; each sign is a C_SignInit (one record) and a C_Sign.
if has_peer ferrohsm && [[ ${BENCH_AUDIT:-1} == 1 ]]; then
  mkdir -p "$WORK/audit"
  cat >"$WORK/audited.toml" <<TOML
[store]
path = "$WORK/ferrohsm/ferrohsm.db"

[log]
level = "error"

[audit]
file = "$WORK/audit/audit.jsonl"
token = "$LABEL"
pin = "env:BENCH_PIN"
TOML
  CONF[audit-on]=$WORK/audited.toml
  for r in $(seq "$ROUNDS"); do
    for p in audit-off audit-on; do
      say "round $r/$ROUNDS: ECDSA P-256 sign, $p"
      run "$p" crypto --peer "$p" --module "$FERRO" --label $LABEL --only "sign ECDSA P-256"
    done
  done
  if [[ -x $CLI ]]; then "$CLI" audit verify "$WORK/audit" >&2 || echo "bench: the audit log does not verify" >&2; fi
fi

# What the bridge adds, both paths in one process (alternating batches, paired differences).
if has_peer bridge; then
  for r in $(seq "$ROUNDS"); do
    say "round $r/$ROUNDS: SoftHSMv2 directly and through the bridge, paired"
    run bridge bridge-pair --module "$SOFTHSM" --bridged "$FERRO" --label $LABEL
  done
fi

# The REST API (issue 15): ECDSA P-256 sign and AES-256-GCM 4 KiB encrypt over HTTPS with
# keep-alive at 1 and 8 clients, beside the embedded library in the same process.
if [[ -n $REST_URL && ${BENCH_REST:-1} == 1 ]]; then
  for r in $(seq "$ROUNDS"); do
    say "round $r/$ROUNDS: REST API ($REST_URL) and embedded PKCS#11, 1 and 8 clients"
    run ferrohsm rest-pair --module "$FERRO" --label $LABEL --url "$REST_URL" --cert "$WORK/tls/client.pem" \
      --key "$WORK/tls/client.key" --ca "$WORK/tls/ca.pem"
  done
fi

# Messages on the wire per call: counted by the kernel, so over TCP only (the unix path
# runs the same client code above the socket). Deterministic: one round.
if has_peer sidecar-tls; then
  say "round trips per call, sidecar-tls"
  run sidecar-tls round-trips --peer sidecar-tls --module "$FERRO" --label $LABEL
fi

for r in $(seq "$ROUNDS"); do
  for p in sidecar-unix sidecar-tls; do
    has_peer $p || continue
    say "round $r/$ROUNDS: client processes $PROCESSES, $p"
    BENCH_SECONDS=${BENCH_PROCESS_SECONDS:-1} \
      run "$p" processes --peer "$p" --module "$FERRO" --label $LABEL --procs "$PROCESSES"
  done
done

for r in $(seq "$ROUNDS"); do
  for p in "${OBJECT_PEERS[@]}"; do
    say "round $r/$ROUNDS: durable object create/destroy, $p"
    run "$p" create --peer "$p" --module "${MODULE[$p]}" --label $LABEL
  done
  [[ ${#OBJECT_PEERS[@]} -gt 0 ]] && run openssl fsync-limit "$WORK"  # the limit column: one 4 KiB write + fdatasync on the same disk
done

for n in $STAGES; do
  for r in $(seq "$ROUNDS"); do
    for p in "${OBJECT_PEERS[@]}"; do
      max=0
      [[ $p == softhsm ]] && max=$SOFTHSM_MAX
      [[ $r == 1 ]] && say "stage $n objects: populating and measuring, $p" || say "stage $n objects: round $r, $p"
      run "$p" objects --peer "$p" --module "${MODULE[$p]}" --label $LABEL --stage "$n" --max-objects "$max" \
        --populate-seconds "$POPULATE"
    done
  done
done

# PostgreSQL beside SQLite, and signing through one and two servers on one database.
if [[ ${BENCH_PG:-1} == 1 ]]; then pg_part; fi

say "done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
stop_pid "$P11KIT_PID"
stop_pid "$SERVER_PID"
P11KIT_PID="" SERVER_PID=""
echo
"$BIN" report "$RESULTS" | tee "$WORK/report.md"
# The picture (docs/bench/latest.svg for make bench), and the table for make bench-check.
if [[ -n ${BENCH_PLOT:-} ]]; then python3 bench/plot.py "$WORK/report.md" "$BENCH_PLOT"; fi
if [[ -n ${BENCH_REPORT:-} ]]; then cp "$WORK/report.md" "$BENCH_REPORT"; fi
