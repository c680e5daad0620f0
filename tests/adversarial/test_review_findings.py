"""Findings of an independent security review of the contracts after the adversary fixes.

Each test performs an attack and asserts the property it would break; the docstring gives the attack, its cost and
its effect. Where a fix landed the test passes. Where it has not, the test is marked `xfail(strict=True)` with the
reason: it runs in every `make test`, must keep failing while the attack works, and turns red (XPASS) the day a fix
makes it pass, so that the mark is removed with the fix. docs/security.md lists the open ones.
"""

from __future__ import annotations

import brownie
import pytest
from brownie import web3
from eth_abi import encode
from eth_utils import keccak

from tests.adversarial.attacker import socks
from tests.adversarial.test_attacks_pool import (  # noqa: F401  (module fixtures re-used: market, pool, staking)
    CFG,
    DATA,
    FEE,
    INTERVAL,
    SGD_W0,
    WINDOWS,
    _after_the_challenge_period,
    _approved_job,
    _burned,
    _in_challenge,
    _member,
    _proven,
    isolate,
    market,
    nudge,
    one_step,
    pool,
    rnd,
    staking,
)
from tests.market.conftest import CORE, ETH, UNBONDING, commitment, salt, typed_error
from trainyard.deploy import Economics
from trainyard.dispute import scenario as sc
from trainyard.dispute.client import play, step_once
from trainyard.dispute.logic import Phase, Timeout
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.errors import ContractError
from trainyard.jobs import JobState
from trainyard.pool import PoolClient


# ----------------------------------------------------------------------------------------------------------------
# Finding 1: a caught cheater forfeits on time, and the approver that colluded with it was never cut
# ----------------------------------------------------------------------------------------------------------------
def _colluding_approval(arena, cheat: ExactOracle, before_approving=None):
    """Job traced by ``cheat``; the only pool member (challenger3) is drawn and approves with the digests the solver
    hands it (no re-execution), after ``before_approving(job)`` if given."""
    return _approved_job(arena, cheat, before_approving)


@pytest.mark.parametrize("approver_answers", [False, True], ids=["approver-silent", "approver-defends-the-cheat"])
def test_a_caught_cheater_forfeiting_on_time_no_longer_shields_its_colluding_approver(devnet, tmp_path,
                                                                                      approver_answers):
    """ATTACK (as reviewed): the solver trains wrongly in every window and hands its interior digests to a colluding
    pool verifier, which approves without re-executing. An honest whistleblower opens a game on a window the approval
    opened. The solver, knowing it will lose, never moves: it is slashed "on time", so `provenWrong(job)` stayed
    (False, 0), and the pool, which cut an approver only for a loss by the proof, unlocked the approver's stake in
    full. The solver chose *how* it lost, and with it whether its approver paid.

    FIX: an approver's stake depends only on games against its own approval (`challengeApproval`), which anyone may
    open on a window the approval opened until the challenge period ends, whatever became of the job. The approver
    defends the window itself, with its own re-execution, as a solver would. The whistleblower opens one beside its
    game against the solver; the solver forfeits as before, but a colluding approver cannot defend a wrong window:
    silent, it loses on time; answering with the solver's digests, it loses by the proof. `settle` burns its
    approval stake and expels it."""
    arena = sc.arena(devnet.url, tmp_path)
    tampers = tuple(Tamper(w * INTERVAL + 1, SGD_W0, nudge("l0.weight")) for w in range(WINDOWS))
    cheat = ExactOracle(CFG, DATA, tampers)
    core, job, opened, verifier = _colluding_approval(arena, cheat)
    w = min(opened)
    whistle = arena.client("challenger")
    gid = whistle.challenge(job, core, w)
    aid = whistle.challenge_approval(job, core, w)  # the same window, against the approval
    agreed_start = ExactOracle(CFG, DATA, tampers[:w])
    if approver_answers:  # the approver defends with the solver's computation: the proof goes against it
        end = play([(arena.client("challenger3"), "solver", cheat), (whistle, "challenger", agreed_start)], aid, core)
        assert end.phase is Phase.CHALLENGER_WON
    arena.advance(Economics().clock_budget + 1)  # the caught solver never answers (nor, if silent, its approver)
    for g in (gid, aid):
        if not arena.client("deployer").view(g).phase.over:
            assert step_once(whistle, "challenger", agreed_start, g, core) is not None  # timeout
        assert arena.client("deployer").view(g).phase is Phase.CHALLENGER_WON
    assert arena.market("submitter").job(job).state is JobState.SLASHED
    assert _proven(arena, job) == (False, 0)  # the solver's game was lost on time, as in the attack
    assert arena.client("deployer").approver_lost(job)
    stake = verifier.stake()
    burned = _burned(arena)
    PoolClient(arena.chains["submitter"]).settle(job)
    info = arena.market("challenger3").stake_info()
    # the approval's stake is burned; expelled, its membership stake is freed
    assert (info.free, info.locked) == (stake, 0) and _burned(arena) == burned + stake, (
        f"colluding approver kept its stake: free={info.free} locked={info.locked} (stake {stake})")
    assert not verifier.registered() and verifier.credit() == 0


