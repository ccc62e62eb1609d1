#!/usr/bin/env bash
# OpenSC's pkcs11-tool against the built module on a fresh store: list the token and
# its mechanisms, generate RSA-2048, P-256 and Ed25519 keys, sign with each, and
# verify every signature with plain openssl from the public key the token exports.
set -euo pipefail
module="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/ferrohsm.toml" <<CONF
[store]
path = "$work/ferrohsm.db"
[pin]
kdf_iterations = 1000
[dev]
allow_weak_kdf = true
CONF
export FERROHSM_CONF="$work/ferrohsm.toml"
pass=0; fail=0
check() { if "$@" >>"$work/log" 2>&1; then pass=$((pass+1)); echo "PASS: ${label}"; else fail=$((fail+1)); echo "FAIL: ${label}"; tail -20 "$work/log"; fi; }
p11() { pkcs11-tool --module "$module" "$@"; }
so=so-pin-1234; pin=user-1234

label="init token and user PIN"
check bash -c "pkcs11-tool --module '$module' --init-token --slot 0 --label interop --so-pin $so && \
               pkcs11-tool --module '$module' --token-label interop --init-pin --login --login-type so --so-pin $so --pin $pin"
label="token listed with its flags"
check bash -c "pkcs11-tool --module '$module' -L | grep -q 'token label        : interop' && \
               pkcs11-tool --module '$module' -L | grep -q 'PIN initialized'"
label="mechanisms listed"
check bash -c "pkcs11-tool --module '$module' -M | grep -q 'ECDSA-SHA256' && pkcs11-tool --module '$module' -M | grep -q 'EDDSA' && \
               pkcs11-tool --module '$module' -M | grep -q 'SHA256-RSA-PKCS-PSS'"
echo "signed by FerroHSM through pkcs11-tool" > "$work/data"
spki_ed() {  # pkcs11-tool 0.23 cannot export Edwards keys as SPKI: build it from CKA_EC_POINT
  local point; point=$(p11 --token-label interop -O --type pubkey --id 03 2>/dev/null | sed -n 's/.*EC_POINT: *0420\([0-9a-f]\{64\}\).*/\1/p')
  echo "302a300506032b6570032100$point" | xxd -r -p > "$1"
}
for spec in "rsa:2048 01 SHA256-RSA-PKCS" "EC:prime256v1 02 ECDSA-SHA256" "EC:edwards25519 03 EDDSA"; do
  set -- $spec
  label="keypairgen $1"
  check p11 --token-label interop --login --pin $pin --keypairgen --key-type "$1" --id "$2" --label "k$2"
  label="sign $3 and verify with openssl"
  case "$3" in
    SHA256-RSA-PKCS)
      check bash -c "pkcs11-tool --module '$module' --token-label interop --login --pin $pin --sign -m $3 --id $2 -i '$work/data' -o '$work/sig$2' && \
        pkcs11-tool --module '$module' --token-label interop --read-object --type pubkey --id $2 -o '$work/pub$2.der' && \
        openssl dgst -sha256 -verify <(openssl pkey -pubin -inform DER -in '$work/pub$2.der') -signature '$work/sig$2' '$work/data'" ;;
    ECDSA-SHA256)
      check bash -c "pkcs11-tool --module '$module' --token-label interop --login --pin $pin --sign -m $3 --signature-format openssl --id $2 -i '$work/data' -o '$work/sig$2' && \
        pkcs11-tool --module '$module' --token-label interop --read-object --type pubkey --id $2 -o '$work/pub$2.der' && \
        openssl dgst -sha256 -verify <(openssl pkey -pubin -inform DER -in '$work/pub$2.der') -signature '$work/sig$2' '$work/data'" ;;
    EDDSA)
      spki_ed "$work/pub03.der"
      check bash -c "pkcs11-tool --module '$module' --token-label interop --login --pin $pin --sign -m EDDSA --id 03 -i '$work/data' -o '$work/sig03' && \
        openssl pkeyutl -verify -pubin -keyform DER -inkey '$work/pub03.der' -rawin -in '$work/data' -sigfile '$work/sig03'" ;;
  esac
done
label="a tampered message does not verify"
echo tampered >> "$work/data"
if openssl dgst -sha256 -verify <(openssl pkey -pubin -inform DER -in "$work/pub01.der") -signature "$work/sig01" "$work/data" >/dev/null 2>&1; then
  fail=$((fail+1)); echo "FAIL: $label"; else pass=$((pass+1)); echo "PASS: $label"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
