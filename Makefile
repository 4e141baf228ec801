# Portcullis — see README.md. Every target is a thin wrapper over scripts/.
SHELL := /bin/bash
BINARIES := \
	extproc/cmd/portcullis-extproc \
	extproc/cmd/portcullis-devproxy \
	analytics/cmd/portcullis-analytics \
	registry/cmd/portcullis-example-mcp \
	registry/cmd/portcullis \
	registry/cmd/portcullis-registry \
	registry/cmd/portcullis-openapi-server \
	e2e/cmd/portcullis-stack \
	e2e/cmd/portcullis-demo

.PHONY: help run demo test conformance e2e bench bench-dlp bin tools gen check-gen check-compose lint services-up services-down clean

help:
	@echo "make run        the whole stack locally (filter + dev proxy + analytics + example MCP server)"
	@echo "make demo       scripted agent against 'make run' (second terminal)"
	@echo "make test       unit tests + integration tests on real Kafka and ClickHouse"
	@echo "make conformance  official MCP conformance suite, direct vs through Portcullis (must agree)"
	@echo "make e2e        the whole loop on real Kafka + ClickHouse, printing what it proved"
	@echo "make bench      filter vs no-op ext_proc server: tools/call round trip, SSE MB/s + peak heap, calls/s"
	@echo "make bench-dlp  sensitive-data engine vs gitleaks v8, same process, same inputs"
	@echo "make gen | check-gen | check-compose | lint | bin | tools"

run: bin
	scripts/run.sh

demo: bin
	bin/portcullis-demo

test:
	scripts/test.sh

conformance:
	scripts/conformance.sh

e2e:
	scripts/e2e.sh

bench:
	scripts/bench.sh

bench-dlp:
	scripts/bench-dlp.sh

bin:
	@mkdir -p bin
	@for p in $(BINARIES); do \
		mod=$${p%%/*}; (cd $$mod && go build -o ../bin/ ./$${p#*/}) || exit 1; \
	done

tools:
	scripts/install-tools.sh

gen: tools
	bin/buf generate

check-gen: tools
	scripts/check-gen.sh

lint: tools
	scripts/lint.sh

# docker-compose.yml via `docker-compose config` (no engine needed); installs
# docker-compose with apt when missing.
check-compose:
	scripts/check-compose.sh

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

clean:
	rm -f $(addprefix bin/,$(notdir $(BINARIES)))
	rm -rf tmp .run
