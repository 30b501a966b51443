# portraitd — the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is for developers (see docs/development.md).

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: run cluster test build deps test-asan test-tsan fuzz corpus bench format check-format check-banned \
	check-layers clean

deps:
	@scripts/deps.sh
	@scripts/s3.sh install

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null
	@MAKEFLAGS= cmake --build $(BUILD) -j $(JOBS)
	@scripts/web.sh $(BUILD)

run: build
	@scripts/run.sh $(BUILD)

# make run's stack served by two instances behind haproxy, photos in an S3 server
# (docs/deploy.md).
cluster: build
	@scripts/cluster.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan BUILD_TYPE=Debug \
		CMAKE_ARGS="-DPC_ASAN=ON -DPC_UBSAN=ON"

test-tsan:
	@$(MAKE) --no-print-directory test BUILD=build-tsan BUILD_TYPE=Debug CMAKE_ARGS="-DPC_TSAN=ON"

fuzz:
	@scripts/deps.sh fuzz
	@CC=clang-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPC_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
	@MAKEFLAGS= cmake --build build-fuzz -j $(JOBS)
	@scripts/fuzz.sh build-fuzz

# Regenerates the photo fuzzer's seed files (a tool, not a test).
corpus: build
	@$(BUILD)/tools/portraitd-photo-corpus fuzz/corpus/photo
	@echo "fuzz/corpus/photo: $$(ls fuzz/corpus/photo | wc -l) seed files"

bench: build
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)
	@bench/photo.sh
	@bench/server.sh
	@bench/outbox.sh
	@bench/export.sh
	@bench/db-profile.sh counters
	@bench/cluster.sh

format:
	@clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.cc' '*.h')

check-format:
	@scripts/check-format.sh

check-banned:
	@scripts/check-banned.sh

check-layers:
	@scripts/check-layers.sh

clean:
	rm -rf build build-asan build-tsan build-fuzz
