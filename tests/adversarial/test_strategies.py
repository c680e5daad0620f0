"""Cheating strategies, each played out by full agents on Anvil (submitter, solver agent, challenger agents, the
dispute game): every cheater is caught and loses its stake, the submitter gets its price back, the challenger is
paid; a wrong challenger loses its bond and the honest solver is paid. Balances are checked to the wei (gas added
back), and every contract holds exactly what it owes."""

import dataclasses
import random

import torch
from conftest import PRICE, STAKE, VERIFIER, WHISTLEBLOWER, contest

from trainyard import merkle
from trainyard.challenger.agent import ChallengerAgent
from trainyard.challenger.logic import ChallengerPolicy, sampled_windows
from trainyard.dispute import scenario as sc
from trainyard.dispute.client import DisputeClient, open_leaf
from trainyard.dispute.oracle import ExactOracle, Tamper
from trainyard.jobs import JobState
from trainyard.market import Market
from trainyard.pool import PoolClient
from trainyard.rounds import ChallengerSpec, SolverSpec, run_contested_round
from trainyard.runtime import commit
from trainyard.runtime.fixed import batch_indices
from trainyard.runtime.model import TrainConfig, init_state
from trainyard.status import describe_job
from trainyard.store import ContentStore, LocalStore

INTERVAL, STEPS = 4, 16
N_OPS = 15  # 7·2 + 1 for two layers
SGD_W0, END = 11, 15


# -- strategies ---------------------------------------------------------------------------------------------
def tampering(*tampers: Tamper):
    return lambda cfg, data: ExactOracle(cfg, data, tampers)


def configured(**changes):
    return lambda cfg, data: ExactOracle(dataclasses.replace(cfg, **changes), data)


def nudge(name: str, pos: int, by: int):
    def fn(live, start):
        t = live[name].clone()
        t.view(-1)[pos % t.numel()] += by
        live[name] = t

    return fn


def restore(param: str):
    """Undo a parameter's update (and its momentum's): the step is skipped."""

    def fn(live, start):
        live[param] = start[param]
        live[param + ".momentum"] = start[param + ".momentum"]

    return fn


class Replay(ExactOracle):
    """Claims the state of window w-1 again for window w (a replayed, stale checkpoint)."""

    def __init__(self, cfg: TrainConfig, data, window: int) -> None:
        super().__init__(cfg, data)
        self.lo, self.hi = window * cfg.checkpoint_interval, (window + 1) * cfg.checkpoint_interval

    def state(self, at: int):
        return super().state(self.lo if self.lo < at <= self.hi else at)


class Equivocate(ExactOracle):
    """Commits leaves from a tampered computation but answers the bisection with honest roots in between."""

    def __init__(self, cfg: TrainConfig, data, tamper: Tamper) -> None:
        super().__init__(cfg, data, (tamper,))
        self.honest = ExactOracle(cfg, data)

    def state_root(self, at: int) -> bytes:
        return super().state_root(at) if at % self.cfg.checkpoint_interval == 0 else self.honest.state_root(at)

    def machine_values(self, at: int, op: int) -> list[bytes]:
        if op == self.n_ops:
            return super().machine_values(at, op)
        return self.honest.machine_values(at, op)


class Withholding(ContentStore):
    """Keeps what the solver puts (its checkpoints) to itself; reads the public store for the rest."""

    def __init__(self, public: ContentStore, private: LocalStore) -> None:
        self.public, self.private = public, private

    def put(self, data: bytes) -> str:
        return self.private.put(data)

    def get(self, cid: str) -> bytes:
        return self.private.get(cid) if self.private.has(cid) else self.public.get(cid)


# -- balances -----------------------------------------------------------------------------------------------
def held(r, role: str) -> int:
    """Stake a role still has in Staking (free + locked + unbonding) plus unclaimed credits everywhere."""
    m = Market(r.chains[role])
    info = m.stake_info(r.addresses[role])
    return info.free + info.locked + info.unbonding + info.credits + DisputeClient(r.chains[role]).credit()


