# Two entry points that work on a fresh Debian 12 machine (see README.md):
#   make demo    build, then download the demo model from the bundled fake hub
#   make check   build normally and with ASan+UBSan, run every test (ctest)
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build demo check check-release check-asan check-format js-deps clean bench

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)

js-deps: deps
	@[ -d tests/js/node_modules/@huggingface/hub ] || \
	    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

check: check-format check-release check-asan

check-release: deps js-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) -j 2 --output-on-failure

# clang, Debug, AddressSanitizer + UndefinedBehaviorSanitizer over the
# whole suite (the CLI tests run the instrumented program too)
check-asan: deps js-deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DHUB_SANITIZE=address,undefined >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	HUB_TEST_TIMEOUT_MULTIPLIER=3 \
	    ctest --test-dir $(ASAN_BUILD) -j 2 --output-on-failure

check-format: deps
	clang-format --dry-run --Werror include/*.h src/*.[ch] cli/*.[ch] \
	    tests/harness/*.[ch] tests/unit/*.c tests/integ/*.c tests/fuzz/*.c examples/*.c \
	    bench/*.c
	@# git grep: 0 = found (bad), 1 = clean, anything else = could not look
	@git grep -n -E '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|tmpnam)\s*\(' \
	    -- src cli include; rc=$$?; [ $$rc -eq 1 ] || { \
	    echo "banned function used, or git grep failed ($$rc)" >&2; exit 1; }
	@git grep -n -E '#include <(curl|jansson|openssl)' -- src ':!src/http.c' \
	    ':!src/json.c' ':!src/digest.c'; rc=$$?; [ $$rc -eq 1 ] || { \
	    echo "third-party header outside its wrapper, or git grep failed ($$rc)" >&2; exit 1; }

bench: build
	./bench/run

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
