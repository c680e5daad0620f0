"""VerifierPool: joining and leaving, funding, the draw from a later block's hash, approvals, settlement, and every
revert path. (Full rounds with the pool, including a lazy verifier slashed, are in tests/adversarial.)"""

import brownie
import pytest

from conftest import ETH, SLASH_REWARD_BPS, balance, typed_error

# JobState
CHALLENGE, DISPUTED, FINALIZED, SLASHED = 5, 6, 8, 11
FEE = ETH // 100


@pytest.fixture(scope="module")
def record(DisputeGame, OneStep, market, accounts):
    # a dispute game that never ran: slashedBy is empty, so a slashed approver's stake is all burned
    return DisputeGame.deploy(market, OneStep.deploy({"from": accounts[0]}), ETH // 10, 3600, 5000, {"from": accounts[0]})


@pytest.fixture(scope="module")
def pool(VerifierPool, market, staking, record, accounts):
    p = VerifierPool.deploy(market, staking, record, ETH, SLASH_REWARD_BPS, {"from": accounts[0]})
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


def _drawn(pool, rnd, market, submitter, solvers, chain):
    rnd.auction([ETH // 5])
    pool.fund(1, {"from": submitter, "value": FEE})
    rnd.train(solvers[0])
    pool.requestDraw(1, {"from": submitter})
    chain.mine()
    return pool.draw(1, {"from": submitter}).events["Drawn"]["verifier"]


def test_approval_of_a_finalized_job_earns_the_fee(pool, rnd, market, submitter, solvers, verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    other = next(x for x in verifiers if str(x) != v)
    with brownie.reverts(typed_error("PoolNotDrawn", 1, str(other))):
        pool.approve(1, {"from": other})
    pool.approve(1, {"from": v})
    with brownie.reverts(typed_error("PoolWrongState", 1, CHALLENGE)):
        pool.settle(1, {"from": submitter})
    rnd.sleep_until(market.job(1)["resultAt"] + market.job(1)["challengePeriod"] + 1)
    market.finalize(1, {"from": solvers[0]})
    tx = pool.settle(1, {"from": submitter})
    assert tx.events["Settled"]["paid"] == FEE and pool.credits(v) == FEE and pool.pending(v) == 0
    with brownie.reverts(typed_error("PoolSettled", 1)):
        pool.settle(1, {"from": submitter})
    before = balance(v)
    pool.claimCredit({"from": v})
    assert balance(v) == before + FEE and balance(pool) == 0


def test_approval_of_a_slashed_job_costs_the_stake_and_ends_membership(pool, rnd, market, staking, game, submitter, solvers,
                                                                       verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    pool.approve(1, {"from": v})
    market.openDispute(1, {"from": game})
    market.resolveDispute(1, True, game, {"from": game})
    assert market.state(1) == SLASHED
    burned = staking.totalBurned()
    tx = pool.settle(1, {"from": submitter})
    assert tx.events["Settled"]["slashed"] == ETH and tx.events["Settled"]["paid"] == 0
    assert staking.lockedStake(v) == 0 and staking.totalBurned() == burned + ETH  # nobody recorded: all burned
    assert v not in [str(x) for x in pool.verifiers()]
    assert pool.credits(submitter) == FEE  # the fee goes back to who paid it


def test_an_unapproved_job_returns_the_fee(pool, rnd, market, submitter, solvers, verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    _drawn(pool, rnd, market, submitter, solvers, chain)
    rnd.sleep_until(market.job(1)["resultAt"] + market.job(1)["challengePeriod"] + 1)
    market.finalize(1, {"from": solvers[0]})
    pool.settle(1, {"from": submitter})
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
