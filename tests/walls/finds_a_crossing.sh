#!/usr/bin/env bash
# The walls check fails on a tree where the store includes a core header and the core
# parses a command line — and passes on the same tree without them.
set -euo pipefail
check=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/store" "$work/src/core" "$work/src/base"
printf '#include "base/result.h"\n' >"$work/src/store/good.cc"
"$check" "$work" >/dev/null || { echo "FAIL: a clean tree was refused"; exit 1; }
printf '#include "core/hsm.h"\n' >"$work/src/store/bad.cc"
printf '#include <CLI/CLI.hpp>\n' >"$work/src/core/cli.cc"
if out=$("$check" "$work"); then echo "FAIL: the crossings were not found"; exit 1; fi
grep -q 'store -> core crosses a wall' <<<"$out" || { echo "FAIL: store -> core not named: $out"; exit 1; }
grep -q 'command-line parsing belongs in tools/' <<<"$out" || { echo "FAIL: CLI11 in core not named: $out"; exit 1; }
echo "PASS: the walls check finds store -> core and CLI11 outside tools/"
