"""Attacks on the verifier pool, each performed by the attacker who would make it, with the check that no honest
party lost a wei:

- a solver that loses on time to its own sock, or deliberately loses by the one-step proof, to take (or burn) the
  stake of the verifier that honestly approved it (real games on a devnet);
- a sock front-running the submitter's funding;
- socks filling the pool, and socks without stake diluting the draw;
- re-rolling the draw by waiting 256 blocks, or by joining after the seed is known;
- one registration backing many assignments.
"""

from __future__ import annotations

import brownie
import pytest
from brownie import web3
from eth_abi import encode
from eth_utils import keccak

from tests.adversarial.attacker import batch, call, deploy_attacker, socks, wallet
from tests.market.conftest import ETH, REVEAL_PENALTY_BPS, SLASH_REWARD_BPS, UNBONDING, Round, typed_error
from trainyard import merkle
from trainyard.deploy import Economics
from trainyard.dispute import scenario as sc
from trainyard.dispute.client import open_leaf, play, step_once
from trainyard.dispute.logic import Phase
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.errors import ContractError
from trainyard.jobs import JobState
from trainyard.pool import PoolClient
from trainyard.runtime import commit

FEE = ETH // 100
ZERO = "0x" + "00" * 20


# -- brownie fixtures: the market, a game that never ran, the pool ------------------------------------------------
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
def pool(VerifierPool, DisputeGame, one_step, market, staking, accounts):
    record = DisputeGame.deploy(market, one_step, ETH // 10, 3600, 5000, {"from": accounts[0]})
    p = VerifierPool.deploy(market, staking, record, ETH, SLASH_REWARD_BPS, 2500, {"from": accounts[0]})
    record.setVerifierPool(p, {"from": accounts[0]})
    staking.wire([market, p], {"from": accounts[0]})  # once, at deployment: no key is left over anyone's stake
    return p


@pytest.fixture(autouse=True)
def isolate(pool, fn_isolation):
    pass


@pytest.fixture
def rnd(market, staking, chain, accounts):
    return Round(market, staking, chain, accounts[1], accounts[2:6])


def _in_challenge(rnd, solver):
    """A job (the Round's) with its result in; returns its id."""
    rnd.auction([ETH // 5])
    rnd.train(solver)
    return rnd.job_id


def _first_eligible(pool, job, seed, solver):
    """The member `draw` picks with this seed (VerifierPool.draw's rule, read from the chain), or None. Every member
    here joined before the request, so the rule's `since < requestBlock` holds for all of them."""
    n = pool.assignment(job)["members"]
    for k in range(16):
        v, active = pool.memberAt(int.from_bytes(keccak(encode(["bytes32", "uint256"], [bytes(seed), k])), "big") % n)
        if v != solver and active:
            return v
    return None


def _member(staking, pool, who, stake=2 * ETH):
    """``who`` joins the draw: ``stake`` deposited, of which `verifierStake` (1 ETH) stays locked while a member; the
    default leaves as much free for one approval."""
    staking.deposit({"from": who, "value": stake})
    pool.register({"from": who})


# -- funding ------------------------------------------------------------------------------------------------------
def test_a_sock_front_running_the_submitters_funding_fails_and_the_submitter_funds(Attacker, pool, rnd, accounts):
    submitter, solver = accounts[1], accounts[2]
    rnd.post()
    job = rnd.job_id
    sock = socks(accounts, 1)[0]
    contract_sock = deploy_attacker(Attacker, solver, ETH)
    # both "arrive first": an account and a contract, each with 1 wei
    with brownie.reverts(typed_error("PoolNotSubmitter", job, str(sock), str(submitter))):
        pool.fund(job, {"from": sock, "value": 1})
    with brownie.reverts(typed_error("PoolNotSubmitter", job, str(contract_sock), str(submitter))):
        batch(contract_sock, solver, [call(pool, "fund", job, value=1)])
    assert wallet(contract_sock) == ETH
    pool.fund(job, {"from": submitter, "value": FEE})
    assert pool.assignment(job)["funder"] == submitter and pool.assignment(job)["fee"] == FEE
    assert wallet(pool) == FEE  # the submitter's whole fee, and nothing from the socks


# -- membership ---------------------------------------------------------------------------------------------------
def test_a_hundred_socks_do_not_stop_an_honest_verifier_from_joining_or_being_drawn(pool, staking, rnd, chain,
                                                                                   accounts):
    solver, honest = accounts[2], accounts[7]
    army = socks(accounts, 100, funds=ETH + ETH // 10)
    for s in army:
        _member(staking, pool, s, ETH)
    _member(staking, pool, honest)  # no cap to fill
    assert pool.memberCount() == 101 and pool.isMember(honest)
    # then every sock leaves (its membership stake freed), to make the draw land on entries that cannot be drawn
    for s in army:
        pool.deregister({"from": s})
        staking.requestWithdrawal(ETH, {"from": s})
    job = _in_challenge(rnd, solver)
    pool.fund(job, {"from": accounts[1], "value": FEE})
    pool.requestDraw(job, {"from": accounts[1]})
    chain.mine()
    drawn = None
    for _ in range(128):  # each call tries 16 more candidates of the same seed; the honest member is met in time
        tx = pool.draw(job, {"from": accounts[1]})
        if "Drawn" in tx.events:
            drawn = tx.events["Drawn"]["verifier"]
            break
    assert drawn == honest and staking.lockedStake(honest) == ETH  # its membership stake: the draw locks nothing
    assert all(staking.lockedStake(s) == 0 for s in army[:10])


def test_draws_lock_nothing_so_many_jobs_cannot_freeze_a_member(pool, staking, market, chain, accounts):
    """A member drawn for many jobs (an attacker posting tiny jobs and funding their draws, say) keeps its stake: the
    draw locks nothing, only the verifier's own approval does. It can leave and withdraw everything at once."""
    submitter, solver, v = accounts[1], accounts[2], accounts[7]
    _member(staking, pool, v)
    rounds = [Round(market, staking, chain, submitter, accounts[2:6]) for _ in range(3)]
    for r in rounds:
        r.post()
        r.bid(solver, ETH // 5)
    rounds[-1].to_reveal()
    for r in rounds:
        r.reveal(solver, 0, ETH // 5)
    rounds[-1].to_settlement()
    jobs = []
    for r in rounds:
        market.settleAuction(r.job_id, {"from": submitter})
        r.train(solver)
        pool.fund(r.job_id, {"from": submitter, "value": FEE})
        pool.requestDraw(r.job_id, {"from": submitter})
        jobs.append(r.job_id)
    chain.mine()
    for job in jobs:
        assert pool.draw(job, {"from": submitter}).events["Drawn"]["verifier"] == v
    assert staking.lockedStake(v) == ETH and staking.freeStake(v) == ETH and pool.pending(v) == 3
    pool.deregister({"from": v})  # drawn three times, it still leaves when it likes, with all its stake
    staking.requestWithdrawal(2 * ETH, {"from": v})
    assert staking.lockedStake(v) == 0 and staking.freeStake(v) == 0 and staking.unbonding(v)[0] == 2 * ETH


# -- randomness ---------------------------------------------------------------------------------------------------
def test_waiting_past_256_blocks_gives_no_new_roll(pool, staking, rnd, chain, accounts):
    solver = accounts[2]
    members = socks(accounts, 6, funds=2 * ETH)
    for m in members:
        _member(staking, pool, m)
    job = _in_challenge(rnd, solver)
    pool.fund(job, {"from": accounts[1], "value": FEE})
    tx = pool.requestDraw(job, {"from": accounts[1]})
    fallback = tx.events["DrawRequested"]["fallbackSeed"]
    chain.mine(300)  # the requested block's hash is out of reach
    with brownie.reverts(typed_error("PoolDrawRequested", job, tx.events["DrawRequested"]["randomnessBlock"])):
        pool.requestDraw(job, {"from": accounts[1]})  # no renewal
    want = _first_eligible(pool, job, fallback, solver)
    assert want is not None
    chain.mine(200)  # however much longer one waits, the draw reads the value fixed at the request
    d = pool.draw(job, {"from": accounts[1]}).events["Drawn"]
    assert str(d["seed"]) == str(fallback) and d["verifier"] == want


def test_joining_or_leaving_after_the_seed_is_known_does_not_change_the_draw(pool, staking, rnd, chain, accounts):
    solver = accounts[2]
    honest = socks(accounts, 4, funds=2 * ETH)
    army = socks(accounts, 4, funds=2 * ETH)
    for m in honest + army:
        _member(staking, pool, m)
    job = _in_challenge(rnd, solver)
    pool.fund(job, {"from": accounts[1], "value": FEE})
    pool.requestDraw(job, {"from": accounts[1]})
    chain.mine()  # the seed is now known to everyone
    # what the draw would give now, read from the chain without drawing (a snapshot here would replace the one the
    # test isolation reverts to)
    request = pool.assignment(job)["requestBlock"]
    fair = _first_eligible(
        pool, job, keccak(encode(["bytes32", "uint256"], [web3.eth.get_block(request)["hash"], job])), solver
    )
    late = socks(accounts, 8, funds=2 * ETH)
    for s in late:  # the attacker adds socks after the request ...
        _member(staking, pool, s)
    for s in army:  # ... and takes out the socks that were not drawn
        if str(s) != fair:
            pool.deregister({"from": s})
    got = pool.draw(job, {"from": accounts[1]}).events["Drawn"]["verifier"]
    assert got == fair  # entries never move, and those made after the request are never candidates


# -- the approver's stake, with real games (devnet, Python parties) -------------------------------------------------
WINDOWS, INTERVAL = 4, 4
CFG = sc.tiny_config(steps=WINDOWS * INTERVAL, interval=INTERVAL)
DATA = sc.tiny_dataset()


SGD_W0 = 11  # op of a step that writes l0.weight (sgd weight 0) in the 4-5-3 model


def nudge(name: str, pos: int = 1, by: int = 9000):
    def fn(live, start):
        t = live[name].clone()
        t.view(-1)[pos % t.numel()] += by
        live[name] = t

    return fn


def _approved_job(arena, solver: ExactOracle | None = None, before_approving=None):
    """A job whose solver commits the trace of ``solver`` (default: honest), funded by its submitter, drawn to the only
    member (challenger3), who approves with the digests of that trace: re-executed when it is honest, handed over by
    the solver when it is not (collusion), after ``before_approving(job)`` if given. Returns (core, job, sampled
    windows, pool client of the verifier)."""
    honest = solver or ExactOracle(CFG, DATA)
    core = sc.core_of(CFG, DATA)
    job = sc.award(arena, core, WINDOWS)
    sc.commit_trace(arena, job, honest, WINDOWS)
    verifier = PoolClient(arena.chains["challenger3"])
    if not verifier.registered():
        arena.market("challenger3").deposit(verifier.stake())  # its membership stake, locked while a member
        verifier.register()
    arena.market("challenger3").deposit(verifier.stake())  # what its approval locks
    funder = PoolClient(arena.chains["submitter"])
    funder.fund(job, FEE)
    funder.request_draw(job)
    arena.advance(1)
    arena.advance(1)  # the randomness block, then one more: its hash is readable
    funder.draw(job)
    assert verifier.assignment(job).verifier == arena.address("challenger3")
    trace = arena.client("challenger3").trace(job)
    openings = []
    samples = verifier.samples(job, WINDOWS, INTERVAL)
    for w, j in samples:
        digests = honest.interior_digests(w)  # re-executed
        openings.append((*open_leaf(trace, w), digests[j], merkle.proof(commit.interior_leaves(digests), j)))
    if before_approving is not None:
        before_approving(job)
    verifier.approve(job, core.abi_tuple(), openings)
    assert verifier.assignment(job).approved
    return core, job, {w for w, _ in samples}, verifier


def test_on_a_quiet_devnet_the_agent_mines_the_blocks_the_draw_waits_for(devnet, tmp_path):
    """The draw reads the hash of the block after its request; a local devnet mines no block unless someone sends a
    transaction, so verification used to stall there. On a devnet the agent's decision is to mine them."""
    arena = sc.arena(devnet.url, tmp_path)
    core = sc.core_of(CFG, DATA)
    job = sc.award(arena, core, WINDOWS)
    sc.commit_trace(arena, job, ExactOracle(CFG, DATA), WINDOWS)
    verifier = PoolClient(arena.chains["challenger3"])
    arena.market("challenger3").deposit(verifier.stake())
    verifier.register()
    funder = PoolClient(arena.chains["submitter"])
    funder.fund(job, FEE)
    funder.request_draw(job)
    a = funder.assignment(job)
    assert funder.devnet() and funder.draw_action(a) == "mine"  # nobody sends anything: no block would come
    assert funder.mine_until_draw(a) >= 1
    assert funder.draw_action(funder.assignment(job)) == "draw"
    funder.draw(job)
    assert funder.assignment(job).verifier == arena.address("challenger3")


def _burned(arena) -> int:
    m = arena.market("deployer")
    return int(m.chain.call(m.staking.functions.totalBurned()))


def _proven(arena, job):
    c = arena.client("deployer")
    return tuple(c.chain.call(c.game_contract.functions.provenWrong(job)))


def _after_the_challenge_period(arena, job):
    """An approval is settled once it can no longer be challenged: move the clock past the challenge period."""
    j = arena.market("submitter").job(job)
    left = j.result_at + j.challenge_period - arena.now()
    if left >= 0:
        arena.advance(left + 1)


def _settle_and_check(arena, job, verifier, cut: bool):
    _after_the_challenge_period(arena, job)
    burned_before = _burned(arena)
    credits_before = {r: arena.market(r).stake_info().credits for r in sc.ROLES}
    PoolClient(arena.chains["submitter"]).settle(job)
    assert {r: arena.market(r).stake_info().credits for r in sc.ROLES} == credits_before  # the cut credits nobody
    info = arena.market("challenger3").stake_info()
    stake = verifier.stake()
    a = verifier.assignment(job)
    assert a.settled and a.locked == stake
    if cut:  # the approval's stake burned; expelled, its membership stake is freed
        assert (info.free, info.locked) == (stake, 0) and _burned(arena) == burned_before + stake
    else:  # the approval's stake freed; still a member, its membership stake stays locked
        assert (info.free, info.locked) == (stake, stake) and _burned(arena) == burned_before  # not a wei lost
    assert verifier.credit() == 0  # no fee: the job did not finalize
    assert PoolClient(arena.chains["submitter"]).credit() == FEE  # the fee goes back to who paid it
    # the pool credits nobody else, and the slash of the approver rewards nobody in Staking
    assert PoolClient(arena.chains["solver"]).credit() == 0 and PoolClient(arena.chains["challenger2"]).credit() == 0


def test_a_solver_losing_on_time_to_its_sock_costs_the_approver_nothing(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    core, job, opened, verifier = _approved_job(arena)
    window = min(opened)  # even in a window the approval opened: a loss on time proves nothing
    sock = arena.client("challenger2")
    gid = sock.challenge(job, core, window)
    arena.advance(Economics().clock_budget + 1)  # the solver never moves
    assert step_once(sock, "challenger", ExactOracle(CFG, DATA), gid, core) is not None  # the sock calls timeout
    assert arena.client("deployer").view(gid).phase is Phase.CHALLENGER_WON
    assert arena.market("submitter").job(job).state is JobState.SLASHED and _proven(arena, job) == (False, 0)
    _settle_and_check(arena, job, verifier, cut=False)
    assert PoolClient(arena.chains["challenger3"]).registered()  # still a member


def _lose_by_proof(arena, core, job, window):
    """The solver plays a game its sock opened on ``window`` from a computation it did not commit (a wrong state in
    the middle of the window) and loses it by the one-step proof."""
    sabotage = ExactOracle(CFG, DATA, (Tamper(window * INTERVAL + 1, SGD_W0, nudge("l0.weight")),))
    gid = arena.client("challenger2").challenge(job, core, window)
    end = play([(arena.client("solver"), "solver", sabotage), (arena.client("challenger2"), "challenger",
                                                                 ExactOracle(CFG, DATA))], gid, core)
    assert end.phase is Phase.CHALLENGER_WON and _proven(arena, job) == (True, window)


def test_a_proof_loss_in_a_window_the_approval_did_not_open_costs_the_approver_nothing(devnet, tmp_path):
    arena = sc.arena(devnet.url, tmp_path)
    core, job, opened, verifier = _approved_job(arena)
    _lose_by_proof(arena, core, job, next(w for w in range(WINDOWS) if w not in opened))
    _settle_and_check(arena, job, verifier, cut=False)
    assert PoolClient(arena.chains["challenger3"]).registered()


def test_a_deliberate_proof_loss_in_an_opened_window_costs_the_honest_approver_nothing(devnet, tmp_path):
    """The attack docs/disputes.md used to state as open: a solver that deliberately loses by the proof (a wrong
    intermediate root in its sock's game) in a window the approval opened burned the approver's stake. The
    solver's games never decide the approver's stake now; only a game against the approval itself does, which the
    approver defends with its own re-execution (next test)."""
    arena = sc.arena(devnet.url, tmp_path)
    core, job, opened, verifier = _approved_job(arena)
    _lose_by_proof(arena, core, job, min(opened))
    assert not arena.client("deployer").approver_lost(job)
    _settle_and_check(arena, job, verifier, cut=False)
    assert PoolClient(arena.chains["challenger3"]).registered()


@pytest.mark.parametrize("sock_plays", [False, True], ids=["sock-silent", "sock-plays-a-wrong-computation"])
def test_a_sock_challenging_an_honest_approval_loses_its_bond_to_the_approvers_defence(devnet, tmp_path,
                                                                                       sock_plays):
    """The solver's sock opens a game against the honest approval on a window it opened. The approver defends the
    window with its own re-execution, which is right: the sock loses (by the proof when it plays a wrong
    computation, on time when it does not), the approver is paid bondRewardBps of the bond and keeps its stake."""
    arena = sc.arena(devnet.url, tmp_path)
    core, job, opened, verifier = _approved_job(arena)
    w = min(opened)
    sock = arena.client("challenger2")
    approver = arena.client("challenger3")
    before = approver.credit()
    gid = sock.challenge_approval(job, core, w)
    honest = ExactOracle(CFG, DATA)
    if sock_plays:
        wrong = ExactOracle(CFG, DATA, (Tamper(w * INTERVAL + 1, SGD_W0, nudge("l0.weight")),))
        end = play([(approver, "solver", honest), (sock, "challenger", wrong)], gid, core)
    else:
        assert step_once(approver, "solver", honest, gid, core) is not None  # the approver's first roots
        arena.advance(Economics().clock_budget + 1)
        assert step_once(approver, "solver", honest, gid, core) is not None  # timeout: the sock never picked
        end = arena.client("deployer").view(gid)
    assert end.phase is Phase.SOLVER_WON and not arena.client("deployer").approver_lost(job)
    assert approver.credit() - before == Economics().challenge_bond * Economics().bond_reward_bps // 10_000
    _after_the_challenge_period(arena, job)
    arena.market("solver").finalize(job)
    PoolClient(arena.chains["submitter"]).settle(job)
    info = arena.market("challenger3").stake_info()
    assert (info.free, info.locked) == (verifier.stake(), verifier.stake())  # approval stake freed, still a member
    assert verifier.credit() == FEE  # and the job finalized: the fee is earned


def test_games_against_an_approval_follow_its_rules(devnet, tmp_path):
    """Only a window the approval opened, never by the approver itself, only until the challenge period ends; and the
    approval is settled only once nobody can challenge it and no game against it is live."""
    arena = sc.arena(devnet.url, tmp_path)
    core, job, opened, _verifier = _approved_job(arena)
    other = next((w for w in range(WINDOWS) if w not in opened), None)
    sock = arena.client("challenger2")
    if other is not None:
        with pytest.raises(ContractError, match="GameNotApproved"):
            sock.challenge_approval(job, core, other)
    with pytest.raises(ContractError, match="GameChallengerIsDefender"):
        arena.client("challenger3").challenge_approval(job, core, min(opened))
    gid = sock.challenge_approval(job, core, min(opened))
    _after_the_challenge_period(arena, job)
    with pytest.raises(ContractError, match="GameApprovalChallengeClosed"):
        sock.challenge_approval(job, core, min(opened))
    arena.market("solver").finalize(job)
    assert not PoolClient(arena.chains["submitter"]).can_settle(job)  # a game against the approval is live
    with pytest.raises(ContractError, match="PoolApprovalContestable"):
        PoolClient(arena.chains["submitter"]).settle(job)
    wrong = ExactOracle(CFG, DATA, (Tamper(min(opened) * INTERVAL + 1, SGD_W0, nudge("l0.weight")),))
    end = play([(arena.client("challenger3"), "solver", ExactOracle(CFG, DATA)), (sock, "challenger", wrong)], gid,
               core)
    assert end.phase is Phase.SOLVER_WON
    assert PoolClient(arena.chains["submitter"]).can_settle(job)
    PoolClient(arena.chains["submitter"]).settle(job)


def test_a_colluding_approver_is_burned_when_a_whistleblower_proves_an_opened_window_wrong(devnet, tmp_path):
    """The rule's purpose: the solver's digests let a verifier approve without re-executing; an honest challenger's
    proof in a window that approval opened burns its stake, and the challenger is paid from the solver's stake only."""
    arena = sc.arena(devnet.url, tmp_path)
    tampers = tuple(Tamper(w * INTERVAL + 1, SGD_W0, nudge("l0.weight")) for w in range(WINDOWS))
    cheat = ExactOracle(CFG, DATA, tampers)  # wrong in every window, so whichever the draw samples
    core, job, opened, verifier = _approved_job(arena, cheat)
    w = min(opened)
    before = arena.client("challenger").credit()
    whistle = arena.client("challenger")
    gid = whistle.challenge(job, core, w)
    aid = whistle.challenge_approval(job, core, w)  # the approver vouched for this window: it must defend it
    agreed_start = ExactOracle(CFG, DATA, tampers[:w])  # from the solver's checkpoint of window w - 1
    end = play([(arena.client("solver"), "solver", cheat), (whistle, "challenger", agreed_start)], gid, core)
    assert end.phase is Phase.CHALLENGER_WON and _proven(arena, job) == (True, w)
    end = play([(arena.client("challenger3"), "solver", cheat), (whistle, "challenger", agreed_start)], aid, core)
    assert end.phase is Phase.CHALLENGER_WON and arena.client("deployer").approver_lost(job)
    _settle_and_check(arena, job, verifier, cut=True)
    # its two bonds back and the solver's slash reward (the only game against the solver), nothing from the approver
    assert whistle.credit() - before == 2 * Economics().challenge_bond + sc.Terms().stake // 2
    assert not PoolClient(arena.chains["challenger3"]).registered()
