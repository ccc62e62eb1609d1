# shellcheck shell=bash disable=SC2154  # $work, $group and $cli are lib.sh's
# The sidecar-tls flavor of the interop groups: sourced by tests/interop/lib.sh when
# FERROHSM_INTEROP_SERVER names a ferrohsm-server program. The group's checks then run
# unchanged, but the module they load is a client of a ferrohsm-server started here over
# TCP with mutual TLS (certificates from `ferrohsm tls init`), and stopped by its pid at
# exit:
#
#   $work/server.toml   tcp:127.0.0.1:0 (the port the server logs), the group's store
#   $work/ferrohsm.toml mode = "sidecar", the endpoint and the client certificate;
#                       FERROHSM_CONF, so every client the group runs uses it
#   $work/cli.toml      the embedded configuration on the server's store, for the
#                       ferrohsm CLI (an administrator's tool on the server's host: it
#                       opens the store itself, as a second process sharing it)
#   $work/server.log    the server's log; $work/ferrohsm.log stays the module's
#
# Functions and variables come from lib.sh: $work, $cli, on_cleanup.

sidecar_setup() {
  local server="$1" tls="$work/tls" port=""
  [ -x "$server" ] || { echo "FAIL: ferrohsm-server '$server' is not a program"; exit 1; }
  mv "$work/ferrohsm.toml" "$work/cli.toml"
  sed -i "s|^destination = .*|destination = \"$work/cli.log\"|" "$work/cli.toml"
  "$cli" tls init "$tls" > "$work/tls-init.out"
  cat > "$work/server.toml" <<CONF
[server]
listen = ["tcp:127.0.0.1:0"]
tls_cert = "$tls/server.pem"
tls_key = "$tls/server.key"
client_ca = "$tls/ca.pem"
[[access]]
peer = "cert:CN=ferrohsm-dev-client"
tokens = ["*"]
admin = true
[store]
path = "$work/ferrohsm.db"
[pin]
kdf_iterations = 1000
[dev]
allow_weak_kdf = true
[log]
level = "debug"
destination = "$work/server.log"
CONF
  # exec, so that $! is the server itself; stopped by that pid at exit (SIGTERM, then
  # at most 10 s before SIGKILL)
  (exec "$server" --config "$work/server.toml") > "$work/server.out" 2>&1 &
  _sidecar_pid=$!
  on_cleanup "_sidecar_stop $_sidecar_pid"
  for _ in $(seq 1 200); do
    port=""
    if [ -f "$work/server.log" ] && grep -q "serving with" "$work/server.log"; then
      port="$(sed -n 's/.*listening on tcp:127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/server.log" | head -1)"
      break
    fi
    kill -0 "$_sidecar_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "FAIL: ferrohsm-server did not start"
    cat "$work/server.out" "$work/server.log" 2>/dev/null | tail -n 20 | sed 's/^/  | /'
    exit 1
  fi
  cat > "$work/ferrohsm.toml" <<CONF
mode = "sidecar"
[sidecar]
endpoints = ["tcp:127.0.0.1:$port"]
cert = "$tls/client.pem"
key = "$tls/client.key"
ca = "$tls/ca.pem"
[log]
level = "debug"
destination = "$work/ferrohsm.log"
CONF
  # The CLI, wherever a group runs it, on the server's store.
  local real_cli="$cli"
  cli="$work/ferrohsm-cli"
  printf '#!/bin/sh\nFERROHSM_CONF="%s" exec "%s" "$@"\n' "$work/cli.toml" "$real_cli" > "$cli"
  chmod 755 "$cli"
  echo "== $group: sidecar-tls flavor, ferrohsm-server pid $_sidecar_pid on tcp:127.0.0.1:$port"
}

# At the group's end (lib.sh's finish): the server is still serving, and SIGTERM stops it
# with exit status 0 (no call left running).
sidecar_finish() {
  local rc=0
  _log_header "--- ferrohsm-server (pid $_sidecar_pid) still runs, and stops on SIGTERM with status 0"
  if kill -TERM "$_sidecar_pid" 2>/dev/null; then
    for _ in $(seq 1 150); do
      kill -0 "$_sidecar_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$_sidecar_pid" 2>/dev/null; then
      echo "still running 15 s after SIGTERM" >> "$work/log"
      rc=1
    else
      wait "$_sidecar_pid" || rc=$?
    fi
  else
    echo "the server was gone before the end of the group" >> "$work/log"
    rc=1
  fi
  tail -n 15 "$work/server.log" >> "$work/log"
  _result "$rc" "ferrohsm-server served the whole group and stopped cleanly on SIGTERM"
}

# SIGTERM, a bounded wait, then SIGKILL (at exit, when sidecar_finish did not run).
_sidecar_stop() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
