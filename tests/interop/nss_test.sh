#!/usr/bin/env bash
# Group 8 — NSS (libnss3-tools): modutil adds the library to a fresh NSS database and
# lists the token; certutil lists the tokens, generates a P-256 key on the token and a
# self-signed certificate stored there, lists keys and certificates; openssl verifies the
# certificate. The PIN reaches certutil through a password file (-f), never argv.
# usage: nss_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd modutil certutil openssl
check "fresh token 'nss' (ferrohsm token init)" init_token nss
db="sql:$work/nssdb"
mkdir -p "$work/nssdb"
cp "$work/user.pin" "$work/pw"
head -c 64 /dev/urandom > "$work/noise"

newdb() { certutil -N -d "$db" --empty-password; }
check "certutil -N: a fresh NSS database" newdb

add() {
  modutil -dbdir "$db" -add FerroHSM -libfile "$module" -force
  modutil -dbdir "$db" -list FerroHSM > "$work/mod"
  cat "$work/mod"
  grep -q "Library file: $module" "$work/mod"
  grep -q "Token Name: nss" "$work/mod"
  grep -q "Status: Enabled" "$work/mod"
}
check "modutil -add the module; -list shows it and the token" add

tokens() {
  certutil -U -d "$db" > "$work/tokens"
  cat "$work/tokens"
  grep -q "token=nss" "$work/tokens"
}
check "certutil -U lists the token by its PKCS#11 URI" tokens

selfsign() {
  certutil -S -d "$db" -h nss -f "$work/pw" -z "$work/noise" -n ferro-cert -s "CN=FerroHSM NSS interop" \
           -x -t "CT,," -k ec -q nistp256 -Z SHA256 -v 1 -2 <<< $'y\n-1\nn\n'
}
check "certutil -S generates a P-256 key on the token and a self-signed certificate" selfsign

listed() {
  certutil -L -d "$db" -h nss -f "$work/pw" > "$work/certs"
  cat "$work/certs"
  grep -q "nss:ferro-cert" "$work/certs"
  certutil -K -d "$db" -h nss -f "$work/pw" > "$work/keys"
  cat "$work/keys"
  grep -q "ec .*nss:ferro-cert" "$work/keys"
}
check "certutil -L and -K list the certificate and its key on the token" listed

on_token() {  # the objects really are on the FerroHSM token: the CLI sees them
  FERROHSM_PIN="$USER_PIN" "$cli" key list --token nss > "$work/cli-list"
  cat "$work/cli-list"
  grep -q "^private-key *ec " "$work/cli-list"
  grep -q "^certificate .*label=ferro-cert" "$work/cli-list"
}
check "the ferrohsm CLI sees the key and the certificate on the token" on_token

verify() {
  certutil -L -d "$db" -h nss -n "nss:ferro-cert" -a -f "$work/pw" > "$work/cert.pem"
  openssl x509 -in "$work/cert.pem" -noout -subject | grep -q "CN *= *FerroHSM NSS interop"
  openssl x509 -in "$work/cert.pem" -noout -text | grep -q "ecdsa-with-SHA256"
  openssl verify -CAfile "$work/cert.pem" -check_ss_sig "$work/cert.pem"
}
check "openssl verifies the certificate the token signed" verify

delete() {
  certutil -F -d "$db" -h nss -n "nss:ferro-cert" -f "$work/pw"
  certutil -K -d "$db" -h nss -f "$work/pw" > "$work/keys2" 2>&1 || true
  ! grep -q "nss:ferro-cert" "$work/keys2"
}
check "certutil -F deletes the key and certificate" delete

finish
