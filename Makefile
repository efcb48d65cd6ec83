# wsfan — the verbs people expect. `make help` lists them.
GO       ?= go
BIN      ?= bin/wsfan
CONFIG   ?= config.toml
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 30s
BENCHTIME ?= 1s
COUNT    ?= 1

.PHONY: help run build test bench fuzz lint check clean

help:
	@echo "make run      build and start the server on $(CONFIG)"
	@echo "make build    build $(BIN)"
	@echo "make test     all tests with the race detector"
	@echo "make bench    index, codec and fan-out benchmarks (COUNT=10 for benchstat)"
	@echo "make fuzz     every fuzz target for FUZZTIME each (default 30s)"
	@echo "make lint     gofmt, go vet, staticcheck when installed"
	@echo "make check    lint + test"

run: build
	./$(BIN) -config $(CONFIG)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

test:
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./index ./codec ./loop

# go test -fuzz takes one target per run.
fuzz:
	@set -e; for pkg in ./codec ./index; do \
	  for target in $$($(GO) test $$pkg -list '^Fuzz' | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi

check: lint test

clean:
	rm -rf bin
