"""Shared fixtures for the contract tests on brownie's Anvil."""

import brownie
import pytest
from brownie import web3
from eth_abi import encode
from eth_utils import keccak

ETH = 10**18
UNBONDING = 7 * 24 * 3600
REVEAL_PENALTY_BPS = 1_000
SLASH_REWARD_BPS = 5_000
# stakePerBid, numWindows, bidPeriod, revealPeriod, trainPeriod, challengePeriod
PARAMS = (ETH, 4, 600, 600, 3600, 600)
# a spec core (docHash, initialRoot, dataRoot, nTrain, batchSize, checkpointInterval, seed, lr, momentum, layers)
# inside every limit of OneStep.checkLimits; the job's spec hash is keccak256(abi.encode(core))
CORE_TYPE = "(bytes32,bytes32,bytes32,uint32,uint32,uint32,uint64,int64,int64,uint32[])"
CORE = (b"\x42" * 32, b"\x43" * 32, b"\x44" * 32, 100, 8, 5, 1, 6554, 0, [8, 6, 3])


def spec_hash(core) -> bytes:
    return keccak(encode([CORE_TYPE], [core]))


def core_with(**changes):
    """CORE with some fields changed (by the SpecCore field names of trainyard/spec_core.py)."""
    names = ("doc_hash", "initial_root", "data_root", "n_train", "batch_size", "checkpoint_interval", "seed", "lr",
             "momentum", "layers")
    return tuple(changes.get(n, v) for n, v in zip(names, CORE, strict=True))


SPEC_HASH = spec_hash(CORE)
INTERIOR = b"\x11" * 32  # a window's interior root (only verifier approvals open it)


def typed_error(name: str, *args) -> str:
    """The revert message brownie.reverts() matches for a custom error of a project contract:
    'Name: arg1, arg2' (addresses lower-case; brownie decodes the error with the compiled ABI)."""
    shown = [str(a).lower() if str(a).startswith("0x") else str(a) for a in args]
    return f"{name}: " + ", ".join(shown)


def commitment(job_id, bidder, price, salt):
    return keccak(encode(["uint256", "address", "uint256", "bytes32"], [job_id, str(bidder), price, salt]))


def salt(i: int) -> bytes:
    return bytes([i + 1]) * 32


@pytest.fixture(scope="module")
def staking(Staking, accounts):
    return Staking.deploy(UNBONDING, {"from": accounts[0]})


@pytest.fixture(scope="module")
def one_step(OneStep, accounts):
    return OneStep.deploy({"from": accounts[0]})


@pytest.fixture(scope="module")
def market(JobMarket, staking, one_step, accounts):
    m = JobMarket.deploy(staking, one_step, REVEAL_PENALTY_BPS, SLASH_REWARD_BPS, {"from": accounts[0]})
    m.setDisputeGame(accounts[9], {"from": accounts[0]})
    return m


@pytest.fixture(scope="module")
def lockers(market):
    """The contracts Staking is wired with, once; a test module that adds a locker (the verifier pool) overrides
    this fixture to return them all."""
    return [market]


@pytest.fixture(scope="module")
def wired(staking, lockers, accounts):
    staking.wire(lockers, {"from": accounts[0]})
    return lockers


@pytest.fixture(autouse=True)
def isolate(wired, fn_isolation):
    pass


@pytest.fixture(scope="module")
def submitter(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def solvers(accounts):
    return accounts[2:6]


@pytest.fixture(scope="module")
def game(accounts):
    return accounts[9]


class Round:
    """Drives a job through its phases; every step is a real transaction."""

    def __init__(self, market, staking, chain, submitter, solvers):
        self.market, self.staking, self.chain = market, staking, chain
        self.submitter, self.solvers = submitter, solvers
        self.job_id = None

    def post(self, max_price=ETH // 2, params=PARAMS):
        tx = self.market.postJob(CORE, "bafkspec", params, {"from": self.submitter, "value": max_price})
        self.job_id = tx.return_value
        return tx

    def bid(self, solver, price, i=0, stake=2 * ETH):
        if stake:
            self.staking.deposit({"from": solver, "value": stake})
        return self.market.commitBid(self.job_id, commitment(self.job_id, solver, price, salt(i)), {"from": solver})

    def reveal(self, solver, index, price, i=0):
        return self.market.revealBid(self.job_id, index, price, salt(i), {"from": solver})

    def to_reveal(self):
        self.sleep_until(self.market.job(self.job_id)["bidDeadline"])

    def to_settlement(self):
        self.sleep_until(self.market.job(self.job_id)["revealDeadline"])

    def sleep_until(self, t):
        now = self.chain.time()
        if t > now:
            self.chain.sleep(t - now)
        self.chain.mine()

    def auction(self, prices):
        """Post, bid with the given prices (solver i bids prices[i]), reveal all, settle."""
        self.post()
        for i, p in enumerate(prices):
            self.bid(self.solvers[i], p, i)
        self.to_reveal()
        for i, p in enumerate(prices):
            self.reveal(self.solvers[i], i, p, i)
        self.to_settlement()
        return self.market.settleAuction(self.job_id, {"from": self.submitter})

    def release_all(self, caller=None):
        """Release every bid but the winner's (anyone may: `caller` defaults to the submitter)."""
        for i in range(self.market.job(self.job_id)["bidCount"]):
            if self.market.bid(self.job_id, i)["released"]:
                continue
            try:
                self.market.releaseBid(self.job_id, i, {"from": caller or self.submitter})
            except brownie.exceptions.VirtualMachineError as exc:
                if not exc.revert_msg.startswith("JobMarketWinningBid"):
                    raise

    def train(self, winner, windows=4):
        for k in range(1, windows + 1):
            self.market.commitTrace(self.job_id, bytes([k]) * 32, INTERIOR, "bafkckpt", {"from": winner})
        return self.market.submitResult(self.job_id, "bafkckpt", {"from": winner})


@pytest.fixture
def rnd(market, staking, chain, submitter, solvers):
    return Round(market, staking, chain, submitter, solvers)


def balance(addr) -> int:
    return web3.eth.get_balance(str(addr))
