# FerroHSM — the two commands of the quick start, and a few more.
#   make demo   install missing Debian deps, build, run the main job on ./var (audited), verify its audit log
#   make test   install missing Debian deps, build, run every test (plain, ASan+UBSan, TSan,
#               and each fuzzing harness for 30 s)
#   make fuzz   build the libFuzzer harnesses (clang, ASan+UBSan) and run each for
#               FUZZ_SECONDS (default 600); prints the executions per harness (fuzz/run.sh)
SHELL := /bin/bash
.DEFAULT_GOAL := demo
.PHONY: deps demo test test-release test-asan test-tsan test-fuzz build release asan tsan fuzz fuzz-build fuzz-seeds bench bench-check install clean
FUZZ_SECONDS ?= 600

deps:
	@scripts/install-deps.sh

release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release
build: release

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan

tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan --target concurrency_targets

demo: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target ferrohsm-pkcs11 ferrohsm-demo ferrohsm
	./build/release/demo/ferrohsm-demo --var ./var --module ./build/release/src/pkcs11/libferrohsm-pkcs11.so
	./build/release/tools/ferrohsm/ferrohsm audit verify ./var/audit

# The release run takes what only it can run: the real clients (label interop, too
# slow and too foreign for ASan), the benchmark smoke test, sidecar mode end to end
# (label sidecar: real server processes and clients, tests/sidecar), three servers on one
# PostgreSQL database (label cluster, tests/cluster) and the C-ABI suite on
# a slot bridged from SoftHSMv2 (label bridge, tests/abi/bridge_exclusions.txt); every
# other test runs under ASan+UBSan below. `ctest --preset release` still runs everything.
test-release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target release_test_targets
	ctest --preset release -L 'interop|bench|sidecar|bridge|cluster'
test-asan: asan
	ctest --preset asan
test-tsan: tsan
	ctest --preset tsan

# The fuzz build compiles only the harnesses and what they link (core, store, the
# module's sources); a finding fails the run and keeps its input under build/fuzz/artifacts/.
fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh
test-fuzz: fuzz-build
	FUZZ_SECONDS=30 fuzz/run.sh
# Rewrites the seed corpora in fuzz/corpus/ (fuzz/seeds/).
fuzz-seeds: fuzz-build
	rm -rf fuzz/corpus && build/fuzz/fuzz/fuzz_write_seeds fuzz/corpus

test: test-release test-asan test-tsan test-fuzz
	@echo "make test: release, ASan+UBSan, TSan and fuzzing runs passed"

# FerroHSM vs SoftHSMv2 vs raw OpenSSL, one table; then FerroHSM through its sidecar
# (ferrohsm-server, unix: and tcp:+mTLS) and through p11-kit remote (bench/run.sh; docs/PERFORMANCE.md).
bench: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target ferrohsm-pkcs11 p11bench ferrohsm-server ferrohsm
	BENCH_PLOT=docs/bench/latest.svg bench/run.sh

# The regression guard (issue 18): a short crypto-only run of FerroHSM beside raw OpenSSL;
# fails when any FerroHSM/OpenSSL ratio falls more than 20 % below the figure recorded in
# docs/PERFORMANCE.md (ratios, not times). Not part of make test.
bench-check: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target ferrohsm-pkcs11 p11bench
	BENCH_PEERS=ferrohsm BENCH_OBJECTS=0 BENCH_AUDIT=0 BENCH_PG=0 BENCH_SECONDS=0.15 \
	  BENCH_REPORT=build/release/bench-check.md bench/run.sh >/dev/null
	python3 bench/check.py build/release/bench-check.md docs/PERFORMANCE.md

install: release
	cmake --install build/release

clean:
	rm -rf build
