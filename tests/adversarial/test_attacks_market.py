"""Attacks on the market and on staking (issue 9, parts 3, 4 and 7), each performed by the actor who would make it:
a second locker that reaches for stake it did not lock, an attacker contract that jams the auction with bids in one
atomic batch, a submitter posting a job no dispute could settle. Each test checks the attack fails and that no honest
party lost a wei beyond what the rules take (wallet + stake + credits, gas excluded)."""

from collections import defaultdict

import brownie
import pytest
from brownie import web3

from tests.adversarial.attacker import batch, call, deploy_attacker
from tests.market.conftest import (
    CORE,
    ETH,
    PARAMS,
    REVEAL_PENALTY_BPS,
    SLASH_REWARD_BPS,
    UNBONDING,
    Round,
    commitment,
    core_with,
    salt,
    typed_error,
)

PENALTY = ETH * REVEAL_PENALTY_BPS // 10_000  # PARAMS stake per bid is 1 ETH
PENALTY_REWARD = PENALTY * SLASH_REWARD_BPS // 10_000
MAX = ETH // 2


@pytest.fixture(scope="module")
def staking(Staking, accounts):
    return Staking.deploy(UNBONDING, {"from": accounts[0]})


@pytest.fixture(scope="module")
def market(JobMarket, OneStep, staking, accounts):
    m = JobMarket.deploy(staking, OneStep.deploy({"from": accounts[0]}), REVEAL_PENALTY_BPS, SLASH_REWARD_BPS,
                         {"from": accounts[0]})
    m.setDisputeGame(accounts[9], {"from": accounts[0]})
    return m


@pytest.fixture(scope="module")
def pool(accounts):
    """An account standing in for the verifier pool: a second locker of the same Staking."""
    return accounts[8]


@pytest.fixture(scope="module", autouse=True)
def wired(staking, market, pool, accounts):
    staking.wire([market, pool], {"from": accounts[0]})


@pytest.fixture(autouse=True)
def isolate(fn_isolation):
    pass


@pytest.fixture
def rnd(market, staking, chain, accounts):
    return Round(market, staking, chain, accounts[1], accounts[2:6])


class Ledger:
    """What each party holds (wallet + free, locked and unbonding stake + credits in both contracts), with the gas
    it paid added back, so that a comparison is about value only."""

    def __init__(self, market, staking):
        self.market, self.staking = market, staking
        self.gas = defaultdict(int)

    def send(self, tx):
        self.gas[str(tx.sender)] += tx.gas_used * tx.gas_price
        return tx

    def worth(self, who) -> int:
        a = str(who)
        s = self.staking
        return (web3.eth.get_balance(a) + s.freeStake(a) + s.lockedStake(a) + s.unbonding(a)[0] + s.credits(a)
                + self.market.credits(a) + self.gas[a])


