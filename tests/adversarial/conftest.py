"""Full rounds with agents on Anvil: a submitter, a solver agent (honest or cheating), challenger agents."""

from pathlib import Path

import pytest

from trainyard.challenger.logic import ChallengerPolicy
from trainyard.dispute import scenario as sc
from trainyard.rounds import ChallengerSpec, SolverSpec, run_contested_round

ETH = 10**18
PRICE = ETH // 5
STAKE = ETH


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    return sc.write_tiny_job(tmp_path)


VERIFIER = ChallengerSpec("verifier", ChallengerPolicy(sample_rate=1.0, secret=b"v"))
WHISTLEBLOWER = ChallengerSpec("whistleblower", ChallengerPolicy(sample_rate=1.0, after_result=True, secret=b"w"))


def contest(devnet, tmp_path, spec_path, oracle=None, challengers=(VERIFIER,), store=None):
    return run_contested_round(devnet.url, tmp_path / "home", spec_path,
                               [SolverSpec("solver", PRICE, oracle, store)], list(challengers))
