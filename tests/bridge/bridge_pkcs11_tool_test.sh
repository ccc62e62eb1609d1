#!/usr/bin/env bash
# OpenSC's pkcs11-tool on a bridged SoftHSMv2 slot through libferrohsm-pkcs11.so: the
# slot is listed beside the keystore's, an EC P-256 key pair is generated there, a
# SHA-256 digest is signed with CKM_ECDSA and openssl verifies the signature; a wrong
# PIN answers SoftHSMv2's CKR_PIN_INCORRECT. Then the same through ferrohsm-server (its
# own [[bridge]]) with the library in sidecar mode. A missing tool is a failure.
#   $1 = libferrohsm-pkcs11.so, $2 = libsofthsm2.so, $3 = ferrohsm-server
set -euo pipefail
module="$(readlink -f "$1")"
softhsm="$2"
server="$(readlink -f "$3")"
for cmd in pkcs11-tool softhsm2-util openssl; do
  command -v "$cmd" >/dev/null || { echo "FAIL: $cmd is not installed"; exit 1; }
done
[ -f "$softhsm" ] || { echo "FAIL: no SoftHSMv2 library at $softhsm"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/ferrohsm-bridge-tool.XXXXXX")"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" > "$work/softhsm2.conf"
export SOFTHSM2_CONF="$work/softhsm2.conf"
cat > "$work/ferrohsm.toml" <<CONF
[store]
path = "$work/ferrohsm.db"
[pin]
kdf_iterations = 1000
[dev]
allow_weak_kdf = true
[log]
level = "error"
destination = "$work/ferrohsm.log"

[[bridge]]
module = "$softhsm"
token = "bridged"
CONF
export FERROHSM_CONF="$work/ferrohsm.toml"
pin="user-$RANDOM$RANDOM"
softhsm2-util --init-token --free --label bridged --so-pin "so-$RANDOM$RANDOM" --pin "$pin" > "$work/init.log"

slot=$((0x40000000))  # bridge 0's first slot
fails=0
# The subshell is not a condition, so that `set -e` holds inside it.
check() {
  local what="$1" rc; shift
  set +e
  ( set -e; "$@" ) >> "$work/log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    echo "PASS: $what"
  else
    echo "FAIL: $what"; tail -n 20 "$work/log"; fails=$((fails + 1))
  fi
}

lists_both() {
  pkcs11-tool --module "$module" -L > "$work/slots"
  grep -q '^Slot 0 (0x0):' "$work/slots"
  grep -q "(0x40000000): SoftHSM" "$work/slots"
  grep -q 'token label *: bridged' "$work/slots"
}
keygen() {
  pkcs11-tool --module "$module" --slot "$slot" --login --pin "$pin" \
    --keypairgen --key-type EC:prime256v1 --label tool-key --id 4242
}
sign_and_verify() {
  echo "signed by pkcs11-tool through the bridge" > "$work/data"
  openssl dgst -sha256 -binary "$work/data" > "$work/digest"
  pkcs11-tool --module "$module" --slot "$slot" --login --pin "$pin" --sign -m ECDSA --id 4242 \
    -i "$work/digest" -o "$work/sig" --signature-format openssl
  pkcs11-tool --module "$module" --slot "$slot" --read-object --type pubkey --id 4242 -o "$work/pub.der"
  openssl pkey -pubin -inform DER -in "$work/pub.der" -out "$work/pub.pem"
  openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/data"
  { cat "$work/data"; echo tampered; } > "$work/tampered"
  if openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/tampered"; then return 1; fi
}
wrong_pin() {
  if pkcs11-tool --module "$module" --slot "$slot" --login --pin "not-$pin" -O > "$work/wrong" 2>&1; then return 1; fi
  grep -q CKR_PIN_INCORRECT "$work/wrong"
}

check "pkcs11-tool -L lists the keystore slot and the bridged SoftHSMv2 slot" lists_both
check "pkcs11-tool generates an EC P-256 key pair on the bridged slot" keygen
check "pkcs11-tool signs with CKM_ECDSA on the bridged slot and openssl verifies" sign_and_verify
check "a wrong PIN answers SoftHSMv2's CKR_PIN_INCORRECT" wrong_pin
# The server composes its Core with the same bridges; the library is its sidecar client.
cat > "$work/server.toml" <<CONF
[server]
listen = ["unix:$work/server.sock"]

[[access]]
peer = "uid:$(id -u)"
tokens = ["*"]
admin = true

$(cat "$work/ferrohsm.toml")
CONF
sed -i "s|$work/ferrohsm.db|$work/server.db|; s|$work/ferrohsm.log|$work/server.log|" "$work/server.toml"
printf 'mode = "sidecar"\n[sidecar]\nendpoints = ["unix:%s/server.sock"]\n' "$work" > "$work/sidecar.toml"
"$server" --config "$work/server.toml" >> "$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -S "$work/server.sock" ] && break; sleep 0.1; done
through_server() {
  export FERROHSM_CONF="$work/sidecar.toml"
  pkcs11-tool --module "$module" -L | grep -q "(0x40000000): SoftHSM"
  pkcs11-tool --module "$module" --slot "$slot" --login --pin "$pin" --sign -m ECDSA --id 4242 \
    -i "$work/digest" -o "$work/sig2" --signature-format openssl
  openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig2" "$work/data"
}
check "through ferrohsm-server: the bridged slot is listed, signs, and openssl verifies" through_server

echo "bridge_pkcs11_tool: $fails failure(s)"
[ "$fails" -eq 0 ]
