#!/usr/bin/env bash
# Group 1 — OpenSC pkcs11-tool against the built module on a fresh store: list slots,
# token, mechanisms, objects and interfaces; initialise a token; generate RSA-2048,
# P-256, P-384 and Ed25519 keys; sign with PKCS#1 v1.5, PSS, ECDSA and EdDSA and verify
# every signature with plain openssl from the public key the token exports; ECDH
# derive matching `openssl pkeyutl -derive`; AES-CBC-PAD matching `openssl enc`;
# its own `--test --login` and `--test-fork`.
# usage: pkcs11_tool_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd pkcs11-tool openssl xxd

# PINs reach pkcs11-tool as --pin env:NAME (OpenSC reads the variable; no PIN in argv).
p11() { pkcs11-tool --module "$module" "$@"; }
tok() { p11 --token-label interop "$@"; }
user() { tok --login --pin env:USER_PIN "$@"; }
echo "signed by FerroHSM through pkcs11-tool" > "$work/data"

init_with_pkcs11_tool() {
  p11 --init-token --slot "$(p11 -L | sed -n 's/^Slot \([0-9]*\) .*/\1/p' | head -1)" --label interop --so-pin env:SO_PIN
  tok --init-pin --login --login-type so --so-pin env:SO_PIN --pin env:USER_PIN
}
check "init token and user PIN (--init-token, --init-pin)" init_with_pkcs11_tool

token_listed() {
  p11 -L > "$work/slots"
  grep -q 'token label        : interop' "$work/slots"
  grep -q 'PIN initialized' "$work/slots"
  grep -q 'token initialized' "$work/slots"
  # the library always offers one more slot with an uninitialised token
  grep -q 'token state:   uninitialized' "$work/slots"
}
check "-L lists the token with its flags and a free slot" token_listed

check "-I shows cryptoki 3.0 module info" bash -c "pkcs11-tool --module '$module' -I | grep -q 'Cryptoki version 3.0'"

interfaces() {
  p11 --list-interfaces > "$work/ifaces"
  cat "$work/ifaces"
  grep -q "PKCS 11" "$work/ifaces"
  grep -q "version: *3\.0" "$work/ifaces"
}
check "--list-interfaces shows \"PKCS 11\" 3.0" interfaces

mechanisms() {
  tok -M > "$work/mechs"
  local m
  for m in RSA-PKCS-KEY-PAIR-GEN SHA256-RSA-PKCS SHA256-RSA-PKCS-PSS RSA-PKCS-PSS ECDSA ECDSA-SHA256 ECDSA-SHA384 \
           ECDSA-KEY-PAIR-GEN EC-EDWARDS-KEY-PAIR-GEN EDDSA AES-KEY-GEN AES-CBC-PAD AES-GCM SHA256 SHA256-HMAC; do
    grep -q "^  *$m," "$work/mechs" || { echo "mechanism $m missing"; cat "$work/mechs"; exit 1; }
  done
}
check "-M lists RSA, PSS, ECDSA, EdDSA, AES and HMAC mechanisms" mechanisms

# ---- key generation
gen() { user --keypairgen --key-type "$1" --id "$2" --label "k$2"; }
check "keypairgen RSA-2048"          gen rsa:2048 01
check "keypairgen EC P-256"          gen EC:prime256v1 02
check "keypairgen EC P-384"          gen EC:secp384r1 04
check "keypairgen Ed25519"           gen EC:edwards25519 03

objects_listed() {
  user -O > "$work/objects"
  for id in 01 02 03 04; do
    grep -Eq "^[[:space:]]*ID:[[:space:]]+$id$" "$work/objects"
  done
  [ "$(grep -c '^Private Key Object' "$work/objects")" -eq 4 ]
  [ "$(grep -c '^Public Key Object' "$work/objects")" -eq 4 ]
}
check "-O lists the four key pairs" objects_listed

