"""VerifierPool: joining and leaving (the membership stake it locks), funding, the draw from a later block's hash among
the members active before it, approvals (the stake each locks, the points they open, their deadline), settlement,
and every revert path. (Attacks on the pool, with sock accounts and real
games, are in tests/adversarial/test_attacks_pool.py; full rounds with agents in
tests/adversarial/test_strategies.py.)"""

import brownie
import pytest
from conftest import ETH, PARAMS, SLASH_REWARD_BPS, balance, typed_error

from trainyard import merkle
from trainyard import pool as twin
from trainyard.dispute.client import TraceLeaf, open_leaf
from trainyard.runtime import commit
from trainyard.spec_core import SpecCore

# JobState
CHALLENGE, DISPUTED, FINALIZED, SLASHED = 5, 6, 8, 11
FEE = ETH // 100
SAMPLE_BPS = 2500
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def record(DisputeGame, OneStep, market, accounts):
    # a dispute game that never ran: provenWrong is false for every job (the market's game here is accounts[9])
    one_step = OneStep.deploy({"from": accounts[0]})
    return DisputeGame.deploy(market, one_step, ETH // 10, 3600, 5000, {"from": accounts[0]})


@pytest.fixture(scope="module")
def pool(VerifierPool, market, staking, record, accounts):
    p = VerifierPool.deploy(market, staking, record, ETH, SLASH_REWARD_BPS, SAMPLE_BPS, {"from": accounts[0]})
    record.setVerifierPool(p, {"from": accounts[0]})
    return p


@pytest.fixture(scope="module")
def lockers(market, pool):
    """Staking is wired once with both contracts that lock stake: the market and this pool."""
    return [market, pool]


@pytest.fixture(scope="module")
def verifiers(accounts, staking, pool):
    vs = accounts[6:9]
    for v in vs:  # one stake held for membership, one for an approval
        staking.deposit({"from": v, "value": 2 * ETH})
    return vs


def test_register_locks_the_membership_stake_until_the_member_leaves(pool, staking, verifiers, accounts):
    with brownie.reverts(typed_error("PoolInsufficientStake", str(accounts[5]), 0, ETH)):
        pool.register({"from": accounts[5]})
    v = verifiers[0]
    tx = pool.register({"from": v})
    assert tx.events["Registered"]["index"] == 0 and pool.isMember(v)
    assert staking.lockedBy(pool, v) == ETH and staking.freeStake(v) == ETH  # held while it can be drawn
    with brownie.reverts(typed_error("PoolAlreadyRegistered", str(v))):
        pool.register({"from": v})
    pool.deregister({"from": v})
    assert not pool.isMember(v) and pool.memberAt(0) == (v, False)
    assert staking.lockedStake(v) == 0 and staking.freeStake(v) == 2 * ETH  # leaving frees it
    with brownie.reverts(typed_error("PoolNotRegistered", str(v))):
        pool.deregister({"from": v})
    tx = pool.register({"from": v})  # joining again reactivates the same entry, and locks again
    assert tx.events["Registered"]["index"] == 0 and pool.memberCount() == 1 and pool.memberAt(0) == (v, True)
    assert staking.lockedBy(pool, v) == ETH


def test_a_zero_or_oversized_stake_is_refused_at_deployment(VerifierPool, market, staking, record, accounts):
    for stake in (0, 2**96):
        with brownie.reverts(typed_error("PoolBadStake", stake)):
            VerifierPool.deploy(market, staking, record, stake, SLASH_REWARD_BPS, SAMPLE_BPS, {"from": accounts[0]})


def test_only_the_submitter_funds_and_tops_up_until_the_draw(pool, rnd, market, submitter, solvers, verifiers, chain):
    with brownie.reverts(typed_error("PoolBadFunding", 1, FEE)):
        pool.fund(1, {"from": submitter, "value": FEE})  # no job yet
    rnd.post()
    with brownie.reverts(typed_error("PoolBadFunding", 1, 0)):
        pool.fund(1, {"from": submitter, "value": 0})
    with brownie.reverts(typed_error("PoolNotSubmitter", 1, str(solvers[0]), str(submitter))):
        pool.fund(1, {"from": solvers[0], "value": FEE})
    tx = pool.fund(1, {"from": submitter, "value": FEE})
    assert tx.events["Funded"]["fee"] == FEE
    tx = pool.fund(1, {"from": submitter, "value": FEE})  # a top-up before the draw
    assert tx.events["Funded"]["amount"] == FEE and tx.events["Funded"]["fee"] == 2 * FEE
    assert pool.assignment(1)[1] == 2 * FEE and balance(pool) == 2 * FEE
    pool.register({"from": verifiers[0]})
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    rnd.train(solvers[0])
    pool.requestDraw(1, {"from": submitter})
    chain.mine()
    drawn = pool.draw(1, {"from": submitter}).events["Drawn"]["verifier"]
    with brownie.reverts(typed_error("PoolAlreadyDrawn", 1, drawn.lower())):
        pool.fund(1, {"from": submitter, "value": FEE})


def test_draw_waits_for_the_result_and_a_later_block_and_locks_nothing(pool, rnd, market, staking, submitter, solvers,
                                                                       verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    rnd.post()
    with brownie.reverts(typed_error("PoolNotFunded", 1)):
        pool.requestDraw(1, {"from": submitter})
    pool.fund(1, {"from": submitter, "value": FEE})
    with brownie.reverts(typed_error("PoolWrongState", 1, 1)):
        pool.requestDraw(1, {"from": submitter})
    with brownie.reverts(typed_error("PoolDrawNotReady", 1, 0)):
        pool.draw(1, {"from": submitter})
    rnd.bid(solvers[0], ETH // 5)
    rnd.to_reveal()
    rnd.reveal(solvers[0], 0, ETH // 5)
    rnd.to_settlement()
    rnd.train(solvers[0])
    tx = pool.requestDraw(1, {"from": submitter})
    block = tx.events["DrawRequested"]["randomnessBlock"]
    assert block == tx.block_number + 1 and tx.events["DrawRequested"]["members"] == 3
    with brownie.reverts(typed_error("PoolDrawNotReady", 1, block)):
        pool.draw(1, {"from": submitter})  # mined in the randomness block itself: its hash is not known yet
    with brownie.reverts(typed_error("PoolDrawRequested", 1, block)):
        pool.requestDraw(1, {"from": submitter})  # never renewed
    tx = pool.draw(1, {"from": submitter})
    drawn = tx.events["Drawn"]["verifier"]
    assert drawn in [str(v) for v in verifiers] and pool.pending(drawn) == 1
    # being drawn locks nothing beyond membership: nobody can freeze a member's stake by having it drawn
    assert staking.lockedStake(drawn) == ETH and staking.freeStake(drawn) == ETH
    a = pool.assignment(1)
    assert a["seed"] == tx.events["Drawn"]["seed"] and a["locked"] == 0 and a["verifier"] == drawn
    with brownie.reverts(typed_error("PoolAlreadyDrawn", 1, drawn.lower())):
        pool.draw(1, {"from": submitter})
    pool.deregister({"from": drawn})  # leaving the draw keeps the assignment until settled
    assert staking.lockedStake(drawn) == 0 and pool.pending(drawn) == 1


def test_a_member_that_joins_or_rejoins_after_the_request_is_not_drawn(pool, rnd, market, staking, submitter, solvers,
                                                                     verifiers, chain):
    """Who can be drawn is fixed at the request: an entry (re)activated after it is skipped, so nothing done once
    the seed is known (a deposit, a re-join) makes anyone drawable."""
    early, late = verifiers[0], verifiers[1]
    pool.register({"from": late})
    pool.deregister({"from": late})  # an entry that exists at the request, inactive
    pool.register({"from": early})
    rnd.auction([ETH // 5])
    pool.fund(1, {"from": submitter, "value": FEE})
    rnd.train(solvers[0])
    pool.requestDraw(1, {"from": submitter})
    pool.register({"from": late})  # re-activated after the request (the randomness block is not mined yet)
    chain.mine()
    for _ in range(4):  # whatever the candidate order, only `early` is eligible
        tx = pool.draw(1, {"from": submitter})
        if "Drawn" in tx.events:
            break
    assert tx.events["Drawn"]["verifier"] == early


# a job under a spec core, with a trace whose interior digests are known (made up: the pool only checks openings)
CORE = SpecCore(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 36, 3, 4, 11, 8192, 0, (4, 5, 3))
DIGESTS = [[bytes([w, j]) * 16 for j in range(4)] for w in range(4)]
ROOTS = [bytes([w + 1]) * 32 for w in range(4)]


def _drawn(pool, rnd, market, submitter, solvers, chain):
    rnd.post()
    market.cancelJob(1, {"from": submitter})  # job 1 is the Round helper's; ours is job 2 (under the core)
    market.postJob(CORE.abi_tuple(), "bafkspec", PARAMS, {"from": submitter, "value": ETH // 2})
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
    return [(*open_leaf(trace, w), digests[w][j], merkle.proof(commit.interior_leaves(digests[w]), j))
            for w, j in zip(ws, js, strict=True)]


def test_approval_of_a_finalized_job_earns_the_fee_and_frees_the_stake(pool, rnd, market, staking, submitter, solvers,
                                                                      verifiers, chain):
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
    assert staking.lockedStake(v) == ETH and staking.freeStake(v) == ETH  # membership only, until it approves
    tx = pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": v})
    assert tx.events["Approved"]["locked"] == ETH and pool.assignment(2)["locked"] == ETH
    assert staking.lockedStake(v) == 2 * ETH and staking.freeStake(v) == 0  # the approval's own stake
    with brownie.reverts(typed_error("PoolNotDrawn", 2, v.lower())):
        pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": v})  # once
    with brownie.reverts(typed_error("PoolWrongState", 2, CHALLENGE)):
        pool.settle(2, {"from": submitter})
    rnd.sleep_until(market.job(2)["resultAt"] + market.job(2)["challengePeriod"] + 1)
    market.finalize(2, {"from": solvers[0]})
    tx = pool.settle(2, {"from": submitter})
    assert tx.events["Settled"]["paid"] == FEE and tx.events["Settled"]["slashed"] == 0
    assert pool.credits(v) == FEE and pool.pending(v) == 0
    assert staking.lockedStake(v) == ETH and staking.freeStake(v) == ETH  # the approval's lock freed, membership kept
    with brownie.reverts(typed_error("PoolSettled", 2)):
        pool.settle(2, {"from": submitter})
    before = balance(v)
    pool.claimCredit({"from": v})
    assert balance(v) == before + FEE and balance(pool) == 0
    with brownie.reverts(typed_error("PoolNoCredit", v.lower())):
        pool.claimCredit({"from": v})


def test_approval_of_a_slashed_job_costs_nothing_without_a_lost_approval_game(pool, rnd, market, staking, game,
                                                                             submitter, solvers, verifiers, chain):
    """The solver's games never decide the approver's stake (the solver can lose them on purpose): only a game
    against the approval does, and there was none. The approval is settled once it can no longer be challenged."""
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": v})
    market.openDispute(2, {"from": game})
    market.resolveDispute(2, True, True, game, {"from": game})  # slashed, even by the proof
    assert market.state(2) == SLASHED
    j = market.job(2)
    until = j["resultAt"] + j["challengePeriod"]
    assert not pool.canSettle(2)
    with brownie.reverts(typed_error("PoolApprovalContestable", 2, until)):  # it can still be challenged
        pool.settle(2, {"from": submitter})
    rnd.sleep_until(until)
    assert pool.canSettle(2)
    burned = staking.totalBurned()
    tx = pool.settle(2, {"from": submitter})
    assert tx.events["Settled"]["slashed"] == 0 and tx.events["Settled"]["paid"] == 0
    assert staking.lockedStake(v) == ETH and staking.freeStake(v) == ETH and staking.totalBurned() == burned
    assert pool.isMember(v)
    assert pool.credits(submitter) == FEE and pool.credits(v) == 0  # no fee for a job that did not finalize


def test_an_unapproved_job_returns_the_fee_and_frees_the_stake(pool, rnd, market, staking, submitter, solvers,
                                                              verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    rnd.sleep_until(market.job(2)["resultAt"] + market.job(2)["challengePeriod"] + 1)
    market.finalize(2, {"from": solvers[0]})
    pool.settle(2, {"from": submitter})
    assert pool.credits(submitter) == FEE and staking.lockedStake(v) == ETH  # its membership stake only


def test_approvals_close_halfway_through_the_challenge_period(pool, rnd, market, staking, submitter, solvers, verifiers,
                                                            chain):
    """An approval must leave time to contest what it opened: after resultAt + challengePeriod / 2 it is refused
    (an approval in the last second of the period could never be proven wrong)."""
    for v in verifiers:
        pool.register({"from": v})
    v = _drawn(pool, rnd, market, submitter, solvers, chain)
    j = market.job(2)
    closes = j["resultAt"] + j["challengePeriod"] // 2
    assert pool.approvalDeadline(2) == closes and pool.approvalDeadline(1) == 0
    rnd.sleep_until(closes)
    with brownie.reverts(typed_error("PoolApprovalClosed", 2, closes)):
        pool.approve(2, CORE.abi_tuple(), _openings(pool), {"from": v})
    assert staking.lockedStake(v) == ETH  # nothing locked for the lapsed assignment


def test_no_member_no_request_and_never_the_solver(pool, rnd, market, staking, submitter, solvers, chain):
    rnd.auction([ETH // 5])
    pool.fund(1, {"from": submitter, "value": FEE})
    rnd.train(solvers[0])
    with brownie.reverts(typed_error("PoolNoVerifier", 1)):
        pool.requestDraw(1, {"from": submitter})
    staking.deposit({"from": solvers[0], "value": ETH})
    pool.register({"from": solvers[0]})  # the solver itself is the only member: it cannot be drawn
    pool.requestDraw(1, {"from": submitter})
    chain.mine()
    tx = pool.draw(1, {"from": submitter})
    assert "Drawn" not in tx.events and tx.events["DrawMissed"]["tries"] == 16
    tx = pool.draw(1, {"from": submitter})  # the next call goes on with the next candidates, same seed
    assert tx.events["DrawMissed"]["tries"] == 32 and tx.events["DrawMissed"]["seed"] == pool.assignment(1)["seed"]
    a = pool.assignment(1)
    assert a["verifier"] == "0x" + "00" * 20 and a["locked"] == 0 and a["tries"] == 32
    chain.mine(300)  # the randomness block's hash is now out of reach: the seed the first draw read stays
    assert pool.draw(1, {"from": submitter}).events["DrawMissed"]["seed"] == a["seed"] != a["fallbackSeed"]


def test_an_agent_requests_once_draws_when_the_block_is_mined_and_backs_off_after_misses():
    a = twin.Assignment(ZERO, FEE, ZERO, 0, 0, 3, 0, False, False, b"\x01" * 32, b"\x00" * 32)
    assert twin.draw_action(a, 100) == "request"
    a = twin.Assignment(ZERO, FEE, ZERO, 0, 101, 3, 0, False, False, b"\x01" * 32, b"\x00" * 32)
    assert twin.draw_action(a, 101) is None and twin.draw_action(a, 102) == "draw"
    assert twin.draw_action(a, 101 + 257) == "draw"  # past 256 blocks it draws with the fallback: never re-requests
    missed = twin.Assignment(ZERO, FEE, ZERO, 0, 101, 3, 32, False, False, b"\x01" * 32, b"\x02" * 32)
    assert twin.draw_action(missed, 133) is None and twin.draw_action(missed, 134) == "draw"
    # a quiet devnet mines no block by itself: the agent mines up to the block the draw waits for, then draws
    assert twin.draw_action(a, 101, devnet=True) == "mine" and twin.draw_ready_block(a) == 102
    assert twin.draw_action(missed, 120, devnet=True) == "mine" and twin.draw_ready_block(missed) == 134
    assert twin.draw_action(a, 102, devnet=True) == "draw"


def test_samples_are_strictly_inside_their_window_and_match_the_python_twin(pool, rnd, market, submitter, solvers,
                                                                           verifiers, chain):
    for v in verifiers:
        pool.register({"from": v})
    _drawn(pool, rnd, market, submitter, solvers, chain)
    seed = bytes(pool.assignment(2)["seed"])
    for interval in range(2, 41):
        stride = commit.interior_stride(interval)
        for windows in (1, 4, 64):
            ws, js = pool.samples(2, windows, interval)
            got = list(zip(ws, js, strict=True))
            assert got == twin.sample_points(seed, windows, interval, SAMPLE_BPS)
            assert len(got) == twin.sample_count(windows, SAMPLE_BPS)
            for w, j in got:
                assert w < windows and j < commit.interior_count(interval)
                assert (j + 1) * stride < interval  # never the window's end state, whose checkpoint is published
    with brownie.reverts(typed_error("PoolUnsupportedInterval", 2, 1)):
        pool.samples(2, 4, 1)


def test_the_twin_reaches_every_inner_point_and_never_the_end():
    """No chain: over many seeds the twin opens every point strictly inside the window, and only those."""
    for interval in range(2, 41):
        stride = commit.interior_stride(interval)
        seen = set()
        for s in range(200):
            for _, j in twin.sample_points(s.to_bytes(32, "big"), 64, interval, SAMPLE_BPS):
                seen.add(j)
        last = (interval - 1) // stride  # points 0..last-1 have (j+1)·stride < interval
        assert seen == set(range(last)), interval
