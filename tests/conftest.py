import os

import brownie
import pytest

from trainyard.devnet import Devnet

# brownie starts its own Anvil on 8545; BROWNIE_ANVIL_PORT moves it so that test sessions can run side by side.
# (brownie modules are reached through `brownie.` attributes: brownie hashes the source of every module a conftest
# imports from inside the project folder, and its compiled modules in .venv/ are not text.)
_port = os.environ.get("BROWNIE_ANVIL_PORT")
if _port:
    brownie._config.CONFIG.networks["development"]["cmd_settings"]["port"] = int(_port)


@pytest.fixture
def devnet():
    """An Anvil of the test's own on a free port (the agents' tests never share brownie's chain)."""
    with Devnet() as net:
        yield net
