# Trainyard: `make demo` runs a full market round on a devnet it starts itself; `make test` runs every test.
# Both bootstrap what they need, idempotently: a virtualenv (.venv) with the project and its pins, and the npm
# toolchain (node_modules: solc as WebAssembly, Anvil, OpenZeppelin). See ../shared/TOOLCHAIN.md for why.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/tools/solc
export PYTHONPATH := $(CURDIR)

.PHONY: bootstrap demo test compile bench clean chromium
bootstrap: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Trainyard needs Python 3.11 (found %d.%d)" % sys.version_info[:2])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

compile: bootstrap
	$(BIN)/brownie compile

demo: bootstrap compile
	$(BIN)/python -m trainyard.demo

# brownie test runs pytest with brownie's plugin (it starts Anvil on BROWNIE_ANVIL_PORT, default 8545).
# pytest's exit code 5 (no test collected) is non-zero, so make fails on it too.
test: bootstrap compile chromium
	$(BIN)/brownie test tests/ $(TESTARGS)

# the explorer's test renders its page in Debian's headless Chromium
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

bench: bootstrap compile
	$(BIN)/python -m bench.gas
	$(BIN)/python -m bench.runtime
	$(BIN)/python -m bench.verify
	$(BIN)/python -m bench.dispute
	$(BIN)/python -m bench.load --kills

clean:
	rm -rf build reports .hypothesis