# -- (3) a locker takes stake another locked --------------------------------------------------------------------
def test_pool_cannot_cut_stake_the_market_locked_for_a_bid(rnd, market, staking, pool, accounts):
    """The pool used to cut min(lockedStake(v), verifierStake) over the verifier's TOTAL locked stake: it took the
    stake the market held for the verifier's bid on an unrelated job, whose settlement then reverted."""
    solver, submitter = rnd.solvers[0], rnd.submitter
    led = Ledger(market, staking)
    led.send(staking.deposit({"from": solver, "value": 2 * ETH}))
    start = {a: led.worth(a) for a in (solver, submitter)}
    led.send(rnd.post())
    led.send(market.commitBid(1, commitment(1, solver, ETH // 5, salt(0)), {"from": solver}))
    staking.lock(solver, ETH, {"from": pool})  # the solver also joined the pool as a verifier
    assert staking.lockedStake(solver) == 2 * ETH and staking.lockedBy(pool, solver) == ETH
    # the pool finds the solver lazy and cuts "everything locked": refused, with what the pool itself holds
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(pool), str(solver), ETH, 2 * ETH)):
        staking.slash(solver, 2 * ETH, pool, 0, {"from": pool})
    with brownie.reverts(typed_error("StakingInsufficientLockedStake", str(pool), str(solver), ETH, 2 * ETH)):
        staking.unlock(solver, 2 * ETH, {"from": pool})
    staking.slash(solver, ETH, pool, 0, {"from": pool})  # what it did lock it may take
    assert staking.lockedBy(market, solver) == ETH
    # the unrelated job runs to the end: settles, trains, finalizes; the bid stake comes back whole
    rnd.to_reveal()
    led.send(rnd.reveal(solver, 0, ETH // 5))
    rnd.to_settlement()
    led.send(market.settleAuction(1, {"from": submitter}))
    for k in range(1, 5):
        led.send(market.commitTrace(1, bytes([k]) * 32, b"\x11" * 32, "c", {"from": solver}))
    led.send(market.submitResult(1, "c", {"from": solver}))
    rnd.sleep_until(market.job(1)["resultAt"] + PARAMS[5])
    led.send(market.finalize(1, {"from": submitter}))
    assert market.state(1) == 8 and staking.lockedStake(solver) == 0 and staking.freeStake(solver) == ETH
    # the solver lost exactly the verifier stake the pool locked and slashed, and was paid its price
    assert led.worth(solver) == start[solver] - ETH + ETH // 5
    assert led.worth(submitter) == start[submitter] - ETH // 5


# -- (7) jamming the auction with free bids ---------------------------------------------------------------------
def test_attacker_with_20_void_or_unrevealed_bids_cannot_jam_the_auction(Attacker, rnd, market, staking, accounts):
    """One attacker contract commits 20 bids in one atomic batch (more than the old cap of 16), reveals 15 at price
    0 (void) and leaves 5 unrevealed: honest bids still go in, the honest lowest bidder wins and is paid the
    second-lowest valid price, and each attacker bid pays when released: the reveal penalty for a void one, the
    whole stake (burned) for an unrevealed one."""
    owner, submitter = accounts[7], rnd.submitter
    honest = rnd.solvers[:2]
    led = Ledger(market, staking)
    atk = deploy_attacker(Attacker, owner, 20 * ETH)
    for h in honest:
        led.send(staking.deposit({"from": h, "value": ETH}))
    start = {str(a): led.worth(a) for a in (*honest, submitter)}
    led.send(rnd.post())
    atk_start = led.worth(atk)
    n = 20
    calls = [call(staking, "deposit", value=n * ETH)]
    calls += [call(market, "commitBid", 1, commitment(1, atk, 0, salt(i))) for i in range(n)]
    led.send(batch(atk, owner, calls))
    assert market.job(1)["bidCount"] == n and staking.lockedStake(atk) == n * ETH
    # honest bids still go in after the 20
    prices = (ETH // 5, ETH // 4)
    for k, h in enumerate(honest):
        tx = led.send(market.commitBid(1, commitment(1, h, prices[k], salt(100 + k)), {"from": h}))
        assert tx.return_value == n + k
    rnd.to_reveal()
    led.send(batch(atk, owner, [call(market, "revealBid", 1, i, 0, salt(i)) for i in range(15)]))
    for k, h in enumerate(honest):
        led.send(market.revealBid(1, n + k, prices[k], salt(100 + k), {"from": h}))
    rnd.to_settlement()
    tx = led.send(market.settleAuction(1, {"from": honest[0]}))
    ev = tx.events["AuctionSettled"]
    assert ev["winner"] == honest[0] and ev["price"] == ETH // 4  # the second-lowest VALID price, not the maximum
    # every attacker bid is released (the attacker itself batches it), each paying the penalty first
    tx = led.send(batch(atk, owner, [call(market, "releaseBid", 1, i) for i in range(n)]))
    assert [e["penalty"] for e in tx.events["BidReleased"]] == [PENALTY] * 15 + [ETH] * 5
    led.send(market.releaseBid(1, n + 1, {"from": honest[0]}))  # anyone releases the honest loser; it gets the stake
    assert staking.lockedStake(atk) == 0 and staking.freeStake(atk) == 15 * (ETH - PENALTY)
    assert staking.credits(submitter) == 15 * PENALTY_REWARD  # a share of the void bids' penalty, none of the rest
    # the job runs to the end for the honest winner
    for k in range(1, 5):
        led.send(market.commitTrace(1, bytes([k]) * 32, b"\x11" * 32, "c", {"from": honest[0]}))
    led.send(market.submitResult(1, "c", {"from": honest[0]}))
    rnd.sleep_until(market.job(1)["resultAt"] + PARAMS[5])
    led.send(market.finalize(1, {"from": submitter}))
    assert led.worth(honest[0]) == start[str(honest[0])] + ETH // 4
    assert led.worth(honest[1]) == start[str(honest[1])]
    assert led.worth(submitter) == start[str(submitter)] - ETH // 4 + 15 * PENALTY_REWARD
    assert led.worth(atk) == atk_start - 15 * PENALTY - 5 * ETH


def test_attacker_cannot_release_a_bid_twice_or_the_winners(Attacker, rnd, market, staking, accounts):
    owner = accounts[7]
    atk = deploy_attacker(Attacker, owner, 2 * ETH)
    winner = rnd.solvers[0]
    rnd.post()
    staking.deposit({"from": winner, "value": ETH})
    batch(atk, owner, [call(staking, "deposit", value=2 * ETH),
                       call(market, "commitBid", 1, commitment(1, atk, 0, salt(0)))])
    market.commitBid(1, commitment(1, winner, ETH // 5, salt(1)), {"from": winner})
    rnd.to_reveal()
    market.revealBid(1, 1, ETH // 5, salt(1), {"from": winner})
    rnd.to_settlement()
    with brownie.reverts(typed_error("JobMarketBidAlreadyReleased", 1, 0)):
        batch(atk, owner, [call(market, "releaseBid", 1, 0), call(market, "releaseBid", 1, 0)])
    with brownie.reverts(typed_error("JobMarketWinningBid", 1, 1)):
        batch(atk, owner, [call(market, "releaseBid", 1, 1)])
    assert staking.lockedBy(market, winner) == ETH and staking.lockedBy(market, atk) == ETH
    batch(atk, owner, [call(market, "releaseBid", 1, 0)])  # never revealed: its whole stake is forfeit, once
    assert staking.freeStake(atk) == ETH and staking.lockedStake(atk) == 0


# -- (4) a job no dispute could settle --------------------------------------------------------------------------
@pytest.mark.parametrize("core,what,value,limit", [
    (core_with(layers=[8] * 18), "layers", 18, 17),  # 17 layers: OneStep handles 16
    (core_with(layers=[8, 65, 3]), "width", 65, 64),
    (core_with(batch_size=33), "batchSize", 33, 32),
    (core_with(checkpoint_interval=1), "checkpointInterval", 1, 2),
])
def test_post_job_refuses_an_undisputable_job(rnd, market, core, what, value, limit):
    """Attack (4): a 17-layer job was accepted, so its honest solver could never reveal an op and always lost on
    time. It is refused at postJob now, and the submitter keeps its escrow."""
    with brownie.reverts(typed_error("OneStepUnsupported", what, value, limit)):
        market.postJob(core, "bafkspec", PARAMS, {"from": rnd.submitter, "value": MAX})
    assert market.jobCount() == 0 and web3.eth.get_balance(str(market)) == 0


def test_post_job_accepts_the_widest_deepest_disputable_core(rnd, market):
    core = core_with(layers=[64] * 17, batch_size=32, checkpoint_interval=2)
    tx = market.postJob(core, "bafkspec", PARAMS, {"from": rnd.submitter, "value": MAX})
    assert tx.return_value == 1 and market.state(1) == 1
    assert core != CORE
