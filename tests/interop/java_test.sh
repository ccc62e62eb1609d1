#!/usr/bin/env bash
# Group 7 — Java, OpenJDK 17's SunPKCS11: keytool makes a P-256 key and a self-signed
# certificate on the token and lists it; tests/interop/java/Interop.java (compiled once
# by the source launcher) logs in through KeyStore, signs with the stored key and with
# keys from KeyPairGenerator (EC, RSA-2048), and verifies with the JDK's own providers;
# openssl verifies the certificate keytool exported.
# The PIN reaches keytool as -storepass:env and the program through $USER_PIN.
# usage: java_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd java keytool openssl
check "fresh token 'java' (ferrohsm token init)" init_token java
init_args_check "SunPKCS11"
cat > "$work/sunpkcs11.cfg" <<CFG
name = FerroHSM
library = $module
slot = $(slot_of java)
CFG
cat "$work/sunpkcs11.cfg" >> "$work/log"
kt() { keytool -J-XX:ErrorFile="$work/hs_err_%p.log" -keystore NONE -storetype PKCS11 -providerClass sun.security.pkcs11.SunPKCS11 \
               -providerArg "$work/sunpkcs11.cfg" -storepass:env USER_PIN "$@"; }

genkeypair() {
  kt -genkeypair -alias jkey -keyalg EC -groupname secp256r1 -sigalg SHA256withECDSA \
     -dname "CN=FerroHSM SunPKCS11" -validity 7
}
check "keytool -genkeypair EC P-256 with a self-signed certificate on the token" genkeypair

list() {
  kt -list > "$work/list"
  cat "$work/list"
  grep -q "jkey, PrivateKeyEntry" "$work/list"
  grep -q "Your keystore contains 1 entry" "$work/list"
}
check "keytool -list shows the entry" list

exportcert() {
  kt -exportcert -alias jkey -rfc -file "$work/jkey.crt"
  openssl x509 -in "$work/jkey.crt" -noout -subject | grep -q "CN *= *FerroHSM SunPKCS11"
  openssl x509 -in "$work/jkey.crt" -noout -text | grep -q "ecdsa-with-SHA256"
  # -check_ss_sig: openssl checks the self-signature made by the token key
  openssl verify -CAfile "$work/jkey.crt" -check_ss_sig "$work/jkey.crt"
}
check "keytool -exportcert; openssl verifies the certificate's signature" exportcert

set +e
(cd "$(dirname "$0")/java" && java -XX:ErrorFile="$work/hs_err_%p.log" -Djava.io.tmpdir="$work" Interop.java "$work/sunpkcs11.cfg" jkey) 2>&1 | tee "$work/java.out"
set -e
pass=$((pass + $(grep -c '^PASS: ' "$work/java.out" || true)))
fail=$((fail + $(grep -c '^FAIL: ' "$work/java.out" || true)))
grep -q ' passed, 0 failed$' "$work/java.out" || { fail=$((fail + 1)); echo "FAIL: Interop.java did not finish cleanly"; }

delete() {
  kt -delete -alias jkey
  kt -list | grep -q "Your keystore contains 0 entries"
}
check "keytool -delete removes the entry" delete
finish
