#!/usr/bin/env bash
# Group 2 — GnuTLS: p11tool lists tokens and objects, generates P-256 and Ed25519 keys,
# test-signs with them, writes a certificate and deletes objects; certtool self-signs
# a certificate with a token key and openssl verifies it and its public key.
# (The Ed25519 pair is made by the ferrohsm CLI: see the GnuTLS bug below.)
# PINs reach GnuTLS through GNUTLS_PIN / GNUTLS_SO_PIN (no PIN in argv).
# usage: gnutls_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd p11tool certtool openssl
check "fresh token 'gnutls' (ferrohsm token init)" init_token gnutls
init_args_check "p11-kit, loading the module for GnuTLS,"
export GNUTLS_PIN="$USER_PIN" GNUTLS_SO_PIN="$SO_PIN"
p11() { p11tool --provider "$module" --batch "$@"; }
T="pkcs11:token=gnutls"

list_tokens() {
  p11 --list-tokens > "$work/tokens"
  cat "$work/tokens"
  grep -q "URL: pkcs11:.*token=gnutls" "$work/tokens"
  grep -q "Manufacturer:" "$work/tokens"
}
check "p11tool --list-tokens shows the token's URL" list_tokens

gen() {  # label p11tool-type [--curve=…]
  local label="$1"; shift
  p11 --login --generate-privkey "$@" --label "$label" "$T"
}
check "p11tool --generate-privkey ECDSA secp256r1" gen gk-ec ECDSA --curve=secp256r1
# GnuTLS 3.7.9 asks C_GenerateKeyPair for Ed25519 with CKM_EDDSA (0x1057) instead of
# CKM_EC_EDWARDS_KEY_PAIR_GEN; SoftHSM2 refuses it the same way (docs/COMPATIBILITY.md).
# The Ed25519 pair comes from the ferrohsm CLI; p11tool and certtool then use it.
gen_ed_cli() { FERROHSM_PIN="$USER_PIN" "$cli" key generate --token gnutls --type ed25519 --label gk-ed; }
check "Ed25519 pair from the ferrohsm CLI (p11tool cannot generate one: GnuTLS bug)" gen_ed_cli

list_all() {
  p11 --login --list-all "$T" > "$work/all"
  cat "$work/all"
  for o in gk-ec gk-ed; do
    grep -q "URL: pkcs11:.*token=gnutls;.*object=$o;type=private" "$work/all"
    grep -q "URL: pkcs11:.*token=gnutls;.*object=$o;type=public" "$work/all"
  done
}
check "p11tool --list-all shows both pairs, private and public" list_all

list_privkeys() {
  p11 --login --list-privkeys "$T" > "$work/priv"
  [ "$(grep -c '^Object' "$work/priv")" -eq 2 ]
  p11 --list-privkeys "$T" > "$work/priv-nologin" 2>&1 || true
  ! grep -q 'type=private' "$work/priv-nologin"
}
check "private keys are listed after login only" list_privkeys

test_sign() {
  p11 --login --test-sign "$T;object=$1;type=private" > "$work/ts" 2>&1; cat "$work/ts"
  grep -q "Verifying against public key in the token... ok" "$work/ts"
  grep -q "Verifying against private key parameters... ok" "$work/ts"
}
check "p11tool --test-sign with the P-256 key"   test_sign gk-ec
# p11tool 3.7.9 --test-sign always hashes with SHA-256 and refuses Ed25519 before any
# PKCS#11 call ("No supported signature algorithm for EdDSA (Ed25519) and SHA256");
# the Ed25519 key signs below, through certtool.

export_pub() {
  p11 --export-pubkey "$T;object=gk-ec;type=public" --outfile "$work/gk-ec.pub.pem"
  openssl pkey -pubin -in "$work/gk-ec.pub.pem" -noout -text | grep -q "NIST CURVE: P-256"
}
check "p11tool --export-pubkey; openssl reads a P-256 key" export_pub

cat > "$work/tmpl" <<'TMPL'
cn = "FerroHSM GnuTLS interop"
organization = "FerroHSM"
serial = 4242
expiration_days = 30
ca
cert_signing_key
signing_key
TMPL

self_signed() {  # label curve-check
  certtool --provider "$module" --generate-self-signed \
    --load-privkey "$T;object=$1;type=private" --load-pubkey "$T;object=$1;type=public" \
    --template "$work/tmpl" --outfile "$work/$1.crt"
  openssl x509 -in "$work/$1.crt" -noout -subject | grep -q "FerroHSM GnuTLS interop"
  # the certificate's signature verifies with openssl, and its key is the token's key
  openssl verify -CAfile "$work/$1.crt" -check_ss_sig "$work/$1.crt"
  p11 --export-pubkey "$T;object=$1;type=public" --outfile "$work/$1.tokpub.pem"
  cmp <(openssl x509 -in "$work/$1.crt" -pubkey -noout | openssl pkey -pubin -outform DER) \
      <(openssl pkey -pubin -in "$work/$1.tokpub.pem" -outform DER)
}
check "certtool self-signs with the P-256 key; openssl verifies"   self_signed gk-ec
check "certtool self-signs with the Ed25519 key; openssl verifies" self_signed gk-ed

tampered_cert() {  # flip one byte of the signature: openssl must refuse it
  openssl x509 -in "$work/gk-ec.crt" -outform DER -out "$work/c.der"
  local n; n=$(stat -c %s "$work/c.der")
  printf '\x01' | dd of="$work/c.der" bs=1 seek=$((n - 5)) conv=notrunc status=none
  openssl x509 -inform DER -in "$work/c.der" -out "$work/bad.crt"
  ! openssl verify -CAfile "$work/bad.crt" -check_ss_sig "$work/bad.crt"
}
check "a certificate with a damaged signature does not verify" tampered_cert

write_cert() {
  p11 --login --write --load-certificate "$work/gk-ec.crt" --label gk-ec-cert "$T"
  p11 --list-all-certs "$T" > "$work/certs"
  grep -q "object=gk-ec-cert;type=cert" "$work/certs"
  p11 --export "$T;object=gk-ec-cert;type=cert" --outfile "$work/back.crt"
  cmp <(openssl x509 -in "$work/back.crt" -outform DER) <(openssl x509 -in "$work/gk-ec.crt" -outform DER)
}
check "p11tool --write stores the certificate; --export returns it unchanged" write_cert

delete() {
  p11 --login --delete "$T;object=gk-ed"
  p11 --login --delete "$T;object=gk-ec-cert;type=cert"
  p11 --login --list-all "$T" > "$work/left"
  ! grep -q "object=gk-ed" "$work/left"
  ! grep -q "type=cert" "$work/left"
  grep -q "object=gk-ec;type=private" "$work/left"
}
check "p11tool --delete removes the Ed25519 pair and the certificate, nothing else" delete

random() {
  p11 --generate-random 32 "$T" > "$work/rnd"
  [ "$(stat -c %s "$work/rnd")" -eq 32 ]
}
check "p11tool --generate-random 32" random

finish