def contracts_hold_what_they_owe(r):
    c = r.chains["deployer"]
    game = DisputeClient(c)
    burned_bonds = int(c.call(game.game_contract.functions.totalBurned()))
    owed_game = sum(game.credit(a) for a in r.addresses.values())
    assert c.balance(r.contracts["DisputeGame"]) == burned_bonds + owed_game
    assert c.balance(r.contracts["JobMarket"]) == sum(
        int(c.call(Market(c).market.functions.credits(a))) for a in r.addresses.values()
    )
    staking = Market(c).staking.functions
    stakes = sum(
        held(r, role)
        - game.credit(r.addresses[role])
        - int(c.call(Market(c).market.functions.credits(r.addresses[role])))
        for role in r.addresses
    )
    assert c.balance(r.contracts["Staking"]) == stakes + int(c.call(staking.totalBurned()))


def assert_cheater_slashed(r, winner: str = "verifier") -> None:
    assert r.state is JobState.SLASHED
    assert r.delta("submitter") == 0  # the escrowed price came back
    assert r.delta(winner) == STAKE // 2  # half the stake as reward; its bond came back
    assert r.delta("solver") + held(r, "solver") == -STAKE  # the whole stake of the job is gone
    contracts_hold_what_they_owe(r)


# -- the suite ----------------------------------------------------------------------------------------------
def test_skipped_step(devnet, tmp_path, spec_path):
    skip = [Tamper(9, SGD_W0 + k, restore(p)) for k, p in enumerate(("l0.weight", "l0.bias", "l1.weight", "l1.bias"))]
    assert_cheater_slashed(contest(devnet, tmp_path, spec_path, tampering(*skip)))


def test_one_weight_perturbed_at_a_random_step(devnet, tmp_path, spec_path):
    rng = random.Random(20261124)
    step, pos = rng.randrange(STEPS), rng.randrange(20)
    assert_cheater_slashed(
        contest(devnet, tmp_path, spec_path, tampering(Tamper(step, SGD_W0, nudge("l0.weight", pos, 3))))
    )


def test_wrong_seed(devnet, tmp_path, spec_path):
    assert_cheater_slashed(contest(devnet, tmp_path, spec_path, configured(seed=12)))


def test_wrong_data_order(devnet, tmp_path, spec_path):
    data = sc.tiny_dataset()  # the job's data (conftest stores it)

    def later_batch(live, start):  # step 5 trains on the batch of step 12
        rows = data.train_index[torch.from_numpy(batch_indices(11, 12, 3, len(data.train_index)))]
        live["a0"], live["y"] = data.x[rows], data.y[rows]

    assert_cheater_slashed(contest(devnet, tmp_path, spec_path, tampering(Tamper(5, 1, later_batch))))


def test_wrong_learning_rate(devnet, tmp_path, spec_path):
    assert_cheater_slashed(contest(devnet, tmp_path, spec_path, configured(learning_rate=0.25)))


def test_relu_left_out(devnet, tmp_path, spec_path):
    def identity(live, start):
        live["a1"] = live["z0"].clone()

    assert_cheater_slashed(contest(devnet, tmp_path, spec_path, tampering(Tamper(2, 3, identity))))


def test_replayed_stale_checkpoint(devnet, tmp_path, spec_path):
    r = contest(devnet, tmp_path, spec_path, lambda cfg, data: Replay(cfg, data, window=3))
    assert_cheater_slashed(r)  # the last op would have to keep the step number: no valid reveal, its clock ran out


def test_final_model_not_from_the_trace(devnet, tmp_path, spec_path):
    def swap(live, start):  # the last step ends on another model (here: the initial weights of another seed)
        other = init_state(TrainConfig((4, 5, 3), 0.125, 3, STEPS, INTERVAL, seed=99, momentum=0.5))
        live.update(dict(other.tensors.items()))

    assert_cheater_slashed(contest(devnet, tmp_path, spec_path, tampering(Tamper(STEPS - 1, END, swap))))


def test_checkpoints_withheld(devnet, tmp_path, spec_path):
    private = LocalStore(tmp_path / "private")
    r = contest(devnet, tmp_path, spec_path, tampering(Tamper(9, SGD_W0, nudge("l0.weight", 4, 5))),
                store=lambda public: Withholding(public, private))
    assert_cheater_slashed(r)  # the verifier recomputed from the initial state