# ----------------------------------------------------------------------------------------------------------------
# Finding 2: dormant sock entries woken up after the seed is known steal the pool draw
# ----------------------------------------------------------------------------------------------------------------
def _candidate(seed: bytes, k: int, n: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "uint256"], [seed, k])), "big") % n


def test_a_dormant_sock_that_rejoins_after_the_seed_is_known_is_not_drawn(pool, staking, rnd, chain, accounts):
    """ATTACK (as reviewed): the attacker registers many sock entries once, then makes them dormant (members the draw
    skips), and when a draw's seed is public wakes up the sock that the seed lists before the first honest candidate,
    in front of the keeper's `draw`. Reviewed against eligibility read at the draw (free stake >= verifierStake), the
    sock woke up by depositing its stake back, and was drawn.

    FIX: membership locks `verifierStake` (a member cannot move it to unbonding, so "dormant by withdrawing" is gone),
    and a member can be drawn only if it has been active since before the draw's randomness block. The only way left
    to be dormant is to leave the draw (deregister); a sock that rejoins once the seed is known is active *after* the
    request and is skipped, so the draw picks the member it would have picked at the request. The attack below is run
    on the draws where a sock precedes the first honest candidate, and fails."""
    solver = accounts[2]
    honest = socks(accounts, 2, funds=3 * ETH)
    army = socks(accounts, 14, funds=3 * ETH)
    for m in honest + army:
        _member(staking, pool, m)
    with brownie.reverts(typed_error("StakingInsufficientFreeStake", army[0], ETH, 2 * ETH)):
        staking.requestWithdrawal(2 * ETH, {"from": army[0]})  # the membership stake is held, not withdrawable
    for s in army:  # dormant: entries in the list, out of the draw
        pool.deregister({"from": s})
    members = [str(pool.memberAt(i)[0]) for i in range(pool.memberCount())]
    army_set = {str(s) for s in army}
    # the attacker acts on a job whose seed lists a sock before the first honest candidate: a new job per attempt
    # (reverting the chain to retry would leave brownie waiting for a transaction the revert removed)
    for _attempt in range(8):
        job = _in_challenge(rnd, solver)
        pool.fund(job, {"from": accounts[1], "value": FEE})
        tx = pool.requestDraw(job, {"from": accounts[1]})
        block = tx.events["DrawRequested"]["randomnessBlock"]
        chain.mine(2)  # the randomness block is mined: its hash (the seed) is public
        seed = keccak(encode(["bytes32", "uint256"], [bytes(web3.eth.get_block(block)["hash"]), job]))
        n = len(members)
        order = [members[_candidate(seed, k, n)] for k in range(16)]
        first_honest = next(i for i, v in enumerate(order) if v not in army_set)
        target = next((v for v in order[:first_honest]), None)
        if target is not None:
            break
    assert target is not None
    fair = order[first_honest]  # what `draw` picks with the members as they were at the request (all socks out)
    assert fair not in army_set
    pool.register({"from": target})  # the sock the seed lists first rejoins, in front of the keeper's draw
    assert pool.isMember(target)
    got = pool.draw(job, {"from": accounts[1]}).events["Drawn"]["verifier"]
    assert got == fair, f"the draw was steered after the seed was known: {got} (a sock) instead of {fair}"


