# FerroHSM — the two commands of the quick start, and a few more.
#   make demo   install missing Debian deps, build, run the main job on ./var
#   make test   install missing Debian deps, build, run every test (plain, ASan+UBSan, TSan)
SHELL := /bin/bash
.DEFAULT_GOAL := demo
.PHONY: deps demo test test-release test-asan test-tsan build release asan tsan bench install clean

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

# The release run takes what only it can run: the real clients (label interop, too
# slow and too foreign for ASan) and the benchmark smoke test; every other test runs
# under ASan+UBSan below. `ctest --preset release` still runs everything.
test-release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target release_test_targets
	ctest --preset release -L 'interop|bench'
test-asan: asan
	ctest --preset asan
test-tsan: tsan
	ctest --preset tsan

test: test-release test-asan test-tsan
	@echo "make test: release, ASan+UBSan and TSan suites passed"

# FerroHSM vs SoftHSMv2 vs raw OpenSSL, one table (bench/run.sh; docs/PERFORMANCE.md).
bench: deps
	cmake --preset release >/dev/null
	cmake --build --preset release --target ferrohsm-pkcs11 p11bench
	bench/run.sh

install: release
	cmake --install build/release

clean:
	rm -rf build