def test_equivocating_midpoints(devnet, tmp_path, spec_path):
    r = contest(devnet, tmp_path, spec_path,
                lambda cfg, data: Equivocate(cfg, data, Tamper(13, SGD_W0, nudge("l0.weight", 2, 4))))
    assert_cheater_slashed(r)


def test_stalling_solver(devnet, tmp_path, spec_path):
    r = run_contested_round(
        devnet.url,
        tmp_path / "home",
        spec_path,
        [SolverSpec("solver", PRICE, tampering(Tamper(6, SGD_W0, nudge("l1.weight", 1, 2))), defend=False)],
        [VERIFIER],
    )
    assert_cheater_slashed(r)


def test_cheat_the_verifier_does_not_sample_is_caught_by_the_whistleblower(devnet, tmp_path, spec_path):
    policy = ChallengerPolicy(sample_rate=0.25, secret=b"lazy")
    checked = sampled_windows(policy, 1, STEPS // INTERVAL)
    missed = next(w for w in range(STEPS // INTERVAL) if w not in checked)
    cheat = tampering(Tamper(missed * INTERVAL + 1, SGD_W0, nudge("l0.bias", 0, 6)))
    r = contest(devnet, tmp_path, spec_path, cheat, challengers=(ChallengerSpec("verifier", policy), WHISTLEBLOWER))
    assert_cheater_slashed(r, winner="whistleblower")
    assert r.delta("verifier") == 0


def test_wrong_challenger_loses_its_bond_and_the_honest_solver_is_paid(devnet, tmp_path, spec_path):
    wrong = ChallengerSpec("verifier", ChallengerPolicy(sample_rate=1.0), tampering(Tamper(6, 2, nudge("z0", 1, 9000))))
    r = contest(devnet, tmp_path, spec_path, None, challengers=(wrong,))
    bond = DisputeClient(r.chains["deployer"]).bond()
    assert r.state is JobState.FINALIZED and len(r.games) == 1
    assert r.delta("verifier") == -bond
    assert r.delta("solver") + held(r, "solver") == PRICE + bond // 2  # paid, plus half the bond
    assert r.delta("submitter") == -PRICE
    contracts_hold_what_they_owe(r)


# -- the verifier pool --------------------------------------------------------------------------------------
FEE = 10**16


CHEAT = Tamper(9, SGD_W0, nudge("l0.weight", 4, 5))


class CollidingVerifier(ChallengerAgent):
    """Re-executes nothing: to approve it takes the interior digests from the cheating solver (the only way to
    approve without re-executing, since an approval must open digests of states the solver never published)."""

    def _check(self, view):
        return 0, 0

    def _verify_assignment(self, view, seed):
        job = self._job(view)
        cheater = ExactOracle(job.cfg, job.data, (CHEAT,))
        trace = self.games.trace(view.job_id)
        openings = []
        for w, j in self.pool.samples(view.job_id, view.num_windows, job.cfg.checkpoint_interval):
            digests = cheater.interior_digests(w)
            openings.append((*open_leaf(trace, w), digests[j], merkle.proof(commit.interior_leaves(digests), j)))
        self._free_at_least(self.pool.stake())  # an approval locks a stake of its own, as the honest agent's does
        self.pool.approve(view.job_id, job.core.abi_tuple(), openings)
        return 1


class GuessingVerifier(ChallengerAgent):
    """Re-executes nothing and approves with made-up digests."""

    def _check(self, view):
        return 0, 0

    def _verify_assignment(self, view, seed):
        job = self._job(view)
        trace = self.games.trace(view.job_id)
        openings = [(*open_leaf(trace, w), b"\x07" * 32, [b"\x07" * 32] * 2)
                    for w, j in self.pool.samples(view.job_id, view.num_windows, job.cfg.checkpoint_interval)]
        self._free_at_least(self.pool.stake())  # an approval locks a stake of its own, as the honest agent's does
        self.pool.approve(view.job_id, job.core.abi_tuple(), openings)
        return 1


def pool_member(name, agent=ChallengerAgent, **policy):
    return ChallengerSpec(name, ChallengerPolicy(**{"sample_rate": 1.0, "secret": name.encode(), **policy}), pool=True,
                          agent=agent)


def pool_round(devnet, tmp_path, spec_path, oracle, challengers):
    return run_contested_round(devnet.url, tmp_path / "home", spec_path, [SolverSpec("solver", PRICE, oracle)],
                               challengers, verification_fee=FEE)


def test_pool_verifier_is_drawn_approves_and_earns_the_fee(devnet, tmp_path, spec_path):
    r = pool_round(devnet, tmp_path, spec_path, None, [pool_member("verifier", after_result=True)])
    pool = PoolClient(r.chains["deployer"]).assignment(r.job_id)
    assert r.state is JobState.FINALIZED and pool.approved and pool.settled
    assert pool.verifier == r.addresses["verifier"]
    shown = describe_job(Market(r.chains["deployer"]), r.job_id)  # what `trainyard status JOB` prints
    assert "verification settled: the 0.01 ETH fee was paid to the verifier" in shown
    assert r.delta("verifier") + held(r, "verifier") == FEE  # its stake is intact, the fee is earned
    assert r.delta("submitter") == -PRICE - FEE


def test_a_verifier_that_does_not_re_execute_cannot_approve(devnet, tmp_path, spec_path):
    r = pool_round(devnet, tmp_path, spec_path, None, [pool_member("verifier", GuessingVerifier)])
    a = PoolClient(r.chains["deployer"]).assignment(r.job_id)
    assert r.state is JobState.FINALIZED and a.verifier == r.addresses["verifier"] and not a.approved
    assert r.delta("verifier") + held(r, "verifier") == 0  # no fee without re-execution
    assert r.delta("submitter") == -PRICE  # its verification fee came back


def test_colluding_verifier_loses_its_stake_when_a_window_it_opened_is_proven_wrong(devnet, tmp_path, spec_path):
    # The cheater is wrong from step 9 on (window 2 and every later state), and the colluding verifier approves with
    # the cheater's digests. The whistleblower proves the first wrong window by the one-step proof. The approver's
    # assignment stake is burned exactly when that window is one its approval opened (docs/disputes.md, "When an
    # approver loses its stake"); the seed decides which, so both outcomes are checked against the rule.
    cheat = tampering(CHEAT)
    r = pool_round(devnet, tmp_path, spec_path, cheat, [pool_member("verifier", CollidingVerifier), WHISTLEBLOWER])
    pool = PoolClient(r.chains["deployer"])
    a = pool.assignment(r.job_id)
    assert r.state is JobState.SLASHED and a.approved and a.settled and a.verifier == r.addresses["verifier"]
    game = DisputeClient(r.chains["deployer"])
    proven, window = game.chain.call(game.game_contract.functions.provenWrong(r.job_id))
    assert proven and window == CHEAT.step // INTERVAL  # by the proof, in the first wrong window
    opened = {w for w, _ in pool.samples(r.job_id, STEPS // INTERVAL, INTERVAL)}
    verifier_stake = pool.stake()
    if window in opened:
        assert r.delta("verifier") + held(r, "verifier") == -verifier_stake  # burned
        assert r.chains["deployer"].events("VerifierPool", "Deregistered", 0, verifier=r.addresses["verifier"])
    else:
        assert r.delta("verifier") + held(r, "verifier") == 0  # no fee (the job did not finalize), no loss
    # the whistleblower is paid from the solver's stake only: the approver's cut is burned, never paid to anyone
    assert r.delta("whistleblower") == STAKE // 2
    assert r.delta("submitter") == 0  # price and verification fee back


def test_pool_verifier_disputes_instead_of_approving_a_wrong_result(devnet, tmp_path, spec_path):
    cheat = tampering(Tamper(13, SGD_W0, nudge("l1.weight", 2, 3)))
    r = pool_round(devnet, tmp_path, spec_path, cheat, [pool_member("verifier", after_result=True)])
    a = PoolClient(r.chains["deployer"]).assignment(r.job_id)
    assert r.state is JobState.SLASHED and not a.approved and a.settled
    assert r.delta("verifier") + held(r, "verifier") == STAKE // 2  # the game's reward; no fee, no loss
    assert r.delta("submitter") == 0
