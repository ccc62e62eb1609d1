#!/usr/bin/env bash
# Group 5 — Python with Debian's python3-pykcs11: generate P-256 and RSA-2048 pairs, sign
# and verify (openssl verifies too), RSA-OAEP and AES-CBC-PAD / AES-GCM encryption with
# openssl cross-checks, digest, find and destroy (tests/interop/pykcs11_check.py).
# Debian's /usr/bin/python3 is used: that is where python3-pykcs11 is installed.
# usage: python_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd /usr/bin/python3 openssl
check "python3-pykcs11 is installed (import PyKCS11)" /usr/bin/python3 -c "import PyKCS11"
check "fresh token 'py' (ferrohsm token init)" init_token py

# The Python file prints its own PASS/FAIL lines; they are counted here.
set +e
/usr/bin/python3 "$(dirname "$0")/pykcs11_check.py" "$module" py "$work" 2>&1 | tee "$work/py.out"
set -e
pass=$((pass + $(grep -c '^PASS: ' "$work/py.out" || true)))
fail=$((fail + $(grep -c '^FAIL: ' "$work/py.out" || true)))
grep -q ' passed, 0 failed$' "$work/py.out" || { fail=$((fail + 1)); echo "FAIL: pykcs11_check.py did not finish cleanly"; }
finish
