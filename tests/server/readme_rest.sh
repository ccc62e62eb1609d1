#!/bin/bash
# Runs the README's REST session (the block between the rest-session markers) as
# written, in a temporary folder, against the build tree given, on a free port in place
# of 8443. Passes when the session ends with OpenSSL's "Signature Verified Successfully".
#   readme_rest.sh README.md BUILD_DIR
set -euo pipefail
readme=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
  # The server the session starts is stopped by its pid however the session ends.
  echo "trap 'kill \$SERVER 2>/dev/null || true' EXIT"
  echo "trap 'exit 1' TERM INT"
  sed -n '/<!-- rest-session/,/<!-- \/rest-session -->/p' "$readme" | sed '1,/^```sh$/d' | sed '/^```$/,$d'
} > "$work/session.sh"
grep -q 'B=$PWD/build/release' "$work/session.sh" || { echo "the README's REST block has changed shape"; exit 1; }
sed -i "s|B=\$PWD/build/release|B=$build|; s/8443/$port/g" "$work/session.sh"
cd "$work"
if ! timeout 120 bash -e session.sh > out.txt 2>&1; then
  cat out.txt
  echo "the README's REST session failed"
  exit 1
fi
cat out.txt
grep -q "Signature Verified Successfully" out.txt
