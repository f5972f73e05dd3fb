# amili-import: `make demo` runs the main job on embedded defaults; `make test` runs every test.
GO          ?= go
BIN         := bin/amili-import
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEADCODE    := golang.org/x/tools/cmd/deadcode@v0.51.0
# -race doubles build time and slows the crash tests; CI sets RACE=-race (see .ci/run).
RACE        ?= -race
TEST_TIMEOUT ?= 40m

.PHONY: all build test test-short lint demo bench chaos fuzz report-screenshot clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/amili-import

## test: every test, with the race detector.
test:
	$(GO) test $(RACE) -count=1 -timeout $(TEST_TIMEOUT) ./...

## test-short: the fast subset, no race detector (for a quick loop while editing).
test-short:
	$(GO) test -short -count=1 ./...

## lint: gofmt, go vet, staticcheck, go mod tidy and deadcode (tests count as callers) must all be clean.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@out=$$($(GO) run $(DEADCODE) -test ./...); if [ -n "$$out" ]; then echo "unreachable code:"; echo "$$out"; exit 1; fi

## demo: the main job against an in-process SFTP server and Amili sandbox, no config, no network.
demo:
	$(GO) run ./cmd/amili-import demo

## bench: Go micro-benchmarks, then the end-to-end throughput table.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./mapping ./ledger ./importer ./amili/... ./source/... ./internal/bench
	$(GO) run ./cmd/amili-import bench

## chaos: the long crash-and-fault run (more kills, more invoices) than make test's.
chaos:
	CHAOS=long $(GO) test -count=1 -timeout 60m -run 'Crash|Chaos' -v ./cmd/amili-import

## fuzz: a minute of each fuzz target.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime 60s ./mapping
	$(GO) test -run '^$$' -fuzz FuzzLayout -fuzztime 60s ./mapping
	$(GO) test -run '^$$' -fuzz FuzzSuggest -fuzztime 60s ./mapping/suggest
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./config

## report-screenshot: the golden report rendered by headless Chromium, kept as report-screenshot.png.
report-screenshot:
	REPORT_SCREENSHOT=$(CURDIR)/report-screenshot.png $(GO) test -count=1 -run TestReportScreenshot -v ./report

clean:
	rm -rf bin
