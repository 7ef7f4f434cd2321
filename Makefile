# Parley. `make run` starts a server on :8080 with demo accounts; `make test`
# runs the Go tests and the browser tests; `make lint` is what CI checks.

GO        ?= go
GOFMT     ?= gofmt
NODE      ?= node
NPM       ?= npm
CHROMIUM  ?= /usr/bin/chromium

BIN       := bin/parley
E2E       := web/e2e
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# sudo only when not root (containers and CI usually are root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# npm writes this file on every install: it is newer than package.json and
# the lockfile when node_modules is up to date with them.
NODE_STAMP := $(E2E)/node_modules/.package-lock.json

.PHONY: all run build test go-test e2e deps chromium node-deps postgres bench lint clean

all: build

run: postgres build
	./$(BIN)

build:
	$(GO) build -o $(BIN) ./cmd/parley

# Lint, then both suites; each runs even when one before it failed, and
# any failing fails the target.
test: deps postgres
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(GO) test $(GO_TEST_FLAGS) ./... || status=1; \
	$(GO) test $(GO_ALLOC_TEST) || status=1; \
	$(MAKE) --no-print-directory e2e || status=1; \
	exit $$status

go-test: postgres
	$(GO) test $(GO_TEST_FLAGS) ./...
	$(GO) test $(GO_ALLOC_TEST)

# Allocation counts hold only without the race detector (it empties
# sync.Pools at random), so sfu's allocation tests run once more without it.
GO_ALLOC_TEST := -count=1 -run 'Allocates(Nothing|LessThan)' ./sfu

# cmd/parley's tests each have a database of their own and, alone, mostly
# wait (on servers, timers, the network): four at a time, not two (-parallel
# defaults to the cores), took that package from 231 s to 137 s alone.
# Eight at a time was little quicker (125 s), and beside the other
# packages' tests it took more than PostgreSQL's 100 connections.
GO_TEST_FLAGS := -race -count=1 -parallel 4

# --test-timeout: a test that hangs (a promise that never settles) fails the
# run instead of stalling it; with Node 20 it bounds each test file.
# The files with video (several Chromium pages sending and decoding media
# each) run one at a time: two cores do not carry two of them at once.
# The others run three at a time, each with its own server, database and
# browser. They keep both cores busy (Chromium's pages and contexts, about
# three quarters of it): four at a time kept the machine 98 % busy and
# took 466 s against 488 s, so more at once gains little.
# Both sets run even when the first fails.
E2E_MEDIA := cobrowse conference-stage conference monitor nodes pages spy
E2E_MEDIA_FILES := $(E2E_MEDIA:%=%.test.mjs)
E2E_OTHER_FILES := $(filter-out $(E2E_MEDIA_FILES),$(sort $(notdir $(wildcard $(E2E)/*.test.mjs))))
E2E_RUN = cd $(E2E) && PARLEY_BIN="$(CURDIR)/$(BIN)" $(NODE) --test --test-timeout=300000
e2e: build $(NODE_STAMP)
	@status=0; \
	echo "browser tests with video, one file at a time"; \
	( $(E2E_RUN) --test-concurrency=1 $(E2E_MEDIA_FILES) ) || status=1; \
	echo "the other browser tests, three files at a time"; \
	( $(E2E_RUN) --test-concurrency=3 $(E2E_OTHER_FILES) ) || status=1; \
	exit $$status

deps: chromium node-deps

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

node-deps: $(NODE_STAMP)

# Playwright comes as playwright-core only: it never downloads a browser.
$(NODE_STAMP): $(E2E)/package.json $(wildcard $(E2E)/package-lock.json)
	cd $(E2E) && if [ -f package-lock.json ]; then $(NPM) ci --no-audit --no-fund; \
		else $(NPM) install --no-audit --no-fund; fi
	touch $@

# Starts the local cluster when Postgres is installed but stopped.
postgres:
	@if command -v pg_lsclusters >/dev/null 2>&1 && \
		pg_lsclusters --no-header | awk '$$2 == "main" && $$4 != "online" { down = 1 } END { exit !down }'; then \
		echo "starting postgres"; \
		$(SUDO) pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	fi

# Every package's Go benchmarks (the table adds sfu's Forward ÷ bare-Pion
# ratios), then a short C1 run of the load tester against a server it
# starts (a fresh database, free ports; about 45 s), then one table of all
# of it (docs/benchmarks.md), after the media workloads W1, W2, W3 and W4 (about
# 22 s each; BENCH_MEDIA= leaves them out) and the capacity searches, what one
# node carries (about 2 minutes each; BENCH_CAPACITY= leaves them out).
# Any failing part fails the target.
BENCH_DIR   := bin/bench
BENCH_C1    ?= --customers 2000 --agents 80 --capacity 25 --interval 4s --duration 30s
BENCH_MEDIA ?= w1 w2 w3 w4
BENCH_CAPACITY ?= cap-rooms cap-chats cap-joins cap-idle
bench: postgres build
	@mkdir -p $(BENCH_DIR) && rm -f $(BENCH_DIR)/*.json
	$(GO) build -o bin/loadtest ./cmd/loadtest
	@status=0; \
	{ $(GO) test -run '^$$' -bench . -benchmem ./... 2>&1 || echo "FAIL: go test -bench"; } | tee $(BENCH_DIR)/go.txt; \
	if grep -q '^FAIL' $(BENCH_DIR)/go.txt; then status=1; fi; \
	./bin/loadtest c1 --parley $(BIN) $(BENCH_C1) --json $(BENCH_DIR)/c1.json || status=1; \
	for w in $(BENCH_MEDIA); do \
		./bin/loadtest $$w --parley $(BIN) --duration 20s --json $(BENCH_DIR)/$$w.json || status=1; \
	done; \
	for c in $(BENCH_CAPACITY); do \
		./bin/loadtest $$c --parley $(BIN) --json $(BENCH_DIR)/$$c.json || status=1; \
	done; \
	./bin/loadtest table $(BENCH_DIR)/go.txt $$(ls $(BENCH_DIR)/*.json 2>/dev/null) || status=1; \
	exit $$status

lint: $(NODE_STAMP)
	@files=$$(find . \( -name .git -o -name node_modules \) -prune -o -name '*.go' -print); \
	unformatted=$$($(GOFMT) -l $$files); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files are not formatted (run gofmt -w):"; echo "$$unformatted"; exit 1; \
	fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	.ci/importcheck.sh
	cd $(E2E) && ./node_modules/.bin/tsc --noEmit -p .

clean:
	rm -rf bin
