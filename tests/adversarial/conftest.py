"""Full rounds with agents on Anvil: a submitter, a solver agent (honest or cheating), challenger agents."""

from pathlib import Path

import numpy as np
import pytest

from trainyard.challenger.logic import ChallengerPolicy
from trainyard.dispute import scenario as sc
from trainyard.rounds import ChallengerSpec, SolverSpec, run_contested_round

ETH = 10**18
PRICE = ETH // 5
STAKE = ETH
SPEC = """\
name: tiny-adversarial
model:
  arch: mlp
  layers: [4, 5, 3]
dataset: tiny.npz
training:
  steps: 16
  checkpoint_interval: 4
  batch_size: 3
  learning_rate: 0.125
  momentum: 0.5
  seed: 11
market:
  max_price: 0.2 ether
  stake_per_bid: 1 ether
  bid_period: 10m
  reveal_period: 10m
  train_period: 2h
  challenge_period: 30m
"""


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    data = sc.tiny_dataset()
    np.savez(tmp_path / "tiny.npz", X=data.x.numpy() / 65536.0, y=data.y.numpy(), test=data.test.numpy())
    (tmp_path / "job.yaml").write_text(SPEC)
    return tmp_path / "job.yaml"


VERIFIER = ChallengerSpec("verifier", ChallengerPolicy(sample_rate=1.0, secret=b"v"))
WHISTLEBLOWER = ChallengerSpec("whistleblower", ChallengerPolicy(sample_rate=1.0, after_result=True, secret=b"w"))


def contest(devnet, tmp_path, spec_path, oracle=None, challengers=(VERIFIER,), store=None):
    return run_contested_round(devnet.url, tmp_path / "home", spec_path,
                               [SolverSpec("solver", PRICE, oracle, store)], list(challengers))
