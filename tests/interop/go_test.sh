#!/usr/bin/env bash
# Group 6 — Go with Debian's golang-go, golang-github-miekg-pkcs11-dev and
# golang-github-thalesignite-crypto11-dev: tests/interop/go/main.go is built offline,
# once, in GOPATH mode (GO111MODULE=off, GOPATH=/usr/share/gocode where Debian puts the
# sources, GOCACHE in the temporary directory, no network, no module proxy). It
# generates P-256 and RSA-2048 keys through crypto11, signs (ECDSA, PKCS#1 v1.5, PSS),
# decrypts OAEP, and verifies everything with Go's own crypto; miekg/pkcs11 lists the
# token. The PIN reaches crypto11 through $USER_PIN.
# usage: go_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd go
src="$(cd "$(dirname "$0")/go" && pwd)"
check "Debian's Go sources of miekg/pkcs11 and crypto11 are in /usr/share/gocode" \
  test -f /usr/share/gocode/src/github.com/miekg/pkcs11/pkcs11.go -a -d /usr/share/gocode/src/github.com/ThalesIgnite/crypto11
check "fresh token 'go' (ferrohsm token init)" init_token go

build() {
  cd "$src"
  env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" GOFLAGS= GOPROXY=off \
      CGO_ENABLED=1 go build -o "$work/interop-go" .
}
check "go build (GOPATH mode, offline) of the crypto11 program" build

set +e
"$work/interop-go" "$module" go 2>&1 | tee "$work/go.out"
set -e
pass=$((pass + $(grep -c '^PASS: ' "$work/go.out" || true)))
fail=$((fail + $(grep -c '^FAIL: ' "$work/go.out" || true)))
grep -q ' passed, 0 failed$' "$work/go.out" || { fail=$((fail + 1)); echo "FAIL: the Go program did not finish cleanly"; }
finish
