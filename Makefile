# Every target does any missing set-up itself (scripts/setup.sh is idempotent
# and takes well under a second once everything is installed).
.PHONY: setup build run test test-native test-browser test-tabs test-multi bench clean

ADDR ?= 127.0.0.1:8080

setup:
	@bash scripts/setup.sh

build: setup
	@bash scripts/build.sh

run: build
	@mkdir -p data
	./target/release/tether-server --addr $(ADDR) --db data/tether.db --static-dir dist

test: setup
	@bash scripts/test.sh all

test-native: setup
	@bash scripts/test.sh native

test-browser: setup
	@bash scripts/test.sh browser

test-multi: setup
	@bash scripts/test.sh multi

test-tabs: setup
	@bash scripts/test.sh tabs

bench: setup
	@bash scripts/bench.sh

clean:
	cargo clean
	rm -rf dist
