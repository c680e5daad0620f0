# Trainyard: `make demo` runs a full market round on a devnet it starts itself; `make test` runs every test.
# Both bootstrap what they need, idempotently: a virtualenv (.venv) with the project and its pins, and the npm
# toolchain (node_modules: solc as WebAssembly, Anvil, OpenZeppelin). docs/operations.md (Toolchain) says why.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/tools/solc
export PYTHONPATH := $(CURDIR)

SLITHER_VENV := .venv-slither

.PHONY: bootstrap demo test compile bench clean chromium slither fuzz lint
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

# slither in its own virtualenv: it pins its own crytic-compile and web3, which clash with brownie's pins.
$(SLITHER_VENV)/.installed: tools/slither-requirements.txt
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/slither-requirements.txt
	@touch $@

compile: bootstrap
	$(BIN)/brownie compile

demo: bootstrap compile
	$(BIN)/python -m trainyard.demo

# brownie test runs pytest with brownie's plugin (it starts Anvil on BROWNIE_ANVIL_PORT, default 8545).
# pytest's exit code 5 (no test collected) is non-zero, so make fails on it too.
test: bootstrap compile chromium slither lint
	$(BIN)/brownie test tests/ $(TESTARGS)

# Static analysis of the compiled contracts (brownie's artifacts, no native solc). Fails on any High or Medium
# finding not triaged: detectors excluded (Low/Informational only) with reasons in slither.config.json, single
# false positives as `// slither-disable-next-line <detector> (reason)` beside their line. contracts/test/ and
# node_modules are not analysed. After an incremental compile the artifacts can disagree on source numbering, which
# slither trusts (tools/build_consistent.py): then everything is compiled afresh first.
slither: $(SLITHER_VENV)/.installed compile
	@$(SLITHER_VENV)/bin/python tools/slither_config_check.py
	@$(BIN)/python tools/build_consistent.py || $(BIN)/brownie compile --all > /dev/null
	$(SLITHER_VENV)/bin/slither . --compile-force-framework brownie --ignore-compile

# ruff over the whole repository (rules in pyproject.toml; build/, node_modules/ and .venv*/ left out), mypy strict over
# the packages. mypy resolves trainyard from this checkout (mypy_path in pyproject.toml): the editable install's import
# hook is invisible to it, and an import it cannot find is an error, never a silent Any.
lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/mypy trainyard bench

# The property tests with the `fuzz` hypothesis profile: random, ten times the examples (tests/conftest.py). A long
# run for hunting bugs, never part of `make test`, which runs them derandomized (profile `ci`).
fuzz: bootstrap compile
	$(BIN)/brownie test tests/ -m hypothesis --hypothesis-profile fuzz $(TESTARGS)

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
	rm -rf build reports .hypothesis crytic-export
