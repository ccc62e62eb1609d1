#!/usr/bin/env bash
# Group 10 — RFC 7512 PKCS#11 URIs in the ferrohsm CLI, checked from the outside: two
# tokens; the CLI selects the token and objects by `pkcs11:token=…;object=…;type=…`
# (generate, list, delete, token delete) and prints a URI for everything it lists.
# pkcs11-tool (which knows nothing of URIs) is the independent view of what is where;
# the printed URIs are decoded by Python's standard percent-decoder and compared with it,
# and GnuTLS's p11tool (its own RFC 7512 parser) finds each object by its printed URI.
# usage: uri_test.sh <libferrohsm-pkcs11.so> <ferrohsm CLI>
source "$(dirname "$0")/lib.sh"
interop_setup "$@"
need_cmd pkcs11-tool p11tool python3
check "two fresh tokens 'uri-a' and 'uri b' (ferrohsm token init)" bash -c "$(declare -f init_token); \
  cli='$cli' work='$work' init_token uri-a && cli='$cli' work='$work' init_token 'uri b'"
export FERROHSM_PIN="$USER_PIN"
objects() { pkcs11-tool --module "$module" --token-label "$1" --login --pin env:USER_PIN -O 2>/dev/null; }

gen_by_uri() {
  "$cli" key generate --uri 'pkcs11:token=uri%20b' --type ec:p256 --label 'my key' --id 0a0b
  "$cli" key generate --uri 'pkcs11:token=uri-a' --type ec:p256 --label 'my key' --id 0c
  objects 'uri b' > "$work/b"
  objects uri-a > "$work/a"
  grep -Eq "^[[:space:]]*ID:[[:space:]]+0a0b$" "$work/b"
  ! grep -Eq "^[[:space:]]*ID:[[:space:]]+0c$" "$work/b"
  grep -Eq "^[[:space:]]*ID:[[:space:]]+0c$" "$work/a"
  ! grep -Eq "^[[:space:]]*ID:[[:space:]]+0a0b$" "$work/a"
}
check "key generate --uri 'pkcs11:token=uri%20b' puts the key on that token only" gen_by_uri

list_prints_uris() {
  "$cli" --json key list --uri 'pkcs11:token=uri%20b' > "$work/list.json"
  cat "$work/list.json"
  # every listed object has a URI; decoded, it names this token, the object's label,
  # id and class as pkcs11-tool sees them
  python3 - "$work/list.json" > "$work/decoded" <<'PY'
import json, sys
from urllib.parse import unquote, unquote_to_bytes
doc = json.load(open(sys.argv[1]))
assert doc["objects"], "nothing listed"
for o in doc["objects"]:
    uri = o["uri"]
    assert uri.startswith("pkcs11:"), uri
    attrs = dict(kv.split("=", 1) for kv in uri[len("pkcs11:"):].split("?")[0].split(";"))
    print(unquote(attrs["token"]), unquote(attrs["object"]), unquote_to_bytes(attrs["id"]).hex(), attrs["type"])
PY
  cat "$work/decoded"
  [ "$(wc -l < "$work/decoded")" -eq 2 ]
  grep -qx "uri b my key 0a0b private" "$work/decoded"
  grep -qx "uri b my key 0a0b public" "$work/decoded"
  [ "$(grep -c 'label: *my key' "$work/b")" -eq 2 ]
}
check "key list --uri prints RFC 7512 URIs that decode to what pkcs11-tool sees" list_prints_uris

list_text() {
  "$cli" key list --uri 'pkcs11:token=uri-a' > "$work/list-a.txt"
  cat "$work/list-a.txt"
  grep -q "pkcs11:token=uri-a;object=my%20key;id=%0C;type=private" "$work/list-a.txt"
  grep -q "pkcs11:token=uri-a;object=my%20key;id=%0C;type=public" "$work/list-a.txt"
}
check "key list (text) ends each line with the object's URI, percent-encoded" list_text

select_object() {
  "$cli" --json key list --uri 'pkcs11:token=uri%20b;object=my%20key;type=private' > "$work/one.json"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); o=d["objects"]; assert len(o)==1 and o[0]["class"]=="private-key", o' "$work/one.json"
  "$cli" --json key list --uri 'pkcs11:token=uri%20b;id=%0A%0B;type=public' > "$work/two.json"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); o=d["objects"]; assert len(o)==1 and o[0]["class"]=="public-key", o' "$work/two.json"
}
check "key list selects one object by token;object;type and by token;id;type" select_object

p11tool_finds() {
  local uri
  for uri in $(python3 -c 'import json,sys; print("\n".join(o["uri"] for o in json.load(open(sys.argv[1]))["objects"]))' "$work/list.json"); do
    GNUTLS_PIN="$USER_PIN" p11tool --provider "$module" --batch --login --list-all "$uri" > "$work/found"
    [ "$(grep -c '^Object ' "$work/found")" -eq 1 ] || { echo "p11tool found $(grep -c '^Object ' "$work/found") objects for $uri"; exit 1; }
  done
}
check "GnuTLS p11tool finds exactly one object by each printed URI" p11tool_finds

delete_by_uri() {
  "$cli" key delete --uri 'pkcs11:token=uri-a;object=my%20key;type=public'
  objects uri-a > "$work/a2"
  grep -q '^Private Key Object' "$work/a2"
  ! grep -q '^Public Key Object' "$work/a2"
  objects 'uri b' > "$work/b2"
  [ "$(grep -c 'Key Object' "$work/b2")" -eq 2 ]
}
check "key delete --uri removes only the public half on uri-a" delete_by_uri

pin_refused() {
  local rc=0
  "$cli" key list --uri "pkcs11:token=uri-a?pin-value=$USER_PIN" > "$work/pinout" 2>&1 || rc=$?
  cat "$work/pinout"
  [ "$rc" -eq 2 ]
  ! grep -qF "$USER_PIN" "$work/pinout"
}
check "a URI carrying pin-value is refused (exit 2) and the PIN is not echoed" pin_refused

unknown_token() {
  local rc=0
  "$cli" key list --uri 'pkcs11:token=no-such-token' || rc=$?
  [ "$rc" -eq 4 ]
}
check "a URI naming no token fails with exit 4 (not found)" unknown_token

token_delete() {
  FERROHSM_SO_PIN="$SO_PIN" "$cli" token delete --uri 'pkcs11:token=uri-a'
  pkcs11-tool --module "$module" -L > "$work/slots"
  ! grep -q 'token label *: uri-a' "$work/slots"
  grep -q 'token label *: uri b' "$work/slots"
}
check "token delete --uri 'pkcs11:token=uri-a' deletes that token only" token_delete

finish
