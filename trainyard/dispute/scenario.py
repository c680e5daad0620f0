"""A job set up directly on a devnet for dispute games: deploy, post a job under its spec core, one solver wins the
auction and commits its trace from its oracle. Used by the game tests, the demo's cheating round and bench.dispute
(the market round itself is exercised by the agents in tests/e2e)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account import Account
from eth_typing import ChecksumAddress

from trainyard.chain import Chain, GasRecord
from trainyard.deploy import Economics, deploy
from trainyard.devnet import advance_time, dev_keys
from trainyard.dispute.client import DisputeClient
from trainyard.dispute.oracle import ExactOracle
from trainyard.market import Market
from trainyard.runtime.data import Dataset
from trainyard.runtime.fixed import to_fixed
from trainyard.runtime.model import TrainConfig
from trainyard.spec import MarketSpec
from trainyard.spec_core import SpecCore, data_root

ETH = 10**18
ROLES = ("deployer", "submitter", "solver", "challenger", "challenger2", "challenger3")


@dataclass
class Arena:
    rpc_url: str
    chains: dict[str, Chain]
    addresses: dict[str, ChecksumAddress]
    gas: list[GasRecord] = field(default_factory=list)

    def market(self, role: str) -> Market:
        return Market(self.chains[role])

    def client(self, role: str) -> DisputeClient:
        return DisputeClient(self.chains[role])

    def address(self, role: str) -> str:
        return self.chains[role].address

    def advance(self, seconds: int) -> None:
        advance_time(self.chains["deployer"].w3, seconds)

    def now(self) -> int:
        return self.chains["deployer"].now()


def arena(rpc_url: str, home: Path, econ: Economics = Economics()) -> Arena:
    """Deploy everything with Anvil's accounts 1.. (account 0 produces blocks and takes the tips)."""
    gas: list[GasRecord] = []
    keys = dev_keys(len(ROLES) + 1)[1:]
    chains = {r: Chain(rpc_url, {}, Account.from_key(k), gas_log=gas) for r, k in zip(ROLES, keys, strict=True)}
    addresses = deploy(chains["deployer"], home / "deployments.json", econ)
    for c in chains.values():
        c.addresses.update(addresses)
    return Arena(rpc_url, chains, addresses, gas)


def tiny_dataset(n: int = 48, features: int = 4, classes: int = 3, seed: int = 0) -> Dataset:
    """A small synthetic classification set (class = argmax of a fixed projection): enough to train on."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    y = np.argmax(x @ rng.normal(size=(features, classes)), axis=1)
    return Dataset.from_arrays(to_fixed(x), y)


TINY_SPEC = """\
name: tiny
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


def write_tiny_job(folder: Path) -> Path:
    """A job spec of :func:`tiny_config`'s shape over :func:`tiny_dataset`, with its .npz beside it."""
    data = tiny_dataset()
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "tiny.npz", X=data.x.numpy() / 65536.0, y=data.y.numpy(), test=data.test.numpy())
    (folder / "job.yaml").write_text(TINY_SPEC)
    return folder / "job.yaml"


def tiny_config(steps: int, interval: int, layers: tuple[int, ...] = (4, 5, 3), momentum: float = 0.5) -> TrainConfig:
    return TrainConfig(layers=layers, learning_rate=0.125, batch_size=3, steps=steps, checkpoint_interval=interval,
                       seed=11, momentum=momentum)


def core_of(cfg: TrainConfig, data: Dataset, doc_hash: bytes = b"\x5a" * 32) -> SpecCore:
    honest = ExactOracle(cfg, data)
    return SpecCore(doc_hash, honest.state_root(0), data_root(data), len(data.train_index), cfg.batch_size,
                    cfg.checkpoint_interval, cfg.seed, cfg.lr_fixed, cfg.momentum_fixed, tuple(cfg.layers))


@dataclass(frozen=True)
class Terms:
    price: int = ETH // 10
    stake: int = ETH
    challenge_period: int = 3600
    train_period: int = 30 * 24 * 3600


def award(a: Arena, core: SpecCore, windows: int, terms: Terms = Terms()) -> int:
    """The submitter posts a job under ``core``; the solver is its only bidder and wins. Returns the job id."""
    m = MarketSpec(max_price=terms.price, stake_per_bid=terms.stake, bid_period=600, reveal_period=600,
                   train_period=terms.train_period, challenge_period=terms.challenge_period)
    job_id = a.market("submitter").post_job(core, "bafkspec", windows, m)
    solver = a.market("solver")
    solver.deposit(terms.stake)
    index = solver.commit_bid(job_id, terms.price, b"\x01" * 32)
    a.advance(601)
    solver.reveal_bid(job_id, index, terms.price, b"\x01" * 32)
    a.advance(601)
    return job_id


def commit_trace(a: Arena, job_id: int, oracle: ExactOracle, windows: int, submit: bool = True) -> list[bytes]:
    """The solver commits window by window the roots its oracle gives; returns them."""
    c = oracle.cfg.checkpoint_interval
    solver = a.market("solver")
    roots = []
    for w in range(windows):
        root = oracle.state_root((w + 1) * c)
        solver.commit_trace(job_id, root, oracle.interior_root(w), f"bafkckpt{w}")
        roots.append(root)
    if submit:
        solver.submit_result(job_id, f"bafkckpt{windows - 1}")
    return roots
