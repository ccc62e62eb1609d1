#!/usr/bin/env bash
# make bench: FerroHSM, SoftHSMv2 and OpenSSL EVP in one run, alternating round by
# round, then one table (medians over the rounds). Bounded: every loop stops by
# itself; the whole run takes about 6–8 minutes on a 2-core machine.
#
# Knobs (environment):
#   BENCH_BUILD_DIR            build tree with p11bench and the module (default build/release)
#   BENCH_ROUNDS               alternating rounds (default 3)
#   BENCH_SECONDS              seconds per measurement (default 0.25)
#   BENCH_STAGES               token object counts (default "1000 10000 100000")
#   BENCH_SOFTHSM_MAX_OBJECTS  SoftHSMv2's largest stage (default 10000: it creates ~30–180 objects/s, 100k would take ~10 min)
#   BENCH_POPULATE_SECONDS     time cap per population step (default 240)
#   BENCH_PEERS                PKCS#11 peers (default "ferrohsm softhsm"; OpenSSL always runs)
#   BENCH_KEEP=1               keep the temporary stores (printed path)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=$(realpath -m "${BENCH_BUILD_DIR:-build/release}")
BIN=$BUILD/bench/p11bench
FERRO=$BUILD/src/pkcs11/libferrohsm-pkcs11.so
SOFTHSM=${BENCH_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
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
if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: stores kept in $WORK" >&2; else trap 'rm -rf "$WORK"' EXIT; fi
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
export FERROHSM_CONF=$WORK/ferrohsm.toml SOFTHSM2_CONF=$WORK/softhsm2.conf

declare -A MODULE=([ferrohsm]=$FERRO [softhsm]=$SOFTHSM)
PEERS=()
for p in ${BENCH_PEERS:-ferrohsm softhsm}; do
  if [[ -f ${MODULE[$p]:-} ]]; then
    PEERS+=("$p")
  else
    echo "bench: $p's module not found (${MODULE[$p]:-unknown peer}; SoftHSMv2: apt-get install softhsm2); its column stays empty" >&2
  fi
done
LABEL=bench

start=$(date +%s)
say() { printf 'bench [%4ds] %s\n' $(($(date +%s) - start)) "$*" >&2; }
run() { "$BIN" "$@" | tee -a "$RESULTS" >/dev/null; }

say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(openssl version)"
for p in "${PEERS[@]}"; do
  say "setting up the $p token (keys: RSA-2048, P-256, P-384, Ed25519, AES-256, HMAC)"
  "$BIN" setup --module "${MODULE[$p]}" --label $LABEL
done

for r in $(seq "$ROUNDS"); do
  for p in "${PEERS[@]}"; do
    say "round $r/$ROUNDS: crypto, $p"
    run crypto --peer "$p" --module "${MODULE[$p]}" --label $LABEL
  done
  say "round $r/$ROUNDS: crypto, openssl"
  run crypto --openssl
done

for r in $(seq "$ROUNDS"); do
  for p in "${PEERS[@]}"; do
    say "round $r/$ROUNDS: durable object create/destroy, $p"
    run create --peer "$p" --module "${MODULE[$p]}" --label $LABEL
  done
  run fsync-limit "$WORK"  # the limit column: one 4 KiB write + fdatasync on the same disk
done

for n in $STAGES; do
  for r in $(seq "$ROUNDS"); do
    for p in "${PEERS[@]}"; do
      max=0
      [[ $p == softhsm ]] && max=$SOFTHSM_MAX
      [[ $r == 1 ]] && say "stage $n objects: populating and measuring, $p" || say "stage $n objects: round $r, $p"
      run objects --peer "$p" --module "${MODULE[$p]}" --label $LABEL --stage "$n" --max-objects "$max" \
        --populate-seconds "$POPULATE"
    done
  done
done

say "done"
echo
"$BIN" report "$RESULTS"