# ----------------------------------------------------------------------------------------------------------------
# Finding 3: the deployer keeps a key over all deposits until it calls `wire`
# ----------------------------------------------------------------------------------------------------------------
def test_a_deployer_that_wires_late_cannot_take_a_deposit(Staking, accounts):
    """ATTACK: `Staking` accepts deposits before `wire` has been called, and `wire` lets the deployer name *any*
    address, including its own EOA, as a locker. A locker may `lock` any account's free stake and then `slash` it
    with itself as beneficiary and reward = amount. A deployer that has not wired yet (or a deployment script that
    wires in a later transaction, front-run by deposits) lists its EOA and takes every deposit.

    COST: two transactions. EFFECT: the whole free stake of every depositor is credited to the deployer, contrary to
    "No admin key moves stake ... the deployer wires its lockers once, then nobody can" (docs/security.md): until the
    wiring the deployer is such a key, and nothing on chain lets a depositor see that the lockers are contracts."""
    deployer, victim = accounts[0], accounts[3]
    s = Staking.deploy(UNBONDING, {"from": deployer})
    # FIX: no deposit before the lockers are wired, so every depositor can read them first (isLocker)
    with brownie.reverts(typed_error("StakingNotWired")):
        s.deposit({"from": victim, "value": ETH})
    s.wire([deployer], {"from": deployer})  # a deployer that names itself does so in the open, before any deposit
    assert s.isLocker(deployer) and s.freeStake(victim) == 0


