import os

import brownie
import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from trainyard.devnet import Devnet

# brownie starts its own Anvil on 8545; BROWNIE_ANVIL_PORT moves it so that test sessions can run side by side.
# (brownie modules are reached through `brownie.` attributes: brownie hashes the source of every module a conftest
# imports from inside the project folder, and its compiled modules in .venv/ are not text.)
_port = os.environ.get("BROWNIE_ANVIL_PORT")
if _port:
    brownie._config.CONFIG.networks["development"]["cmd_settings"]["port"] = int(_port)

# Hypothesis profiles. `ci` (the default, what `make test` runs) is derandomized: every run draws the same examples
# (a seed from each test's source), so a property test cannot pass on one run and fail on the next; it keeps no example
# database (a failure saved by an earlier run would change what runs) and prints the blob that replays a failure.
# `fuzz` (`make fuzz`, or `--hypothesis-profile fuzz`) is random, keeps its finds in .hypothesis/, and runs FUZZ_FACTOR
# times the examples each test asks for. Per-test @settings(max_examples=...) still apply: a settings object made
# at import inherits every setting it does not name (derandomize among them) from the profile loaded here.
FUZZ_FACTOR = 10
settings.register_profile("ci", parent=settings.default, derandomize=True, database=None, deadline=None,
                          print_blob=True)
settings.register_profile("fuzz", parent=settings.get_profile("ci"), derandomize=False,
                          database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
                          max_examples=FUZZ_FACTOR * settings.default.max_examples)
settings.load_profile("ci")  # hypothesis' own plugin loads the one --hypothesis-profile names after this


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    # brownie's -v/-s profile adds its example database on top of ours: drop it again when derandomized
    if settings.default.derandomize and settings.default.database is not None:
        name = f"{settings._current_profile}-without-database"
        settings.register_profile(name, parent=settings.default, database=None)
        settings.load_profile(name)


def _uses_hypothesis(item) -> bool:
    module = getattr(item, "module", None)
    return any(getattr(module, name, None) is not None for name in ("given", "settings", "st", "strategies"))


def pytest_collection_modifyitems(config, items):
    """Mark every test of a module that uses hypothesis `hypothesis` (`make fuzz` selects them; hypothesis marks only
    the @given functions themselves), and under the fuzz profile scale each test's own max_examples."""
    fuzz = config.getoption("hypothesis_profile", None) == "fuzz"
    for item in items:
        if _uses_hypothesis(item):
            item.add_marker("hypothesis")
        if not fuzz:
            continue
        fn = getattr(item, "obj", None)
        own = getattr(fn, "_hypothesis_internal_use_settings", None)
        # an @given test function with its own @settings (hypothesis reads this attribute when the test runs; one
        # without gets the profile object itself, already scaled)
        if own is not None and own is not settings.default:
            fn._hypothesis_internal_use_settings = settings(own, max_examples=FUZZ_FACTOR * own.max_examples,
                                                            derandomize=False)
        cls = getattr(item, "cls", None)
        if isinstance(getattr(cls, "settings", None), settings) and not getattr(cls, "_fuzz_scaled", False):
            cls.settings = settings(cls.settings, max_examples=FUZZ_FACTOR * cls.settings.max_examples,
                                    derandomize=False)  # a stateful machine's TestCase
            cls._fuzz_scaled = True


@pytest.fixture
def devnet():
    """An Anvil of the test's own on a free port (the agents' tests never share brownie's chain)."""
    with Devnet() as net:
        yield net
