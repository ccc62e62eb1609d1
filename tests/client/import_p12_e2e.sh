#!/usr/bin/env bash
# End to end: `openssl pkcs12 -export` → ferrohsm import-p12 → `pkcs11-tool --sign` →
# `openssl dgst -verify` with the certificate's key, for an RSA and an EC key.
# Usage: import_p12_e2e.sh IMPORT_TOOL MODULE [softhsm|ferrohsm]
set -euo pipefail
tool=$1 module=$2 kind=${3:-softhsm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$work" >"$work/softhsm2.conf"
printf '[store]\npath = "%s/ferrohsm.db"\n[pin]\nkdf_iterations = 1000\n[dev]\nallow_weak_kdf = true\n' "$work" >"$work/ferrohsm.toml"
export SOFTHSM2_CONF=$work/softhsm2.conf FERROHSM_CONF=$work/ferrohsm.toml
pin=246810
printf '%s\n' "$pin" >"$work/pin"
printf 'p12-secret\n' >"$work/password"

pkcs11-tool --module "$module" --init-token --label e2e --so-pin 13579111 >/dev/null
pkcs11-tool --module "$module" --token-label e2e --login --login-type so --so-pin 13579111 --init-pin --pin "$pin" >/dev/null
printf 'data to sign, end to end\n' >"$work/data"

for type in rsa ec; do
  if [ "$type" = rsa ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/$type.key" -out "$work/$type.crt" -days 2 -subj "/CN=e2e $type" 2>/dev/null
    mech=SHA256-RSA-PKCS fmt=() id=0a0b
  else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$type.key" -out "$work/$type.crt" -days 2 -subj "/CN=e2e $type" 2>/dev/null
    mech=ECDSA fmt=(--signature-format openssl) id=0c0d
  fi
  openssl pkcs12 -export -inkey "$work/$type.key" -in "$work/$type.crt" -passout file:"$work/password" -out "$work/$type.p12"

  # A wrong password is a clear error and imports nothing.
  printf 'not-it\n' >"$work/bad"
  if "$tool" import-p12 --module "$module" --token e2e --pin-file "$work/pin" --p12 "$work/$type.p12" \
       --password-file "$work/bad" --key-label "key-$type" 2>"$work/err"; then
    echo "FAIL: wrong password accepted"; exit 1
  fi
  grep -q "wrong password" "$work/err" || { echo "FAIL: unclear error: $(cat "$work/err")"; exit 1; }

  FERROHSM_PIN=$pin "$tool" import-p12 --module "$module" --token e2e --p12 "$work/$type.p12" \
    --password-file "$work/password" --key-label "key-$type" --id "$id"
  # The same label again is refused.
  if FERROHSM_PIN=$pin "$tool" import-p12 --module "$module" --token e2e --p12 "$work/$type.p12" \
       --password-file "$work/password" --key-label "key-$type" 2>"$work/err"; then
    echo "FAIL: label reuse accepted"; exit 1
  fi
  grep -q "already in use" "$work/err" || { echo "FAIL: unclear error: $(cat "$work/err")"; exit 1; }

  # pkcs11-tool --sign picks the private key by --id (the first key without one).
  if [ "$type" = rsa ]; then
    pkcs11-tool --module "$module" --token-label e2e --login --pin "$pin" --sign --mechanism "$mech" \
      --id "$id" -i "$work/data" -o "$work/$type.sig" >/dev/null
  else
    openssl dgst -sha256 -binary "$work/data" >"$work/data.sha256"
    pkcs11-tool --module "$module" --token-label e2e --login --pin "$pin" --sign --mechanism "$mech" "${fmt[@]}" \
      --id "$id" -i "$work/data.sha256" -o "$work/$type.sig" >/dev/null
  fi
  openssl x509 -in "$work/$type.crt" -pubkey -noout >"$work/$type.pub"
  openssl dgst -sha256 -verify "$work/$type.pub" -signature "$work/$type.sig" "$work/data"
  # The private key is listed, and pkcs11-tool reports it sensitive.
  pkcs11-tool --module "$module" --token-label e2e --login --pin "$pin" --list-objects --type privkey >"$work/list" 2>/dev/null
  grep -q "key-$type" "$work/list" || { echo "FAIL: key-$type not listed"; exit 1; }
  grep -A8 "key-$type" "$work/list" | grep -q "never extractable\|sensitive" || { echo "FAIL: key-$type not sensitive"; exit 1; }
done
echo "import-p12 end to end ($kind): 2 passed, 0 failed"