# ----------------------------------------------------------------------------------------------------------------
# Finding 4: a submitter traps honest solver agents with a job they cannot finish in time
# ----------------------------------------------------------------------------------------------------------------
def test_a_submitter_cannot_post_a_one_second_train_period_to_take_the_honest_winners_stake(market, staking, rnd,
                                                                                             chain, accounts):
    """ATTACK (as reviewed): `postJob` accepted any non-zero period, so the submitter posted an attractive job (a high
    `maxPrice`) with `trainPeriod = 1` second. The honest solver agent bid and won; training cannot be done in one
    second, so at `trainDeadline + 1` the submitter called `timeoutTraining` and was credited `slashRewardBps` of the
    honest winner's stake (0.5 ETH per 1 ETH of stake), its escrow back whole. (With `revealPeriod = 1` instead, every
    honest bidder missed the reveal.)

    FIX: every period is bounded on chain to [10 minutes, 30 days] (`MIN_PERIOD`, `MAX_PERIOD`), and the honest agent
    also refuses periods it cannot meet (next test). The attack's post is refused; a job at the shortest allowed
    training period gives the honest winner ten minutes, which the agent checks against its own speed."""
    submitter = accounts[1]
    for params in ((ETH, 4, 600, 600, 1, 600), (ETH, 4, 600, 1, 3600, 600), (ETH, 4, 600, 600, 599, 600)):
        with brownie.reverts(typed_error("JobMarketInvalidParams", "period")):
            market.postJob(CORE, "bafkspec", params, {"from": submitter, "value": ETH // 2})
    assert market.MIN_PERIOD() == 600 and market.MAX_PERIOD() == 30 * 24 * 3600
    rnd.post(max_price=ETH // 2, params=(ETH, 4, 600, 600, 600, 600))  # the shortest allowed is accepted


def test_the_honest_solver_agent_refuses_periods_it_cannot_meet():
    """The agent side of finding 4: `next_actions` bids on a job whose training period is one second (and on one
    whose reveal period is one second), so the honest solver walks into the trap above by itself; it also bids on
    jobs whose bidding or challenge period is a century, which lock its stake (and, for the winner, its payment)
    for that long (finding 9 for solvers). The protective property: an honest agent does not bid on a job whose
    periods it cannot meet or would not accept."""
    from tests.solver.test_logic import POLICY, job, view
    from trainyard.solver.logic import CommitBid, next_actions

    one_second_training = job(bid_deadline=1000, reveal_deadline=1600, train_deadline=1601)
    one_second_reveal = job(bid_deadline=1000, reveal_deadline=1001, train_deadline=90_000)
    # and periods that lock its stake (and payment) for a century: bidding, or the challenge period after its result
    century = 100 * 365 * 24 * 3600
    century_bidding = job(bid_deadline=century, reveal_deadline=century + 600, train_deadline=century + 90_000)
    century_challenge = job(challenge_period=century)
    for j in (one_second_training, one_second_reveal, century_bidding, century_challenge):
        actions = next_actions(view(j, inspected={1: None}), POLICY)
        assert CommitBid(1, POLICY.price) not in actions, f"the honest agent bids on {j}"



# ----------------------------------------------------------------------------------------------------------------
# Finding 5: an approval made in the last block of the challenge period can never be contested
# ----------------------------------------------------------------------------------------------------------------
def test_an_approval_in_the_last_second_of_the_challenge_period_is_refused(devnet, tmp_path):
    """ATTACK (as reviewed): the drawn verifier does not re-execute anything (here it approves a solver that is wrong in
    every window, with the digests the solver hands it). It waits, watching the job: if a whistleblower opens a game
    on one of its sampled windows it never approves; otherwise it sends `approve` in the last second of the
    challenge period, after which `openDispute` refuses every game, so nobody can prove a window it opened wrong, and
    it collects the fee with zero risk to its stake.

    FIX: approvals close halfway through the challenge period (`approvalDeadline`): every approval leaves at least
    half the period for anyone to contest the windows it opened. The last-second approval is refused, the verifier
    is paid nothing and keeps nothing locked; an approval just before the deadline is accepted."""
    arena = sc.arena(devnet.url, tmp_path)
    tampers = tuple(Tamper(w * INTERVAL + 1, SGD_W0, nudge("l0.weight")) for w in range(WINDOWS))
    cheat = ExactOracle(CFG, DATA, tampers)
    w3 = arena.chains["deployer"].w3

    def wait_for(offset):
        def before_approving(job):  # a block mined at that time: the approval comes right after it
            j = arena.market("submitter").job(job)
            w3.provider.make_request("evm_mine", [j.result_at + offset(j.challenge_period)])
        return before_approving

    with pytest.raises(ContractError, match="PoolApprovalClosed"):
        _colluding_approval(arena, cheat, wait_for(lambda period: period - 2))  # in the last second
    with pytest.raises(ContractError, match="PoolApprovalClosed"):
        _colluding_approval(arena, cheat, wait_for(lambda period: period // 2))  # from when approvals close
    # (each call above is a new job; the verifier was drawn, and nothing of it stays locked beyond its membership)
    verifier = PoolClient(arena.chains["challenger3"])
    info = arena.market("challenger3").stake_info()
    assert info.locked == verifier.stake() and verifier.credit() == 0
    _core, job, _opened, verifier = _colluding_approval(arena, cheat, wait_for(lambda period: period // 2 - 30))
    j = arena.market("submitter").job(job)
    assert verifier.approval_deadline(job) == j.result_at + j.challenge_period // 2
    assert j.result_at + j.challenge_period - arena.now() >= j.challenge_period // 2  # half the period left to contest


# ----------------------------------------------------------------------------------------------------------------
# Finding 6: the submitter's sock reveals last and undercuts the honest winner's second price
# ----------------------------------------------------------------------------------------------------------------
def test_a_submitters_sock_revealing_last_pays_more_than_it_cuts_from_the_price(market, staking, rnd, chain, accounts):
    """ATTACK: reveals are public as they are mined. The submitter's sock commits a ladder of sealed bids (0.15, 0.25,
    0.35 ETH); honest bidders A (0.1 ETH) and B (0.4 ETH) reveal as the honest agent does, as soon as the reveal
    period opens. At the end of the reveal period the sock reveals only the rung just above the best honest price
    (0.15) and leaves the others unrevealed: the honest winner A is paid 0.15 ETH instead of B's 0.4 ETH. Reviewed
    when an unrevealed bid paid only the reveal penalty (half of it back to the submitter), the attack netted the
    submitter +0.15 ETH.

    FIX: a bid left unrevealed forfeits its whole stake, burned (no share to the submitter or the winner, who may be
    the bidder's own accounts), and a job's `stakePerBid` is at least its `maxPrice`. A kept-back rung can move the
    price by at most maxPrice, so it always costs more than it can buy; revealing every rung instead is just a
    sealed bid by a shill, which the second-price rule already prices (the sock then may win and must train). The
    attack still cuts the price, and the coalition of submitter and sock ends poorer than if it had not attacked."""
    submitter, a, b = accounts[1], accounts[2], accounts[3]
    sock = socks(accounts, 1, funds=5 * ETH)[0]
    rnd.post(max_price=ETH // 2)
    job = rnd.job_id
    stake = market.job(job)["stakePerBid"]
    assert stake >= ETH // 2
    rnd.bid(a, ETH // 10, 0)  # index 0
    rnd.bid(b, 4 * ETH // 10, 1)  # index 1
    staking.deposit({"from": sock, "value": 3 * ETH})
    ladder = [15 * ETH // 100, 25 * ETH // 100, 35 * ETH // 100]
    for k, p in enumerate(ladder):
        market.commitBid(job, commitment(job, sock, p, salt(10 + k)), {"from": sock})  # indices 2, 3, 4
    rnd.to_reveal()
    rnd.reveal(a, 0, ETH // 10, 0)
    rnd.reveal(b, 1, 4 * ETH // 10, 1)
    best_honest = min(market.bid(job, i)["price"] for i in (0, 1))  # what the sock reads from the reveals
    k = next(i for i, p in enumerate(ladder) if p > best_honest)
    market.revealBid(job, 2 + k, ladder[k], salt(10 + k), {"from": sock})  # the last reveal
    rnd.to_settlement()
    coalition = (submitter, sock)

    def worth():
        return sum(staking.freeStake(x) + staking.lockedStake(x) + staking.credits(x) + market.credits(x)
                   for x in coalition)

    before = worth()
    market.settleAuction(job, {"from": submitter})
    for i in range(5):
        if i != 0:  # the winner's bid is released when the job ends
            market.releaseBid(job, i, {"from": submitter})
    info = market.job(job)
    assert info["winner"] == a and info["price"] == ladder[k]  # the cut happened ...
    cut_from_price = 4 * ETH // 10 - info["price"]
    # against the fair outcome (no sock: the escrow above B's sealed price refunded to the submitter, the sock's
    # stake untouched), what the coalition of submitter and sock gained by the attack
    gain = (worth() - before) - (ETH // 2 - 4 * ETH // 10)
    # the cut happened, and it cost the stakes of the two rungs kept back: more than the cut
    assert staking.freeStake(sock) + staking.lockedStake(sock) == 3 * ETH - 2 * stake
    assert gain == cut_from_price - 2 * stake < 0, f"the submitter's sock gained {gain} wei by revealing last"


# ----------------------------------------------------------------------------------------------------------------
# Finding 7: a verifier removed for approving a window proven wrong re-registers at once
# ----------------------------------------------------------------------------------------------------------------
def test_a_cut_verifier_cannot_rejoin_the_draw(devnet, tmp_path):
    """ATTACK: `settle` deactivates an approver whose opened window was proven wrong ("leaves the draw"), but
    `register` only checks free stake: the same address deposits `verifierStake` again and calls `register`, which
    reactivates its old entry at once.

    COST: a fresh `verifierStake` deposit (which any new sock needs anyway). EFFECT: the ejection is cosmetic: a
    verifier caught approving a wrong result is drawn again as before (same entry, same odds); nothing records it."""
    arena = sc.arena(devnet.url, tmp_path)
    tampers = tuple(Tamper(w * INTERVAL + 1, SGD_W0, nudge("l0.weight")) for w in range(WINDOWS))
    cheat = ExactOracle(CFG, DATA, tampers)
    core, job, opened, verifier = _approved_job(arena, cheat)
    w = min(opened)
    whistle = arena.client("challenger")
    aid = whistle.challenge_approval(job, core, w)  # the approver must defend the window it vouched for
    end = play([(arena.client("challenger3"), "solver", cheat),
                (whistle, "challenger", ExactOracle(CFG, DATA, tampers[:w]))], aid, core)
    assert end.phase is Phase.CHALLENGER_WON and arena.client("deployer").approver_lost(job)
    _after_the_challenge_period(arena, job)
    arena.market("solver").finalize(job)  # nobody disputed the solver here: only its approver answers for the window
    PoolClient(arena.chains["submitter"]).settle(job)
    assert verifier.credit() == 0  # no fee for an approval lost in a game
    assert not verifier.registered()  # cut and removed ...
    arena.market("challenger3").deposit(verifier.stake())
    with pytest.raises(ContractError, match="PoolExpelled"):  # FIX: expelled for good
        verifier.register()
    assert not verifier.registered()


# ----------------------------------------------------------------------------------------------------------------
# Finding 8: a solver that will miss its deadline routes its slash reward to a sock by losing early, on time
# ----------------------------------------------------------------------------------------------------------------
def test_a_solver_that_will_be_late_cannot_route_the_slash_reward_to_its_sock(devnet, tmp_path):
    """ATTACK: a solver (an Attacker contract) wins a job it never means to train (to grief the submitter, or it
    cannot). It commits one leaf (needed to open a game), and more than `clockBudget` before its training deadline its
    sock opens a game; the solver never moves, and the sock calls `timeout` *before* `trainDeadline`. The job is
    slashed through the game, so the slash reward R goes to the game's pot, i.e. to the sock, and not to the
    submitter as `timeoutTraining` would give it. The existing test
    (test_a_late_solver_losing_a_game_against_its_sock_leaves_the_submitter_compensated) only opens the sock game half a
    clock before the deadline, where `timeoutTraining` comes first.

    COST: one bond (returned with the reward) and one trace commit. EFFECT: the submitter only gets its escrow back,
    not the reward R = slashRewardBps · stake (0.5 ETH here) that compensates it for the lost training period, and
    the solver's net loss falls from the whole stake to (1 − slashRewardBps) · stake: griefing submitters by winning
    and not training costs half.

    FIX: a solver that loses a game *on time before it has a result* is a late solver, whoever opened the game:
    `resolveDispute` credits R to the submitter, as `timeoutTraining` would, and the game pays its challenger its
    bond only. Only a loss by the one-step proof (a cheat shown) pays the game's challengers."""
    from tests.adversarial import test_attacks_games as g

    terms = sc.Terms(train_period=3 * 24 * 3600)
    arena = sc.arena(devnet.url, tmp_path)
    job, solver = g.contract_solver_wins(arena, terms)
    solver.batch([g.call(g.commit_fn(arena, job, g.cheat_in(0), 0))])
    (sock,) = g.socks(arena, 1)
    submitter = arena.address("submitter")
    start = g.worth(arena, submitter)
    deadline = arena.market("submitter").job(job).train_deadline
    gid = g.DisputeClient(sock).challenge(job, g.CORE, 0)  # long before the deadline
    arena.advance(g.ECON.clock_budget + 1)
    assert arena.now() < deadline
    g.DisputeClient(sock).send(gid, Timeout(), g.CORE)  # the solver "loses" on time, before its deadline
    assert arena.client("deployer").view(gid).phase is Phase.CHALLENGER_WON
    assert arena.market("submitter").job(job).state is JobState.SLASHED
    sock_gain = g.DisputeClient(arena.chains["deployer"]).credit(sock.address) - g.BOND
    assert sock_gain == 0, f"the sock gained {sock_gain} wei of the solver's slash"
    assert g.worth(arena, submitter) == start + terms.price + g.REWARD, (
        f"the submitter got {g.worth(arena, submitter) - start} (its price back, no slash reward); the sock got "
        f"{sock_gain} of the solver's slash")


# ----------------------------------------------------------------------------------------------------------------
# Finding 9: a 1-wei job with a century-long challenge period freezes an honest verifier's stake
# ----------------------------------------------------------------------------------------------------------------
def test_a_tiny_job_with_a_huge_challenge_period_cannot_freeze_an_honest_verifiers_stake(pool, staking, market, rnd,
                                                                                       chain, accounts):
    """ATTACK (as reviewed): `postJob` bounded no period from above and accepted a 1-wei escrow and stake. The attacker
    posted such a job with `challengePeriod = 2^32 - 1` seconds (136 years), won it with a sock, committed a trace and
    requested the pool's draw: `draw` locked `verifierStake` of whichever honest member it picked, until `settle`,
    which needs the job Finalized: 136 years. Repeated per member, every honest verifier's stake was frozen for
    3 wei per job.

    FIX: periods are at most 30 days (`MAX_PERIOD`), and a draw locks nothing: only the verifier's own `approve`
    locks stake, for a job it chose to approve. Below, the 136-year post is refused; on the longest job allowed the
    drawn honest member keeps its stake free, leaves the draw and withdraws it all after the unbonding delay, while
    the job is still in its challenge period."""
    submitter, sock_solver, honest = accounts[1], accounts[2], accounts[7]
    _member(staking, pool, honest)
    with brownie.reverts(typed_error("JobMarketInvalidParams", "period")):
        rnd.post(max_price=1, params=(1, 4, 600, 600, 3600, 2**32 - 1))
    rnd.post(max_price=1, params=(1, 4, 600, 600, 3600, 30 * 24 * 3600))  # the longest challenge period allowed
    rnd.bid(sock_solver, 1, 0, stake=1)
    rnd.to_reveal()
    rnd.reveal(sock_solver, 0, 1, 0)
    rnd.to_settlement()
    market.settleAuction(rnd.job_id, {"from": submitter})
    rnd.train(sock_solver)
    job = rnd.job_id
    pool.fund(job, {"from": submitter, "value": 1})
    pool.requestDraw(job, {"from": submitter})
    chain.mine()
    assert pool.draw(job, {"from": submitter}).events["Drawn"]["verifier"] == honest
    assert staking.lockedStake(honest) == ETH and staking.freeStake(honest) == ETH  # its membership stake only
    pool.deregister({"from": honest})  # it does not want the job: it leaves, and nothing holds its stake
    staking.requestWithdrawal(2 * ETH, {"from": honest})
    chain.sleep(UNBONDING + 1)
    chain.mine()
    assert market.state(job) == JobState.CHALLENGE  # the job is still open ...
    before = honest.balance()
    tx = staking.withdraw({"from": honest})  # ... and the verifier has all its stake back
    assert honest.balance() - before + tx.gas_used * tx.gas_price == 2 * ETH
