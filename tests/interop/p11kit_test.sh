#!/usr/bin/env bash
# Group 9 — p11-kit: `cmake --install` (make install) into a DESTDIR under the temporary
# directory writes ferrohsm.module into p11-kit's module-config directory
# (pkg-config p11_module_configs), naming the installed library; p11-kit then finds
# FerroHSM through that file: `p11-kit list-modules` shows it, and a key on the token is
# used remotely through `p11-kit server` (a Unix socket in the temporary directory) and
# p11-kit-client.so, driven by pkcs11-tool; openssl verifies the signature.
#
# Nothing is written to the system directories. p11-kit reads module configs only from
# its system directories and from ~/.config/pkcs11/modules, and skips the latter when
# running as root. So the installed ferrohsm.module (its `module:` path relocated into
# the DESTDIR) is placed in a temporary HOME, and when this runs as root, the p11-kit
# commands run as `nobody` (setpriv) on a world-writable temporary directory.
# usage: p11kit_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI> <cmake build dir>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
build="$(readlink -f "${3:?the cmake build directory}")"
client_so="$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null || true)/p11-kit-client.so"
need_cmd p11-kit pkg-config cmake pkcs11-tool openssl "$client_so"
configs="$(pkg-config --variable=p11_module_configs p11-kit-1)"
root="$work/destdir"
prefix=/usr/local

install_step() {
  DESTDIR="$root" cmake --install "$build" --prefix "$prefix"
  test -f "$root$configs/ferrohsm.module"
  cat "$root$configs/ferrohsm.module"
  # exactly one module line, naming the library the same install step put under the prefix
  [ "$(grep -c '^module:' "$root$configs/ferrohsm.module")" -eq 1 ]
  lib="$(sed -n 's/^module: *//p' "$root$configs/ferrohsm.module")"
  [ "$lib" = "$prefix/lib/$(basename "$module")" ]
  test -f "$root$lib"
  cmp "$root$lib" "$module"
}
check "cmake --install (DESTDIR) writes ferrohsm.module into $configs naming the installed library" install_step

# p11-kit's view: a temporary HOME with the installed file, its path relocated into DESTDIR
home="$work/home"
mkdir -p "$home/.config/pkcs11/modules"
if [ -f "$root$configs/ferrohsm.module" ]; then
  sed "s|^module: *|module: $root|" "$root$configs/ferrohsm.module" > "$home/.config/pkcs11/modules/ferrohsm.module"
fi
runas=()
if [ "$(id -u)" -eq 0 ]; then runas=(setpriv --reuid=nobody --regid=nogroup --clear-groups); fi
# as root, the store's files (SQLite, WAL) are shared with the p11-kit processes run as nobody
share() { [ "$(id -u)" -ne 0 ] || chmod -R a+rwX "$work"; }
as_user() { share; "${runas[@]}" env HOME="$home" "$@"; }

check "fresh token 'p11kit' (ferrohsm token init)" init_token p11kit
init_args_check "p11-kit"

list_modules() {
  as_user p11-kit list-modules > "$work/modules" 2>&1
  cat "$work/modules"
  # the module (named after its file), its library description and our token
  grep -q "^ferrohsm: $root$prefix/lib/" "$work/modules"
  grep -A30 "^ferrohsm:" "$work/modules" | grep -q "library-manufacturer: FerroHSM"
  grep -A30 "^ferrohsm:" "$work/modules" | grep -q "token: p11kit"
}
check "p11-kit list-modules shows FerroHSM from ferrohsm.module, with the token" list_modules

keys() {
  FERROHSM_PIN="$USER_PIN" "$cli" key generate --token p11kit --type ec:p256 --label remote --id 77
}
check "a P-256 key on the token (ferrohsm CLI)" keys

sock="$work/p11kit.sock"
start_server() {
  # The server exports the token named by the URI from the modules p11-kit knows
  share
  # exec all the way down, so that $! is the server itself (killed at exit)
  (exec "${runas[@]}" env HOME="$home" p11-kit server -f -n "$sock" "pkcs11:token=p11kit") > "$work/server.out" 2>&1 &
  echo $! > "$work/server.pid"
  local i
  for i in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ]
}
check "p11-kit server exports the token on a Unix socket" start_server
if [ -s "$work/server.pid" ]; then on_cleanup "kill $(cat "$work/server.pid")"; fi
remote() { as_user env P11_KIT_SERVER_ADDRESS="unix:path=$sock" USER_PIN="$USER_PIN" pkcs11-tool --module "$client_so" "$@"; }

remote_list() {
  remote -L > "$work/remote-slots"
  cat "$work/remote-slots"
  grep -q "token label *: p11kit" "$work/remote-slots"
  grep -q "token manufacturer *: FerroHSM" "$work/remote-slots"
}
check "p11-kit-client.so sees the FerroHSM token through the server" remote_list

remote_sign() {
  # p11-kit 0.24's RPC refuses mechanisms it cannot serialise, CKM_ECDSA_SHA256 among
  # them (CKR_MECHANISM_INVALID from the client, before FerroHSM is called), so the
  # digest is made by openssl and signed with CKM_ECDSA
  echo "signed by FerroHSM through p11-kit server" > "$work/data"
  openssl dgst -sha256 -binary "$work/data" > "$work/hash"
  remote --token-label p11kit --read-object --type pubkey --id 77 -o "$work/pub.der"
  openssl pkey -pubin -inform DER -in "$work/pub.der" -out "$work/pub.pem"
  remote --token-label p11kit --login --pin env:USER_PIN --sign -m ECDSA --signature-format openssl \
         --id 77 -i "$work/hash" -o "$work/sig"
  openssl pkeyutl -verify -pubin -inkey "$work/pub.pem" -in "$work/hash" -sigfile "$work/sig"
  openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/data"
  echo "other" > "$work/other"
  ! openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/other"
}
check "ECDSA signature through p11-kit-client.so; openssl verifies it" remote_sign

finish
