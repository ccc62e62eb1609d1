#!/usr/bin/env bash
# Runs each libFuzzer harness for FUZZ_SECONDS seconds (default 600), one after the
# other, and prints how many inputs each executed. Each starts from its seeds
# (fuzz/corpus/<harness>, read-only) and the inputs earlier runs found
# (build/fuzz/corpus/<harness>, where new ones go). A finding — a sanitizer report, a
# harness check, a leak, a timeout — fails the run; the input that caused it is kept
# as build/fuzz/artifacts/<harness>/crash-… (reproduce: build/fuzz/fuzz/fuzz_<harness> <file>).
# FUZZ_HARNESSES narrows the list, e.g. FUZZ_HARNESSES="config op_state".
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${FUZZ_SECONDS:-600}"
read -r -a harnesses <<<"${FUZZ_HARNESSES:-templates mech_params config op_state}"
bin="$root/build/fuzz/fuzz"
out="$root/build/fuzz"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()
for h in "${harnesses[@]}"; do
  exe="$bin/fuzz_$h"
  if [ ! -x "$exe" ]; then
    echo "fuzz: $exe is not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    exit 1
  fi
  mkdir -p "$out/corpus/$h" "$out/artifacts/$h" "$out/logs"
  log="$out/logs/$h.log"
  dict=()
  [ -f "$root/fuzz/dict/$h.dict" ] && dict=(-dict="$root/fuzz/dict/$h.dict")
  echo "fuzz: $h for ${seconds}s (log: ${log#"$root"/})"
  nice "$exe" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$h/" "${dict[@]}" "$out/corpus/$h" "$root/fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  execs="$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)"
  summary+=("$(printf '%-12s %10s executions in %ss' "$h" "${execs:-?}" "$seconds")")
  if [ "$rc" -ne 0 ]; then
    failed+=("$h")
    echo "fuzz: $h FOUND A PROBLEM (exit $rc); the end of its log:" >&2
    tail -n 60 "$log" >&2
  fi
done

printf '%s\n' "fuzz: executions per harness" "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (inputs under ${out#"$root"/}/artifacts/)" >&2
  exit 1
fi
