# shellcheck shell=bash
# Sourced by every interop group script: a temporary store, a fresh token, PASS/FAIL
# bookkeeping and cleanup.
#
#   source "$(dirname "$0")/lib.sh"
#   interop_setup "$@"            # $1 = libferrohsm-pkcs11.so, $2 = the ferrohsm CLI
#   need_cmd pkcs11-tool openssl  # a missing client is a FAIL, and the group stops
#   init_token mytoken            # SO PIN $SO_PIN, user PIN $USER_PIN (both exported)
#   check "what is checked" some_function args...
#   known_bug "what" "the FerroHSM fault" some_function args...
#   on_cleanup "command"          # run at exit, last registered first
#   finish                        # prints the totals; exit status 1 on any FAIL
#
# A check runs in a subshell with `set -e`, its output going to $work/log; on failure
# the tail of that log is printed under the FAIL line. PINs reach clients through the
# environment, a file or stdin wherever the client allows it (see docs/COMPATIBILITY.md).
set -euo pipefail

interop_setup() {
  module="$(readlink -f "$1")"
  cli="$(readlink -f "$2")"
  group="$(basename "$0" .sh)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/ferrohsm-${group}.XXXXXX")"
  _cleanups=()
  trap _interop_exit EXIT
  cat > "$work/ferrohsm.toml" <<CONF
[store]
path = "$work/ferrohsm.db"
[pin]
kdf_iterations = 1000
[dev]
allow_weak_kdf = true
[log]
level = "debug"
destination = "$work/ferrohsm.log"
CONF
  export FERROHSM_CONF="$work/ferrohsm.toml"
  export SO_PIN="so-pin-$RANDOM$RANDOM" USER_PIN="user-$RANDOM$RANDOM"
  printf '%s\n' "$USER_PIN" > "$work/user.pin"
  chmod 600 "$work/user.pin"
  pass=0
  fail=0
  : > "$work/log"
  : > "$work/ferrohsm.log"
  _modlog_at=0
  echo "== $group: module $module, store $work"
  # The sidecar-tls flavor (tests/sidecar): the module is a client of a ferrohsm-server.
  if [ -n "${FERROHSM_INTEROP_SERVER:-}" ]; then
    # shellcheck source=../sidecar/interop_sidecar.sh
    source "$(dirname "${BASH_SOURCE[0]}")/../sidecar/interop_sidecar.sh"
    sidecar_setup "$(readlink -f "$FERROHSM_INTEROP_SERVER")"
  fi
}

on_cleanup() { _cleanups+=("$1"); }

_interop_exit() {
  local i
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}

_result() {  # _result <rc> <label> [note]
  if [ "$1" -eq 0 ]; then
    pass=$((pass + 1))
    echo "PASS: $2"
  else
    fail=$((fail + 1))
    echo "FAIL: $2${3:+ ($3)}"
    echo "  --- last lines of the log ---"
    tail -n 25 "$work/log" | sed 's/^/  | /'
    [ -z "$(tail -c 1 "$work/log")" ] || echo  # the log may end without a newline
    # what FerroHSM answered other than CKR_OK during this check (its debug log)
    tail -n +"$((_modlog_at + 1))" "$work/ferrohsm.log" | grep -- '-> CKR_' | grep -v -- '-> CKR_OK' |
      sort | uniq -c | head -n 10 | sed 's/^/  | ferrohsm: /' || true
  fi
}

_log_header() {
  _modlog_at=$(wc -l < "$work/ferrohsm.log")
  [ -z "$(tail -c 1 "$work/log")" ] || echo >> "$work/log"
  echo "$1" >> "$work/log"
}

check() {
  local label="$1" rc
  shift
  _log_header "--- $label"
  set +e
  (set -e; "$@") >> "$work/log" 2>&1
  rc=$?
  set -e
  _result "$rc" "$label"
}

# A check that fails because of a FerroHSM bug reported to the core: it still runs,
# and still prints FAIL while the bug is there, naming it.
known_bug() {
  local label="$1" why="$2" rc
  shift 2
  _log_header "--- $label (known FerroHSM bug: $why)"
  set +e
  (set -e; "$@") >> "$work/log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    _result 0 "$label (the known FerroHSM bug '$why' is fixed: make this a plain check)"
  else
    _result 1 "$label" "known FerroHSM bug: $why"
  fi
}

# Every client the group needs; a missing one is a FAIL and ends the group.
need_cmd() {
  local c missing=0
  for c in "$@"; do
    if ! command -v "$c" >/dev/null 2>&1 && [ ! -e "$c" ]; then
      _result 1 "client '$c' is installed" "see scripts/debian-packages.txt"
      missing=1
    fi
  done
  if [ "$missing" -ne 0 ]; then finish; fi
}

# A fresh token in the free slot, through the ferrohsm CLI (C_InitToken, C_InitPIN).
init_token() {
  FERROHSM_SO_PIN="$SO_PIN" FERROHSM_PIN="$USER_PIN" "$cli" token init --label "$1" >> "$work/log" 2>&1
}

# The numeric slot id of the token labelled $1.
slot_of() {
  "$cli" --json token list | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tokens"]:
    if t["label"] == sys.argv[1]:
        print(t["slot"])' "$1"
}

# C_Initialize with the standard six-member CK_C_INITIALIZE_ARGS that p11-kit,
# SunPKCS11, libp11 and miekg/pkcs11 pass (NSS's header has a seventh member): the
# module must read nothing past it (it once did: CKR_ARGUMENTS_BAD or SIGSEGV).
init_args_check() {
  check "C_Initialize reads only the standard CK_C_INITIALIZE_ARGS ($1 passes that struct)" \
    python3 "$(dirname "$0")/init_args_check.py" "$module"
}

finish() {
  if declare -F sidecar_finish > /dev/null; then sidecar_finish; fi
  echo "== $group: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && exit 0
  exit 1
}
