"""VerifierPool: joining and leaving, funding, the draw from a later block's hash, approvals, settlement, and every
revert path. (Full rounds with the pool, including a lazy verifier slashed, are in tests/adversarial.)"""

import brownie
import pytest

from conftest import ETH, PARAMS, SLASH_REWARD_BPS, balance, typed_error

from trainyard import merkle
from trainyard.dispute.client import TraceLeaf, open_leaf
from trainyard.runtime import commit
from trainyard.spec_core import SpecCore

# JobState
CHALLENGE, DISPUTED, FINALIZED, SLASHED = 5, 6, 8, 11
FEE = ETH // 100


@pytest.fixture(scope="module")
def record(DisputeGame, OneStep, market, accounts):
    # a dispute game that never ran: slashedBy is empty, so a slashed approver's stake is all burned
    return DisputeGame.deploy(market, OneStep.deploy({"from": accounts[0]}), ETH // 10, 3600, 5000, {"from": accounts[0]})


@pytest.fixture(scope="module")
def pool(VerifierPool, market, staking, record, accounts):
    p = VerifierPool.deploy(market, staking, record, ETH, SLASH_REWARD_BPS, 2500, {"from": accounts[0]})
    staking.setAuthorized(p, True, {"from": accounts[0]})
    return p


@pytest.fixture(scope="module")
def verifiers(accounts, staking, pool):
    vs = accounts[6:9]
    for v in vs:
        staking.deposit({"from": v, "value": ETH})
    return vs


def to_challenge(rnd, market, solvers):
    rnd.auction([ETH // 5])
    rnd.train(solvers[0])
    assert market.state(1) == CHALLENGE


def test_register_locks_stake_and_deregister_returns_it(pool, staking, verifiers):
    v = verifiers[0]
    tx = pool.register({"from": v})
    assert "Registered" in tx.events and staking.lockedStake(v) == ETH and staking.freeStake(v) == 0
    with brownie.reverts(typed_error("PoolAlreadyRegistered", str(v))):
        pool.register({"from": v})
    pool.deregister({"from": v})
    assert staking.lockedStake(v) == 0 and staking.freeStake(v) == ETH and list(pool.verifiers()) == []
    with brownie.reverts(typed_error("PoolNotRegistered", str(v))):
        pool.deregister({"from": v})


def test_register_needs_free_stake(pool, accounts):
    with brownie.reverts():
        pool.register({"from": accounts[5]})


def test_funding_once_for_an_existing_job(pool, rnd, submitter):
    with brownie.reverts(typed_error("PoolBadFunding", 1)):
        pool.fund(1, {"from": submitter, "value": FEE})  # no job yet
    rnd.post()
    pool.fund(1, {"from": submitter, "value": FEE})
    with brownie.reverts(typed_error("PoolBadFunding", 1)):
        pool.fund(1, {"from": submitter, "value": FEE})
    assert balance(pool) == FEE


def test_draw_waits_for_the_result_and_a_later_block(pool, rnd, market, submitter, solvers, verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    rnd.post()
    pool.fund(1, {"from": submitter, "value": FEE})
    with brownie.reverts(typed_error("PoolWrongState", 1, 1)):
        pool.requestDraw(1, {"from": submitter})
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    rnd.train(solvers[0])
    tx = pool.requestDraw(1, {"from": submitter})
    block = tx.events["DrawRequested"]["randomnessBlock"]
    assert block == tx.block_number + 1
    with brownie.reverts(typed_error("PoolDrawNotReady", 1, block)):
        pool.requestDraw(1, {"from": submitter})
    chain.mine()
    tx = pool.draw(1, {"from": submitter})
    drawn = tx.events["Drawn"]["verifier"]
    assert drawn in [str(v) for v in verifiers] and pool.pending(drawn) == 1
    assert pool.assignment(1)[6] == tx.events["Drawn"]["seed"]
    with brownie.reverts(typed_error("PoolAlreadyDrawn", 1, drawn.lower())):
        pool.draw(1, {"from": submitter})
    with brownie.reverts(typed_error("PoolHasAssignments", drawn.lower(), 1)):
        pool.deregister({"from": drawn})


# a job under a spec core, with a trace whose interior digests are known (made up: the pool only checks openings)
CORE = SpecCore(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 36, 3, 4, 11, 8192, 0, (4, 5, 3))
DIGESTS = [[bytes([w, j]) * 16 for j in range(4)] for w in range(4)]
ROOTS = [bytes([w + 1]) * 32 for w in range(4)]


def _drawn(pool, rnd, market, submitter, solvers, chain):
    rnd.post()
    market.cancelJob(1, {"from": submitter})  # job 1 is the Round helper's; ours is job 2 (under the core)
    market.postJob(CORE.spec_hash(), "bafkspec", PARAMS, {"from": submitter, "value": ETH // 2})
    rnd.job_id = 2
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    for w in range(4):
        market.commitTrace(2, ROOTS[w], commit.interior_root(DIGESTS[w]), "c", {"from": solvers[0]})
    market.submitResult(2, "c", {"from": solvers[0]})
    pool.fund(2, {"from": submitter, "value": FEE})
    pool.requestDraw(2, {"from": submitter})
    chain.mine()
    return pool.draw(2, {"from": submitter}).events["Drawn"]["verifier"]


def _openings(pool, digests=DIGESTS):
    trace = [TraceLeaf(ROOTS[w], "c", commit.interior_root(DIGESTS[w])) for w in range(4)]
    ws, js = pool.samples(2, 4, 4)
    return [(*open_leaf(trace, w), digests[w][j], merkle.proof(commit.interior_leaves(digests[w]), j)) for w, j in zip(ws, js)]


def test_approval_of_a_finalized_job_earns_the_fee(pool, rnd, market, submitter, solvers, verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    other = next(x for x in verifiers if str(x) != v)
    with brownie.reverts(typed_error("PoolNotDrawn", 2, str(other))):
        pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": other})
    wrong_core = SpecCore(*CORE.abi_tuple()[:9], layers=(4, 6, 3))
    with brownie.reverts(typed_error("PoolBadSpecCore", 2)):
        pool.approve(2, wrong_core.abi_tuple(), _openings(pool), {"from": v})
    # an approval that does not open the sampled digests (here: guessed ones) is refused
    guessed = [[b"\x09" * 32] * 4 for _ in range(4)]
    with brownie.reverts(typed_error("PoolBadOpening", 2, 0)):
        pool.approve(2, CORE.abi_tuple(), _openings(pool, guessed), {"from": v})
    with brownie.reverts(typed_error("PoolBadOpening", 2, 0)):
        pool.approve(2, CORE.abi_tuple(), [], {"from": v})
    pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": v})
    with brownie.reverts(typed_error("PoolWrongState", 2, CHALLENGE)):
        pool.settle(2, {"from": submitter})
    rnd.sleep_until(market.job(2)["resultAt"] + market.job(2)["challengePeriod"] + 1)
    market.finalize(2, {"from": solvers[0]})
    tx = pool.settle(2, {"from": submitter})
    assert tx.events["Settled"]["paid"] == FEE and pool.credits(v) == FEE and pool.pending(v) == 0
    with brownie.reverts(typed_error("PoolSettled", 2)):
        pool.settle(2, {"from": submitter})
    before = balance(v)
    pool.claimCredit({"from": v})
    assert balance(v) == before + FEE and balance(pool) == 0


def test_approval_of_a_slashed_job_costs_the_stake_and_ends_membership(pool, rnd, market, staking, game, submitter, solvers,
                                                                       verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": v})
    market.openDispute(2, {"from": game})
    market.resolveDispute(2, True, game, {"from": game})
    assert market.state(2) == SLASHED
    burned = staking.totalBurned()
    tx = pool.settle(2, {"from": submitter})
    assert tx.events["Settled"]["slashed"] == ETH and tx.events["Settled"]["paid"] == 0
    assert staking.lockedStake(v) == 0 and staking.totalBurned() == burned + ETH  # nobody recorded: all burned
    assert v not in [str(x) for x in pool.verifiers()]
    assert pool.credits(submitter) == FEE  # the fee goes back to who paid it


def test_an_unapproved_job_returns_the_fee(pool, rnd, market, submitter, solvers, verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    _drawn(pool, rnd, market, submitter, solvers, chain)
    rnd.sleep_until(market.job(2)["resultAt"] + market.job(2)["challengePeriod"] + 1)
    market.finalize(2, {"from": solvers[0]})
    pool.settle(2, {"from": submitter})
    assert pool.credits(submitter) == FEE


def test_no_verifier_no_draw_and_never_the_solver(pool, rnd, market, staking, submitter, solvers, chain):
    rnd.auction([ETH // 5])
    pool.fund(1, {"from": submitter, "value": FEE})
    rnd.train(solvers[0])
    pool.requestDraw(1, {"from": submitter})
    chain.mine()
    with brownie.reverts(typed_error("PoolNoVerifier", 1)):
        pool.draw(1, {"from": submitter})
    pool.register({"from": solvers[0]})  # the solver itself is the only member: it cannot be drawn
    with brownie.reverts(typed_error("PoolNoVerifier", 1)):
        pool.draw(1, {"from": submitter})
