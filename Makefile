# wxemu — the two commands are `make run` and `make test`.
GO      ?= go
GINKGO  := $(GO) run github.com/onsi/ginkgo/v2/ginkgo
BIN     := bin/wxemu
# Packages whose fuzz targets `make test` runs on their seeds and `make fuzz` explores.
FUZZ_PKGS := ./emulator/config ./emulator/rules ./emulator/wire ./emulator/wxcrypto
FUZZTIME  ?= 10s
# Each new interesting input is minimized before fuzzing goes on, 60 s at most by default; with a
# large seed (the default config) that is a minute at 0 execs/s per input. 5 s keeps it moving.
FUZZMINIMIZE ?= 5s
BENCH_OUT ?= bench.txt

.PHONY: build run test bench lint fuzz clean functions

# The cloud-function fixtures run the real wx-server-sdk from their own node_modules: each folder
# is installed with npm ci, again only when its lock file changes.
FUNCTION_LOCKS := $(wildcard fixtures/functions/*/package-lock.json)
functions: $(FUNCTION_LOCKS:package-lock.json=node_modules/.package-lock.json)
fixtures/functions/%/node_modules/.package-lock.json: fixtures/functions/%/package-lock.json
	cd $(@D)/.. && npm ci --no-audit --no-fund --loglevel=error >/dev/null

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/wxemu

# The binary is built, then exec'd in place of the recipe's shell, so that it is make's own child:
# a signal that stops make stops the server too (`go run` would leave its child running).
run: build
	exec "$(abspath $(BIN))" serve $(ARGS)

test: functions
	$(GINKGO) -r --race --randomize-all --fail-on-pending --fail-on-empty --keep-going
	$(GO) test -race -run '^Fuzz' $(FUZZ_PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./... | tee $(BENCH_OUT)
	@awk -f .ci/benchreport.awk $(BENCH_OUT)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz:
	@set -e; for pkg in $(FUZZ_PKGS); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin $(BENCH_OUT)