# ---- export the public keys as SPKI, parse them with openssl
export_pub() { tok --read-object --type pubkey --id "$1" -o "$work/pub$1.der"; openssl pkey -pubin -inform DER -in "$work/pub$1.der" -out "$work/pub$1.pem"; }
check "export RSA public key, openssl parses it"   export_pub 01
check "export P-256 public key, openssl parses it" export_pub 02
# OpenSC 0.23 --read-object cannot write an Edwards key, nor a P-384 key, as SPKI
# ("cannot create EVP_PKEY" with SoftHSM2 too; docs/COMPATIBILITY.md): build the SPKI
# from CKA_EC_POINT as -O prints it (a DER OCTET STRING: 04 len point).
spki_from_point() {  # id spki-prefix-hex point-octet-string-prefix-hex point-hex-length
  local point
  point=$(tok -O --type pubkey --id "$1" | sed -n "s/.*EC_POINT: *$3\([0-9a-f]*\).*/\1/p")
  [ ${#point} -eq "$4" ]
  echo "$2$point" | xxd -r -p > "$work/pub$1.der"
  openssl pkey -pubin -inform DER -in "$work/pub$1.der" -out "$work/pub$1.pem"
}
check "P-384 public key from CKA_EC_POINT, openssl parses it" \
      spki_from_point 04 3076301006072a8648ce3d020106052b81040022036200 0461 194
check "Ed25519 public key from CKA_EC_POINT, openssl parses it" \
      spki_from_point 03 302a300506032b6570032100 0420 64

# ---- sign with the token, verify with openssl
sign_verify() {  # mech id openssl-dgst-args...
  local mech="$1" id="$2"
  shift 2
  rm -f "$work/sig"
  case "$mech" in
    *PSS) user --sign -m "$mech" --mgf MGF1-SHA256 --salt-len 32 --id "$id" -i "$work/data" -o "$work/sig" ;;
    ECDSA*) user --sign -m "$mech" --signature-format openssl --id "$id" -i "$work/data" -o "$work/sig" ;;
    *) user --sign -m "$mech" --id "$id" -i "$work/data" -o "$work/sig" ;;
  esac
  openssl dgst "$@" -verify "$work/pub$id.pem" -signature "$work/sig" "$work/data"
}
check "SHA256-RSA-PKCS signature, openssl verifies"     sign_verify SHA256-RSA-PKCS 01 -sha256
check "SHA256-RSA-PKCS-PSS signature, openssl verifies" sign_verify SHA256-RSA-PKCS-PSS 01 -sha256 \
      -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256
check "ECDSA-SHA256 (P-256) signature, openssl verifies" sign_verify ECDSA-SHA256 02 -sha256
check "ECDSA-SHA384 (P-384) signature, openssl verifies" sign_verify ECDSA-SHA384 04 -sha384
eddsa() {
  user --sign -m EDDSA --id 03 -i "$work/data" -o "$work/sig03"
  openssl pkeyutl -verify -pubin -inkey "$work/pub03.pem" -rawin -in "$work/data" -sigfile "$work/sig03"
}
check "EDDSA (Ed25519) signature, openssl verifies" eddsa

tampered() {
  user --sign -m SHA256-RSA-PKCS --id 01 -i "$work/data" -o "$work/sig"
  echo tampered > "$work/data2"
  ! openssl dgst -sha256 -verify "$work/pub01.pem" -signature "$work/sig" "$work/data2"
}
check "a signature over other data does not verify" tampered

token_verifies() {
  user --sign -m ECDSA-SHA256 --id 02 -i "$work/data" -o "$work/sig"
  user --verify -m ECDSA-SHA256 --id 02 -i "$work/data" --signature-file "$work/sig" | tee "$work/v"
  grep -q "Signature is valid" "$work/v"
}
check "the token verifies its own ECDSA signature (--verify)" token_verifies

# ---- ECDH: the token's P-256 key and an openssl key agree on the secret
ecdh() {
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/peer.pem"
  openssl pkey -in "$work/peer.pem" -pubout -outform DER -out "$work/peer.der"
  user --derive -m ECDH1-DERIVE --id 02 -i "$work/peer.der" -o "$work/secret.token"
  openssl pkeyutl -derive -inkey "$work/peer.pem" -peerkey "$work/pub02.pem" -out "$work/secret.openssl"
  [ -s "$work/secret.openssl" ]
  cmp "$work/secret.token" "$work/secret.openssl"
}
check "ECDH1-DERIVE (P-256) matches openssl pkeyutl -derive" ecdh

