# wsfan — the verbs people expect. `make help` lists them.
GO       ?= go
BIN      ?= bin/wsfan
CONFIG   ?= config.toml
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 30s
BENCHTIME ?= 1s
COUNT    ?= 1
JS       ?= clients/js
NPM_CI   ?= npm ci --no-audit --no-fund

.PHONY: help run build test test-go test-js test-bench js-deps demo demo-screenshot bench bench-load fuzz lint check clean install strategies

help:
	@echo "make run      build and start the server on $(CONFIG)"
	@echo "make build    build $(BIN)"
	@echo "make test     every test of the server and the JS client: test-go (race detector) and test-js"
	@echo "make test-js  the JavaScript client's tests (Node >= 20; headless Chromium for the demo test)"
	@echo "make test-bench  the load generator's tests (bench/, its own module; spawns a server)"
	@echo "make demo     wsfan, a synthetic market feed and the client's demo page on http://127.0.0.1:8000/"
	@echo "make demo-screenshot  rerun the demo's browser test and write docs/img/demo.png"
	@echo "make bench    index, codec and fan-out benchmarks (COUNT=10 for benchstat)"
	@echo "make fuzz     every fuzz target for FUZZTIME each (default 30s)"
	@echo "make strategies  the index strategy matrix (about 5 minutes)"
	@echo "make bench-load  the five load scenarios against a spawned server (docs/BENCHMARKS.md);"
	@echo "                 BENCH_LOAD_SCENARIOS='uniform storm ticker' for the others"
	@echo "make lint     gofmt, go vet, staticcheck when installed (server and bench/)"
	@echo "make check    lint + test"
	@echo "make install  binary, systemd unit, sysusers, sysctl, /etc/wsfan/config.toml (PREFIX, DESTDIR)"

run: build
	./$(BIN) -config $(CONFIG)

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

test: test-go test-js

# bench/ is its own module (wsfan/bench), so ./... here leaves it out.
test-go:
	$(GO) test -race -count=1 ./...

# The load generator's tests. TestSmoke builds the server from the
# repository root and opens 200 loopback connections for a few seconds; on a
# shared machine run it as: flock /tmp/wsfan-bench.lock make test-bench
test-bench:
	cd bench && $(GO) test -race -count=1 ./...

# The client's tests start the server built by `build` (WSFAN_BIN).
js-deps:
	@[ -d $(JS)/node_modules ] || (cd $(JS) && $(NPM_CI))

test-js: build js-deps
	cd $(JS) && WSFAN_BIN=$(abspath $(BIN)) node --test test/*.test.js

demo: build
	cd $(JS) && WSFAN_BIN=$(abspath $(BIN)) node demo/run.js

demo-screenshot: build js-deps
	cd $(JS) && WSFAN_BIN=$(abspath $(BIN)) WSFAN_SCREENSHOT=$(abspath docs/img/demo.png) node --test test/browser.test.js

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) ./index ./codec ./hub ./server

# The load scenarios of bench/ (seed, tokens, hot, churn, idle; also
# uniform, storm, ticker), each bounded in time: server pinned to CPU 0 and
# load to CPU 1, charts in bench-report/. flock keeps two benchmarks from
# sharing the cores. Issue #11's CPU-per-delivery ratio against the raw
# reference server:
#   make bench-load BENCH_LOAD_SCENARIOS=uniform \
#     BENCH_LOAD_FLAGS="-server-cpus 0 -load-cpus 1 -reference raw"
BENCH_LOAD_SCENARIOS ?= seed tokens hot churn idle
BENCH_LOAD_FLAGS     ?= -server-cpus 0 -load-cpus 1
BENCH_LOAD_REPORT    ?= bench-report
bench-load: build
	cd bench && $(GO) build -o ../bin/wsfan-bench .
	@set -e; for s in $(BENCH_LOAD_SCENARIOS); do \
	  flock /tmp/wsfan-bench.lock ./bin/wsfan-bench -scenario $$s -spawn -server-bin $(BIN) \
	    $(BENCH_LOAD_FLAGS) -report $(BENCH_LOAD_REPORT); \
	done

# The seed's strategy matrix: five index designs, measured (docs/BENCHMARKS.md).
STRAT_BENCHTIME ?= 200ms
STRAT_COUNT ?= 5
strategies:
	@{ $(GO) test -run '^$$' -bench '^Benchmark(Lookup|Mixed)$$' -benchmem -cpu 1,2,4 \
	     -benchtime $(STRAT_BENCHTIME) -count $(STRAT_COUNT) ./index/strategies && \
	   $(GO) test -run '^$$' -bench '^BenchmarkDisconnect$$' -benchmem -cpu 1 \
	     -benchtime $(STRAT_BENCHTIME) -count $(STRAT_COUNT) ./index/strategies && \
	   $(GO) test -run '^$$' -bench '^BenchmarkMemory$$' -benchmem -cpu 1 \
	     -benchtime 1x -count 3 ./index/strategies; } | $(GO) run ./index/strategies/cmd/matrix

# go test -fuzz takes one target per run.
fuzz:
	@set -e; for pkg in $$($(GO) list -f '{{if .TestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
	  for target in $$($(GO) test $$pkg -list '^Fuzz' | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./... && (cd bench && staticcheck ./...); else echo "staticcheck not installed; skipped"; fi

check: lint test

clean:
	rm -rf bin

# --- install: see docs/OPERATIONS.md -----------------------------------------
PREFIX      ?= /usr/local
DESTDIR     ?=
SYSCONFDIR  ?= /etc
UNITDIR     ?= /etc/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
SYSCTLDIR   ?= /etc/sysctl.d
DOCDIR      ?= $(PREFIX)/share/doc/wsfan

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/wsfan
	sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/etc/wsfan/|$(SYSCONFDIR)/wsfan/|g' deploy/wsfan.service > $(BIN).service
	install -D -m 0644 $(BIN).service $(DESTDIR)$(UNITDIR)/wsfan.service
	install -D -m 0644 deploy/wsfan.sysusers $(DESTDIR)$(SYSUSERSDIR)/wsfan.conf
	install -D -m 0644 deploy/sysctl.conf $(DESTDIR)$(SYSCTLDIR)/90-wsfan.conf
	install -D -m 0644 docs/OPERATIONS.md $(DESTDIR)$(DOCDIR)/OPERATIONS.md
	@if [ -z "$(DESTDIR)" ]; then systemd-sysusers $(SYSUSERSDIR)/wsfan.conf; fi
	@conf='$(DESTDIR)$(SYSCONFDIR)/wsfan/config.toml'; \
	if [ -e "$$conf" ]; then \
	  echo "kept the existing $$conf"; \
	else \
	  sed 's|^publish_keys = .*|publish_keys = []  # set your own keys, each >= 16 bytes|' $(CONFIG) > $(BIN).config.toml && \
	  install -D -m 0640 $(BIN).config.toml "$$conf" && \
	  if [ -z "$(DESTDIR)" ]; then chgrp wsfan "$$conf"; fi && \
	  echo "installed $$conf: set publish_keys before starting"; \
	fi
	@if [ -z "$(DESTDIR)" ]; then systemctl daemon-reload || true; \
	  echo "next: sysctl --system && systemctl enable --now wsfan"; fi