# ---- AES: a known key written to the token, CBC-PAD both ways against openssl enc
aes() {
  head -c 32 /dev/urandom > "$work/aes.key"
  local key iv
  key=$(xxd -p -c 64 "$work/aes.key"); iv=$(head -c 16 /dev/urandom | xxd -p -c 32)
  user --write-object "$work/aes.key" --type secrkey --key-type AES:32 --id 05 --label aes05 \
       --usage-decrypt --sensitive
  head -c 1000 /dev/urandom > "$work/plain"
  user --encrypt -m AES-CBC-PAD --iv "$iv" --id 05 -i "$work/plain" -o "$work/ct.token"
  openssl enc -aes-256-cbc -K "$key" -iv "$iv" -in "$work/plain" -out "$work/ct.openssl"
  cmp "$work/ct.token" "$work/ct.openssl"
  openssl enc -d -aes-256-cbc -K "$key" -iv "$iv" -in "$work/ct.token" -out "$work/pt.openssl"
  cmp "$work/plain" "$work/pt.openssl"
  user --decrypt -m AES-CBC-PAD --iv "$iv" --id 05 -i "$work/ct.openssl" -o "$work/pt.token"
  cmp "$work/plain" "$work/pt.token"
}
check "AES-256-CBC-PAD encrypt/decrypt matches openssl enc" aes

aes_generated() {
  user --keygen --key-type AES:16 --id 06 --label aes06
  head -c 100 /dev/urandom > "$work/p2"
  local iv; iv=$(head -c 16 /dev/urandom | xxd -p -c 32)
  user --encrypt -m AES-CBC-PAD --iv "$iv" --id 06 -i "$work/p2" -o "$work/c2"
  user --decrypt -m AES-CBC-PAD --iv "$iv" --id 06 -i "$work/c2" -o "$work/d2"
  cmp "$work/p2" "$work/d2"
  ! cmp -s "$work/p2" "$work/c2"
}
check "AES-128 keygen on the token, encrypt/decrypt round trip" aes_generated

# ---- pkcs11-tool's own test suites
selftest() {
  user --test > "$work/selftest" 2>&1 || { cat "$work/selftest"; exit 1; }
  cat "$work/selftest"
  grep -q "No errors" "$work/selftest"
}
check "pkcs11-tool --test --login reports no errors" selftest
forktest() {
  local before; before=$(wc -l < "$work/ferrohsm.log")
  user --test-fork > "$work/fork" 2>&1 || { cat "$work/fork"; exit 1; }
  cat "$work/fork"
  grep -q "C_Initialize in forked child" "$work/fork"
  ! grep -qi "error\|warning" "$work/fork"
  # the module's log: the parent and the forked child (two pids) both initialised it
  tail -n +"$((before + 1))" "$work/ferrohsm.log" | grep -- 'C_Initialize -> CKR_OK' |
    sed 's/.*ferrohsm\[\([0-9]*\)\].*/\1/' | sort -u > "$work/fork-pids"
  [ "$(wc -l < "$work/fork-pids")" -ge 2 ]
}
check "pkcs11-tool --test-fork (C_Initialize in a forked child)" forktest

delete_objects() {
  user --delete-object --type privkey --id 04
  user --delete-object --type pubkey --id 04
  ! user -O --id 04 | grep -Eq '^[[:space:]]*ID:[[:space:]]+04$'
}
check "--delete-object removes the P-384 pair" delete_objects

# ---- X25519: OpenSC 0.23 names the curve with a malformed PrintableString (its length
# byte is one too large); FerroHSM accepts exactly that (docs/COMPATIBILITY.md).
x25519() {
  gen EC:curve25519 05
  user -O --id 05 > "$work/x25519"
  grep -q 'EC_MONTGOMERY\|EC-MONTGOMERY\|ec-montgomery\|Montgomery' "$work/x25519" || { cat "$work/x25519"; exit 1; }
}
check "keypairgen X25519 (EC:curve25519) makes a CKK_EC_MONTGOMERY pair" x25519

finish
